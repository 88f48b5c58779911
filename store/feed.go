package store

import "sync"

// feed fans committed changes out to subscribers without ever blocking the
// writer: each subscriber has a pending list and a buffered(1) channel
// that says "there is something to pull".
type feed struct {
	mu   sync.Mutex
	subs map[*Subscription]bool
}

// Subscription receives the store's committed changes. Wait on C, then
// call Pull. C is closed when the subscription or the store is closed.
type Subscription struct {
	// C has a value when changes are pending.
	C <-chan struct{}

	c       chan struct{}
	f       *feed
	mu      sync.Mutex
	pending []Change
	closed  bool
}

// Subscribe starts a subscription to the store's changes.
func (s *Store) Subscribe() *Subscription {
	c := make(chan struct{}, 1)
	sub := &Subscription{C: c, c: c, f: &s.feed}
	s.feed.mu.Lock()
	if s.feed.subs == nil {
		s.feed.subs = map[*Subscription]bool{}
	}
	s.feed.subs[sub] = true
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
	sub.f.mu.Lock()
	delete(sub.f.subs, sub)
	sub.f.mu.Unlock()
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
