package store

// The first stage of a commit: prepared files are renamed into cur/ with
// their sync identity in the name, the directory is made durable, and
// the files are registered as "placing" until their rows are committed
// (indexPlaced, append.go) or removed again when the commit fails.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// placeFiles is the first stage of a commit: it renames the prepared files
// into cur/ and fsyncs the directory. It holds fmu, not wmu, so the
// group committer can place the next batch while the previous one's
// transaction commits. Placed files are registered so that a concurrent
// Check does not take them for orphans before indexPlaced runs.
func (s *Store) placeFiles(ctx context.Context, mailbox string, ps []*prepared) (int64, error) {
	// The session's mark comes first, so a crash after the renames leads
	// the next Open to the files (session.go).
	if err := s.markForAppend(ctx, mailbox); err != nil {
		removeTmp(ps)
		return 0, err
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.closed.Load() {
		removeTmp(ps)
		return 0, ErrClosed
	}
	// Look the mailbox up under fmu: a rename or delete of it holds fmu
	// too. The reader pool is used because the writer connection may be
	// busy with the previous batch's transaction.
	mbID, dir, _, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		removeTmp(ps)
		return 0, err
	}
	var renamed []*prepared
	undo := func() {
		for _, p := range renamed {
			os.Remove(s.mailPath(dir, p.finalRel))
		}
		removeTmp(ps)
	}
	for _, p := range ps {
		// The name carries the message's sync identity (identity.go).
		p.finalRel = "cur/" + p.key + identityFields(p.remote) + ":2," + MaildirFlags(p.flags)
		p.dir = dir
		src := p.tmp
		if filepath.Dir(src) != s.mailPath(dir, "tmp") {
			// The mailbox was renamed while the file was written.
			src = s.mailPath(dir, "tmp", p.key)
		}
		if err := renameFile(src, s.mailPath(dir, p.finalRel)); err != nil {
			undo()
			return 0, fmt.Errorf("rename into cur: %w", err)
		}
		renamed = append(renamed, p)
	}
	if err := s.fsyncDir(s.mailPath(dir, "cur")); err != nil {
		undo()
		return 0, err
	}
	s.placingMu.Lock()
	for _, p := range ps {
		s.placing[p.key] = true
	}
	s.placingMu.Unlock()
	if s.opts.afterPlace != nil {
		s.opts.afterPlace()
	}
	return mbID, nil
}

// unplace forgets placed files once their rows are committed.
func (s *Store) unplace(ps []*prepared) {
	s.placingMu.Lock()
	for _, p := range ps {
		delete(s.placing, p.key)
	}
	s.placingMu.Unlock()
}

// unplaceFailed removes placed files whose rows could not be committed:
// their messages were not acknowledged. The mailbox's directory is looked
// up again (a rename may have moved it since placeFiles); when that
// fails, the directory of the placement is used. A file that could not be
// removed is returned as an error: the next Open would index it as an
// orphan. The caller may hold wmu (the lock order is wmu before fmu).
func (s *Store) unplaceFailed(ps []*prepared, mbID int64) error {
	s.fmu.Lock()
	defer s.unplace(ps)
	defer s.fmu.Unlock()
	var dir string
	lookupErr := s.rdb.QueryRow("SELECT dir FROM mailboxes WHERE id = ?", mbID).Scan(&dir)
	var errs []error
	for _, p := range ps {
		d := dir
		if lookupErr != nil {
			d = p.dir
		}
		if d == "" || p.finalRel == "" {
			continue
		}
		err := os.Remove(s.mailPath(d, p.finalRel))
		switch {
		case err == nil:
		case os.IsNotExist(err) && lookupErr == nil:
		case os.IsNotExist(err):
			errs = append(errs, fmt.Errorf("remove uncommitted %s: mailbox %d not found (%v); the file may remain", p.finalRel, mbID, lookupErr))
		default:
			errs = append(errs, fmt.Errorf("remove uncommitted %s: %w", p.finalRel, err))
		}
	}
	return errors.Join(errs...)
}

// isPlacing reports whether a Maildir key is placed but not yet indexed.
func (s *Store) isPlacing(key string) bool {
	s.placingMu.Lock()
	defer s.placingMu.Unlock()
	return s.placing[key]
}
