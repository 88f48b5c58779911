package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
)

// Group commit: concurrent Appends (an SMTP server delivering for many
// sessions at once) share one rename pass, one directory fsync and one
// transaction instead of paying for each. Every caller still returns only
// after its own message is durable.
//
// The leader of a batch takes every pending append and does two things
// at once: it makes the files durable and places them (one sync of the
// batch's files, see syncFiles, then renames into cur/ and the directory
// fsync, under fmu), while a goroutine writes their index rows in a
// transaction (under wmu) that commits only after every file is placed,
// and rolls back if any could not be. The leader hands leadership on as
// soon as the files are placed, so batch N+1's files are synced and
// placed while batch N's transaction commits, and batch N+1's rows are
// written as soon as it has.

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
	syncer  sync.Mutex // held by the leader syncing and placing a batch
}

// groupCommit commits ps to mailbox together with whatever other appends
// are waiting.
func (s *Store) groupCommit(ctx context.Context, mailbox string, ps []*prepared) ([]AppendResult, error) {
	g := &s.gc
	w := &commitWaiter{mailbox: mailbox, ps: ps, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, w)
	g.mu.Unlock()

	g.syncer.Lock()
	g.mu.Lock()
	if w.taken { // an earlier leader took it
		g.mu.Unlock()
		g.syncer.Unlock()
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
		mbID    int64 // looked up for the transaction
		placed  int64 // the id placeFiles found, under fmu
		lookErr error // of the lookup; set before the index goroutine starts
		err     error // of the file stage
		res     []AppendResult
		txErr   error // of the index stage
	}
	var groups []*group
	byBox := map[string]*group{}
	var unsynced []*prepared
	for _, x := range batch {
		gr := byBox[x.mailbox]
		if gr == nil {
			gr = &group{mailbox: x.mailbox}
			byBox[x.mailbox] = gr
			groups = append(groups, gr)
		}
		gr.ws = append(gr.ws, x)
		gr.ps = append(gr.ps, x.ps...)
		for _, p := range x.ps {
			if p.unsynced {
				unsynced = append(unsynced, p)
			}
		}
	}
	for _, gr := range groups {
		gr.mbID, _, _, gr.lookErr = s.mailboxDirRead(bctx, gr.mailbox)
	}

	// The index rows are written beside the file work and committed
	// only once every file is placed: the transaction's CPU overlaps the
	// flushes instead of following them.
	filesDone := make(chan struct{})
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		lockErr := s.lockWrite() // the previous batch has committed
		if lockErr != nil {
			<-filesDone
			for _, gr := range groups {
				gr.txErr = lockErr
			}
			return
		}
		defer s.wmu.Unlock()
		for _, gr := range groups {
			if gr.lookErr != nil {
				gr.txErr = gr.lookErr
				continue
			}
			gr.res, gr.txErr = s.indexLocked(bctx, gr.mailbox, gr.mbID, gr.ps, func() error {
				<-filesDone
				if gr.err != nil {
					return gr.err
				}
				if gr.placed != gr.mbID {
					return fmt.Errorf("mailbox %q was replaced during the append: %w", gr.mailbox, ErrNotFound)
				}
				return nil
			})
		}
	}()

	// The batch's files are made durable together before any is renamed
	// into cur/: a message file in cur/ is always complete.
	var syncErr error
	if len(unsynced) > 0 {
		syncErr = syncFiles(filepath.Join(s.root, "mail"), unsynced)
	}
	for _, gr := range groups {
		switch {
		case syncErr != nil:
			removeTmp(gr.ps)
			gr.err = syncErr
		case gr.lookErr != nil:
			removeTmp(gr.ps) // no transaction will index them
			gr.err = gr.lookErr
		default:
			gr.placed, gr.err = s.placeFiles(bctx, gr.mailbox, gr.ps)
		}
	}
	close(filesDone)
	// The next batch syncs and places its files while this one commits.
	g.syncer.Unlock()
	<-indexed
	for _, gr := range groups {
		if gr.txErr != nil && gr.err == nil {
			// Placed, but not indexed (the transaction may have failed
			// before the files were placed): not acknowledged, so gone.
			s.unplaceFailed(gr.ps, gr.placed)
		}
		err := gr.txErr
		if err == nil {
			err = gr.err
		}
		i := 0
		for _, x := range gr.ws {
			if err != nil {
				x.err = err
			} else {
				x.res = gr.res[i : i+len(x.ps)]
			}
			i += len(x.ps)
			close(x.done)
		}
	}
	<-w.done
	return w.res, w.err
}
