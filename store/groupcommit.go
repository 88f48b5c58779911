package store

import (
	"context"
	"sync"
)

// Group commit: concurrent Appends (an SMTP server delivering for many
// sessions at once) share one rename pass, one directory fsync and one
// transaction instead of paying for each. Every caller still returns only
// after its own message is durable; a caller either commits the whole
// pending batch as leader or waits for the leader that took its message.

type commitWaiter struct {
	mailbox string
	ps      []*prepared
	res     []AppendResult
	err     error
	done    chan struct{}
}

type groupCommitter struct {
	mu      sync.Mutex // guards pending
	pending []*commitWaiter
	leader  sync.Mutex // held by the goroutine committing a batch
}

// groupCommit commits ps to mailbox together with whatever other appends
// are waiting.
func (s *Store) groupCommit(ctx context.Context, mailbox string, ps []*prepared) ([]AppendResult, error) {
	g := &s.gc
	w := &commitWaiter{mailbox: mailbox, ps: ps, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, w)
	g.mu.Unlock()

	g.leader.Lock()
	select {
	case <-w.done: // an earlier leader committed it
		g.leader.Unlock()
		return w.res, w.err
	default:
	}
	g.mu.Lock()
	batch := g.pending
	g.pending = nil
	g.mu.Unlock()
	// The batch outlives this caller's context: others wait on it.
	bctx := context.WithoutCancel(ctx)
	var order []string
	byBox := map[string][]*commitWaiter{}
	for _, x := range batch {
		if _, ok := byBox[x.mailbox]; !ok {
			order = append(order, x.mailbox)
		}
		byBox[x.mailbox] = append(byBox[x.mailbox], x)
	}
	for _, mb := range order {
		ws := byBox[mb]
		var all []*prepared
		for _, x := range ws {
			all = append(all, x.ps...)
		}
		res, err := s.commitPrepared(bctx, mb, all)
		i := 0
		for _, x := range ws {
			if err != nil {
				x.err = err
			} else {
				x.res = res[i : i+len(x.ps)]
			}
			i += len(x.ps)
			close(x.done)
		}
	}
	g.leader.Unlock()
	<-w.done
	return w.res, w.err
}
