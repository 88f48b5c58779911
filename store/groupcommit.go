package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
)

// Group commit: concurrent Appends (an SMTP server delivering for many
// sessions at once) share one rename pass, one directory fsync and one
// transaction instead of paying for each. Every caller still returns only
// after its own message is durable.
//
// A commit has three stages: syncing the batch's files (one syncfs, see
// syncFiles), placing them (renames into cur/ and the directory fsync,
// under fmu) and indexing them (the transaction, under wmu). The leader
// of a batch takes every pending append and syncs their files; it hands
// the sync to the next batch before renaming, and the renaming before
// indexing. So three batches are in flight at once: batch N+2's files
// are synced while batch N+1's are renamed and batch N's transaction
// commits. The stages keep the batches' order (each takes the next
// stage's lock before it lets go of its own), and each batch still
// renames only files already durable and commits only renamed files.

type commitWaiter struct {
	mailbox string
	ps      []*prepared
	res     []AppendResult
	err     error
	taken   bool // a leader took it; guarded by groupCommitter.mu
	done    chan struct{}
}

type groupCommitter struct {
	mu      sync.Mutex // guards pending and taken
	pending []*commitWaiter
	leader  sync.Mutex // held by the goroutine syncing a batch's files
	placer  sync.Mutex // held by the goroutine renaming a batch into cur/
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
	g.mu.Lock()
	if w.taken { // an earlier leader took it
		g.mu.Unlock()
		g.leader.Unlock()
		<-w.done
		return w.res, w.err
	}
	batch := g.pending
	g.pending = nil
	for _, x := range batch {
		x.taken = true
	}
	g.mu.Unlock()
	// The batch outlives this caller's context: others wait on it.
	bctx := context.WithoutCancel(ctx)
	type group struct {
		mailbox string
		ws      []*commitWaiter
		ps      []*prepared
		mbID    int64
		err     error
	}
	var groups []*group
	byBox := map[string]*group{}
	for _, x := range batch {
		gr := byBox[x.mailbox]
		if gr == nil {
			gr = &group{mailbox: x.mailbox}
			byBox[x.mailbox] = gr
			groups = append(groups, gr)
		}
		gr.ws = append(gr.ws, x)
		gr.ps = append(gr.ps, x.ps...)
	}
	var unsynced []*prepared
	for _, x := range batch {
		for _, p := range x.ps {
			if p.unsynced {
				unsynced = append(unsynced, p)
			}
		}
	}
	// The batch's files are made durable together before any is renamed
	// into cur/: a message file in cur/ is always complete.
	var syncErr error
	if len(unsynced) > 0 {
		syncErr = syncFiles(filepath.Join(s.root, "mail"), unsynced)
	}
	if s.opts.afterSync != nil {
		s.opts.afterSync()
	}
	// Hand the sync on before renaming: the next batch's syncfs runs
	// while this batch's renames and directory fsync do.
	g.placer.Lock()
	g.leader.Unlock()
	for _, gr := range groups {
		if syncErr != nil {
			removeTmp(gr.ps)
			gr.err = syncErr
			continue
		}
		gr.mbID, gr.err = s.placeFiles(bctx, gr.mailbox, gr.ps)
	}
	// Take the writer before handing the placing on: the next batch is
	// placed while this transaction commits, and appends that arrive
	// meanwhile gather into the batch after it.
	lockErr := s.lockWrite()
	g.placer.Unlock()
	if lockErr == nil {
		defer s.wmu.Unlock()
	}
	for _, gr := range groups {
		var res []AppendResult
		err := gr.err
		if err == nil && lockErr != nil {
			err = errors.Join(lockErr, s.unplaceFailed(gr.ps, gr.mbID))
		} else if err == nil {
			res, err = s.indexPlacedLocked(bctx, gr.mailbox, gr.mbID, gr.ps)
		}
		i := 0
		for _, x := range gr.ws {
			if err != nil {
				x.err = err
			} else {
				x.res = res[i : i+len(x.ps)]
			}
			i += len(x.ps)
			close(x.done)
		}
	}
	<-w.done
	return w.res, w.err
}
