package store

import "sync"

// feed fans committed changes out to subscribers without ever blocking the
// writer: each subscriber has a pending list and a buffered(1) channel
// that says "there is something to pull".
//
// A process's own changes are published after their commit by the write
// that made them. Other processes' changes are found by a poll
// (feed_poll.go) that runs while the store has subscribers; it skips the
// MODSEQs this process handed out (noteOwn), so nothing is announced
// twice.
type feed struct {
	s    *Store
	mu   sync.Mutex
	subs map[*Subscription]bool
	poll *poller // running while subs is not empty

	ownMu sync.Mutex
	own   map[uint64]bool // MODSEQs committed by this process, not yet polled past
}

// Subscription receives the store's committed changes, this process's and
// other processes'. Wait on C, then call Pull. C is closed when the
// subscription or the store is closed.
type Subscription struct {
	// C has a value when changes are pending.
	C <-chan struct{}

	c       chan struct{}
	f       *feed
	mu      sync.Mutex
	pending []Change
	closed  bool
}

// Subscribe starts a subscription to the store's changes. While a store
// has subscribers it polls the index about four times a second for
// changes made by other processes; they arrive as the same Change
// values, within about 250 ms.
func (s *Store) Subscribe() *Subscription {
	c := make(chan struct{}, 1)
	sub := &Subscription{C: c, c: c, f: &s.feed}
	s.feed.mu.Lock()
	if s.feed.subs == nil {
		s.feed.subs = map[*Subscription]bool{}
	}
	s.feed.subs[sub] = true
	if s.feed.poll == nil && !s.closed.Load() {
		s.feed.poll = s.startPoll()
	}
	s.feed.mu.Unlock()
	if s.closed.Load() {
		sub.Close()
	}
	return sub
}

// Pull returns and forgets the pending changes, oldest first.
func (sub *Subscription) Pull() []Change {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	out := sub.pending
	sub.pending = nil
	return out
}

// Close ends the subscription and closes C.
func (sub *Subscription) Close() {
	var stop *poller
	sub.f.mu.Lock()
	delete(sub.f.subs, sub)
	if len(sub.f.subs) == 0 {
		stop, sub.f.poll = sub.f.poll, nil
	}
	sub.f.mu.Unlock()
	stop.stop()
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if !sub.closed {
		sub.closed = true
		close(sub.c)
	}
}

func (f *feed) publish(changes []Change) {
	if len(changes) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for sub := range f.subs {
		sub.mu.Lock()
		if !sub.closed {
			sub.pending = append(sub.pending, changes...)
			select {
			case sub.c <- struct{}{}:
			default:
			}
		}
		sub.mu.Unlock()
	}
}

func (f *feed) closeAll() {
	f.mu.Lock()
	subs := make([]*Subscription, 0, len(f.subs))
	for sub := range f.subs {
		subs = append(subs, sub)
	}
	f.mu.Unlock()
	for _, sub := range subs {
		sub.Close()
	}
}

// noteOwn records that this process committed MODSEQs first+1..last
// (withTx calls it before the commit, with wmu held). Without a poll
// running nothing needs them, and what an earlier write noted is dropped.
func (f *feed) noteOwn(first, last uint64) {
	f.mu.Lock()
	polling := f.poll != nil
	f.mu.Unlock()
	f.ownMu.Lock()
	defer f.ownMu.Unlock()
	if f.own == nil {
		f.own = map[uint64]bool{}
	}
	if !polling {
		clear(f.own)
	}
	for m := first + 1; m <= last; m++ {
		f.own[m] = true
	}
}

// isOwn reports whether this process committed MODSEQ m.
func (f *feed) isOwn(m uint64) bool {
	f.ownMu.Lock()
	defer f.ownMu.Unlock()
	return f.own[m]
}

// allOwn reports whether this process committed every MODSEQ in
// (from, to], so a poll has nothing to look up.
func (f *feed) allOwn(from, to uint64) bool {
	f.ownMu.Lock()
	defer f.ownMu.Unlock()
	for m := from + 1; m <= to; m++ {
		if !f.own[m] {
			return false
		}
	}
	return true
}

// forgetOwn drops the noted MODSEQs up to m, which a poll has passed.
func (f *feed) forgetOwn(m uint64) {
	f.ownMu.Lock()
	defer f.ownMu.Unlock()
	for k := range f.own {
		if k <= m {
			delete(f.own, k)
		}
	}
}

// stopPoll stops the poll when the store closes.
func (s *Store) stopPoll() {
	s.feed.mu.Lock()
	p := s.feed.poll
	s.feed.poll = nil
	s.feed.mu.Unlock()
	p.stop()
}
