package imapsync

// The store lane: a mailbox's store work after its network work (the
// flag changes, the expunges, the saved state, and the wait for its new
// messages' writers) runs on its own goroutine while the connection's
// goroutine fetches the next mailbox, so the two overlap instead of
// adding up. An incremental sync of four mailboxes spends as long on the
// store as on the network; in sequence it paid for both.
//
// One mailbox's work runs at a time, in the order given; run waits for
// the previous one to finish before it starts the next, so at most one
// mailbox's work is pending beside the connection's (its memory is
// bounded as before). The errors and successes are handed to done on
// the goroutine that called run or wait, never concurrently.

// lane runs the store work of mailboxes one at a time, beside the caller.
type lane struct {
	done    func(rb remoteBox, err error)
	pending chan laneResult // the running work's result, when there is one
}

type laneResult struct {
	rb  remoteBox
	err error
}

// newLane returns a lane that reports each mailbox's outcome to done.
func newLane(done func(rb remoteBox, err error)) *lane {
	return &lane{done: done}
}

// run waits for the previous mailbox's work, then starts tail (nil: none,
// the mailbox is done).
func (l *lane) run(rb remoteBox, tail func() error) {
	l.wait()
	if tail == nil {
		l.done(rb, nil)
		return
	}
	ch := make(chan laneResult, 1)
	l.pending = ch
	go func() { ch <- laneResult{rb, tail()} }()
}

// wait waits for the running work, if any, and reports it.
func (l *lane) wait() {
	if l.pending == nil {
		return
	}
	r := <-l.pending
	l.pending = nil
	l.done(r.rb, r.err)
}
