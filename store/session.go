package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// Sessions: every open Store is a session with a random id, alive while
// the process holds ROOT/sessions/ID locked (lock.go). The index keeps
// what a session that dies must leave for others to reconcile:
//
//	sessions       id, pid, start: written durably (a full fsync) before
//	               the session's first write, deleted by Close; a row
//	               whose session is not alive is a session that crashed
//	session_dirty  (session, mailbox): written before the session's first
//	               file operation in that mailbox (markDirty), deleted by
//	               Close
//
// Rules that follow:
//   - Close records a mailbox's directory mtimes (so the next Open need
//     not rescan it) only when no other session, alive or dead, has it
//     marked: another live session may have files in flight there, and a
//     dead one's leftovers must still be found.
//   - Open reconciles (recoverDead) every mailbox marked by a dead
//     session, and the mailboxes no live session has marked whose
//     directories changed since their mtimes were recorded (another
//     program wrote there). Mailboxes only live sessions write to are
//     left alone: opening a store beside a running interface costs no
//     rescan.
//   - A file a live session is placing (its name carries the session id,
//     uniqueName) is never taken for an orphan, nor removed from tmp/.

// ensureSession records this session durably before its first write; the
// caller holds wmu. A session that only reads (list, search, a sync with
// nothing new) costs no fsync. On failure (a full disk) the write that
// follows reports it.
func (s *Store) ensureSession(ctx context.Context) {
	if s.marked {
		return
	}
	q := "INSERT OR IGNORE INTO sessions(id, pid, started) VALUES(?, ?, ?)"
	args := []any{s.session, os.Getpid(), time.Now().Unix()}
	if s.opts.NoSync {
		if _, err := s.wdb.ExecContext(ctx, q, args...); err == nil {
			s.marked = true
		}
		return
	}
	if _, err := s.wdb.ExecContext(ctx, "PRAGMA synchronous=FULL"); err != nil {
		return
	}
	_, err := s.wdb.ExecContext(ctx, q, args...)
	if _, err2 := s.wdb.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err == nil && err2 == nil {
		s.marked = true
	}
}

// isMarked reports whether this session marked a mailbox dirty.
func (s *Store) isMarked(id int64) bool {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	return s.dirty[id]
}

// markDirty records that this session is about to change the files of
// the mailboxes ids, unless it did already; the caller holds wmu. It
// runs its own small transaction, committed before any file moves: a
// crash after the move finds the mark (see the rules above).
func (s *Store) markDirty(ctx context.Context, ids ...int64) error {
	var need []int64
	for _, id := range ids {
		if !s.isMarked(id) {
			need = append(need, id)
		}
	}
	if len(need) == 0 {
		return nil
	}
	s.ensureSession(ctx)
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mark dirty: %w", err)
	}
	for _, id := range need {
		if err := markDirtyTx(ctx, tx, s.session, id); err != nil {
			tx.Rollback()
			return fmt.Errorf("mark dirty: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mark dirty: %w", err)
	}
	s.dirtyMu.Lock()
	for _, id := range need {
		s.dirty[id] = true
	}
	s.dirtyMu.Unlock()
	return nil
}

// markDirtyTx marks mailbox id dirty for session in tx, and zeroes its
// recorded directory mtimes.
func markDirtyTx(ctx context.Context, tx *sql.Tx, session string, id int64) error {
	if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO session_dirty(session, mailbox_id) VALUES(?, ?)", session, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "UPDATE mailboxes SET cur_mtime = 0, new_mtime = 0 WHERE id = ?", id)
	return err
}

// markForAppend marks the mailbox of an append dirty, taking the writer
// lock only the first time in a session.
func (s *Store) markForAppend(ctx context.Context, mailbox string) error {
	id, _, _, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil || s.isMarked(id) {
		return err
	}
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	return s.markDirty(ctx, id)
}

// endSession records the directory mtimes of the mailboxes this session
// marked that nobody else has marked, and removes the session's rows;
// the caller holds wmu.
func (s *Store) endSession(ctx context.Context) error {
	if !s.marked {
		return nil
	}
	mbs, err := s.mailboxRows(ctx)
	if err != nil {
		return err
	}
	for _, mb := range mbs {
		if !s.isMarked(mb.id) {
			continue
		}
		var others int
		if err := s.wdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM session_dirty WHERE mailbox_id = ? AND session != ?", mb.id, s.session).Scan(&others); err != nil {
			return err
		}
		if others == 0 {
			if err := s.recordMtimes(ctx, mb); err != nil {
				return err
			}
		}
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, q := range []string{"DELETE FROM session_dirty WHERE session = ?", "DELETE FROM sessions WHERE id = ?"} {
		if _, err := tx.ExecContext(ctx, q, s.session); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.marked = false
	return nil
}

// deadSessions lists the sessions of the index that are not alive, and
// the mailboxes each session (alive or dead) has marked.
func (s *Store) deadSessions(ctx context.Context, live *liveness) (dead map[string]bool, deadMarks, liveMarks map[int64]bool, err error) {
	dead = map[string]bool{}
	rows, err := s.wdb.QueryContext(ctx, "SELECT id FROM sessions")
	if err != nil {
		return nil, nil, nil, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, nil, err
		}
		if !live.alive(id) {
			dead[id] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, nil, err
	}
	deadMarks, liveMarks = map[int64]bool{}, map[int64]bool{}
	rows, err = s.wdb.QueryContext(ctx, "SELECT session, mailbox_id FROM session_dirty")
	if err != nil {
		return nil, nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var mb int64
		if err := rows.Scan(&id, &mb); err != nil {
			return nil, nil, nil, err
		}
		if live.alive(id) {
			liveMarks[mb] = true
		} else {
			// A mark without a session row is a dead session's too.
			dead[id] = true
			deadMarks[mb] = true
		}
	}
	return dead, deadMarks, liveMarks, rows.Err()
}

// recoverDead reconciles what dead sessions left: the mailboxes they
// marked are rescanned (orphans indexed with the identity their names
// carry, rows without files dropped), then their rows go. It takes the
// writer lock; LockSync calls it so a sync never runs beside a killed
// sync's leftovers.
func (s *Store) recoverDead(ctx context.Context) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	var rep Report
	return s.reconcileLocked(ctx, &rep, false)
}

// forgetDead removes the rows and lock files of dead sessions whose
// marks are all reconciled; the caller holds wmu.
func (s *Store) forgetDead(ctx context.Context, dead map[string]bool, legacy bool) error {
	if len(dead) == 0 && !legacy {
		return nil
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for id := range dead {
		for _, q := range []string{"DELETE FROM session_dirty WHERE session = ?", "DELETE FROM sessions WHERE id = ?"} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				tx.Rollback()
				return err
			}
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = 'open'"); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for id := range dead {
		removeDeadSession(s.root, id)
	}
	return nil
}

// legacyUnclean reports whether a letterbox from before sessions left its
// open flag set (it did not Close).
func (s *Store) legacyUnclean(ctx context.Context) (bool, error) {
	var open string
	err := s.wdb.QueryRowContext(ctx, "SELECT value FROM meta WHERE key='open'").Scan(&open)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return open == "1", err
}
