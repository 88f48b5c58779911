package store

// Staging: the first half of AppendMany, kept apart so that a caller
// that receives messages a few at a time (a sync downloading thousands)
// can write and parse each batch as it arrives, drop the batch's bytes at
// once, and commit many batches in one transaction later. Memory then no
// longer depends on the commit size, and the commit size no longer on
// memory: one commit of a thousand messages writes one full-text segment
// and one WAL commit where thirteen commits of 75 wrote thirteen of each
// (docs/BENCHMARKS.md, issue 17).
//
// A staged message is a file in its mailbox's tmp/, written by this
// session: no reader sees it, no change is published for it, and a crash
// leaves nothing of it behind (the next Open removes a dead session's
// tmp/ files, session.go). It becomes a message only by Commit, with the
// same promises as AppendMany. A mailbox renamed between Stage and
// Commit is followed (by its id); one deleted fails the Commit.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// Staged is a set of messages written into one mailbox's tmp/ and parsed,
// not yet in the mailbox. Exactly one of Commit and Discard must follow.
// A Staged is used by one goroutine at a time.
type Staged struct {
	s       *Store
	mbID    int64
	mailbox string // canonical name
	dir     string // the mailbox directory
	// items holds every staged item in order; failed ones carry err.
	items []*prepared
	bytes int64 // octets of the staged files
	text  int64 // octets of full text held for the index
	done  bool
}

// Stage writes items into mailbox's tmp/ and parses them, in parallel,
// like the first half of AppendMany: an item that cannot be read gets its
// own error in Commit's results, the others are staged. A batch of fewer
// than batchSyncMin files is fsynced file by file as it is written; a
// larger one is left for Commit to make durable with one syncfs(2).
func (s *Store) Stage(ctx context.Context, mailbox string, items []AppendItem) (*Staged, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	mbID, dir, cname, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	st := &Staged{s: s, mbID: mbID, mailbox: cname, dir: dir, items: make([]*prepared, len(items))}
	// A large batch is made durable with one syncfs(2) after every file
	// is written, instead of an fsync per file: a sync downloading
	// thousands of messages spends most of its time in those fsyncs.
	batchSync := len(items) >= batchSyncMin && !s.opts.NoSync
	var wg sync.WaitGroup
	next := make(chan int)
	workers := min(runtime.GOMAXPROCS(0)*2, len(items))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := s.prepareItem(dir, items[i], !batchSync)
				p.unsynced = batchSync && p.err == nil
				st.items[i] = p
			}
		}()
	}
	for i := range items {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for i, p := range st.items {
		if p == nil {
			st.items[i] = &prepared{err: ctx.Err()}
			continue
		}
		if p.err == nil {
			st.bytes += p.size
			if p.parsed != nil {
				st.text += int64(len(p.parsed.BodyText))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		st.Discard()
		return nil, fmt.Errorf("append to %q: %w", cname, err)
	}
	return st, nil
}

// Len is the number of items staged, failed ones included.
func (st *Staged) Len() int { return len(st.items) }

// Bytes is the size of the staged files.
func (st *Staged) Bytes() int64 { return st.bytes }

// TextBytes is the full text the staged messages hold in memory for the
// index: what a caller bounds to bound its memory.
func (st *Staged) TextBytes() int64 { return st.text }

// Merge moves other's items after st's; other is then empty and done.
// Both must be of the same mailbox.
func (st *Staged) Merge(other *Staged) error {
	if st.done || other.done {
		return fmt.Errorf("append to %q: %w", st.mailbox, errPendingDone)
	}
	if other.s != st.s || other.mbID != st.mbID {
		return fmt.Errorf("merge staged messages of %q into %q: not the same mailbox", other.mailbox, st.mailbox)
	}
	st.items = append(st.items, other.items...)
	st.bytes += other.bytes
	st.text += other.text
	other.items, other.bytes, other.text, other.done = nil, 0, 0, true
	return nil
}

// Commit makes the staged messages messages of their mailbox: the files
// not yet durable are synced, renamed into cur/ with the directory
// synced, and their rows committed in one transaction; then the changes
// are published. It returns one result per staged item, in order (a
// failed item's Err set). On error nothing of the staged messages is
// left.
func (st *Staged) Commit(ctx context.Context) ([]AppendResult, error) {
	if st.done {
		return nil, fmt.Errorf("append to %q: %w", st.mailbox, errPendingDone)
	}
	st.done = true
	ok, err := st.durable(ctx)
	if err != nil {
		return nil, err
	}
	res, err := st.s.commitPrepared(ctx, st.mailbox, ok)
	if err != nil {
		return nil, fmt.Errorf("append to %q: %w", st.mailbox, err)
	}
	out := make([]AppendResult, len(st.items))
	j := 0
	for i, p := range st.items {
		if p.err != nil {
			out[i] = AppendResult{Err: p.err}
			continue
		}
		out[i] = res[j]
		j++
	}
	st.items = nil
	return out, nil
}

// durable makes the staged files durable where they are (syncing those
// Stage left unsynced) and returns the ones staged without error; on
// error it removes them all. It follows a renamed mailbox first.
func (st *Staged) durable(ctx context.Context) ([]*prepared, error) {
	var ok, unsynced []*prepared
	for _, p := range st.items {
		if p.err == nil {
			ok = append(ok, p)
			if p.unsynced {
				unsynced = append(unsynced, p)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		removeTmp(ok)
		return nil, fmt.Errorf("append to %q: %w", st.mailbox, err)
	}
	if err := st.follow(ctx); err != nil {
		removeTmp(ok)
		return nil, err
	}
	if len(unsynced) > 0 {
		if err := syncFiles(st.s.mailPath(st.dir, "tmp"), unsynced); err != nil {
			removeTmp(ok)
			return nil, fmt.Errorf("append to %q: %w", st.mailbox, err)
		}
	}
	return ok, nil
}

// follow finds the mailbox by its id: renamed since Stage, its files
// moved with its directory. A mailbox deleted since is ErrNotFound.
func (st *Staged) follow(ctx context.Context) error {
	var name, dir string
	err := st.s.rdb.QueryRowContext(ctx, "SELECT name, dir FROM mailboxes WHERE id = ?", st.mbID).Scan(&name, &dir)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("append to %q: %w", st.mailbox, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("append to %q: %w", st.mailbox, err)
	}
	if dir != st.dir {
		for _, p := range st.items {
			if p.err == nil {
				p.tmp = st.s.mailPath(dir, "tmp", p.key)
			}
		}
	}
	st.mailbox, st.dir = name, dir
	return nil
}

// Discard removes the staged files; it does nothing after Commit.
func (st *Staged) Discard() {
	if st.done {
		return
	}
	st.done = true
	var ok []*prepared
	for _, p := range st.items {
		if p != nil && p.err == nil {
			ok = append(ok, p)
		}
	}
	removeTmp(ok)
	st.items = nil
}
