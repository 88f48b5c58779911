package imapsync

// The store lane: a mailbox's store work after its network work (the
// flag changes, the expunges, the saved state, and the wait for its new
// messages' writers) runs on its own goroutine while the connection's
// goroutine fetches the next mailboxes, so the two overlap instead of
// adding up. An incremental sync of four mailboxes spends longer on the
// store than on the network: with one mailbox's work allowed beside the
// connection, the connection sat idle while the store finished the
// mailbox before last (bench/all.sh, row incr: INBOX's 40 new messages
// took longer to store than Archive took to fetch).
//
// The work of mailboxes runs one at a time, in the order given (each
// waits for the one before it); at most laneDepth mailboxes' work is
// pending beside the connection: run waits for the oldest before it
// queues another. What a pending mailbox holds is its flag changes and
// its new messages' writers, which hold at most two fetched chunks
// (headers.go); so the fetched data in memory is bounded by laneDepth+1
// mailboxes' writers. In a full sync a mailbox's fetch is held back by
// its own writers, so the connection runs ahead of the store only past
// mailboxes small enough to fetch while the one before is being stored.
// The errors and successes are handed to done on the goroutine that
// called run or wait, in order, never concurrently.

// laneDepth is how many mailboxes' store work may be pending beside the
// connection.
const laneDepth = 3

// lane runs the store work of mailboxes one at a time, beside the caller.
type lane struct {
	done    func(rb remoteBox, err error)
	depth   int
	pending []*laneWork // queued or running, oldest first
}

// laneWork is one mailbox's store work; fin is closed once err is set.
type laneWork struct {
	rb  remoteBox
	err error
	fin chan struct{}
}

// newLane returns a lane that reports each mailbox's outcome to done.
func newLane(done func(rb remoteBox, err error)) *lane {
	return &lane{done: done, depth: laneDepth}
}

// run queues tail (nil: none, the mailbox is done once the work before
// it is), first waiting for the oldest work when depth are pending.
func (l *lane) run(rb remoteBox, tail func() error) {
	for len(l.pending) >= l.depth {
		l.next()
	}
	w := &laneWork{rb: rb, fin: make(chan struct{})}
	var prev chan struct{}
	if n := len(l.pending); n > 0 {
		prev = l.pending[n-1].fin
	}
	l.pending = append(l.pending, w)
	go func() {
		defer close(w.fin)
		if prev != nil {
			<-prev
		}
		if tail != nil {
			w.err = tail()
		}
	}()
}

// next waits for the oldest work and reports it.
func (l *lane) next() {
	w := l.pending[0]
	l.pending = l.pending[1:]
	<-w.fin
	l.done(w.rb, w.err)
}

// wait waits for all the work queued and reports it.
func (l *lane) wait() {
	for len(l.pending) > 0 {
		l.next()
	}
}
