package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Failed journal entries: a change the server refused for good is not
// deleted. It stays in the journal with the server's words, marked in
// journal_failed (schema 7), so that the user sees it (letterbox changes,
// the interface) and retries or drops it; sync skips it meanwhile.

// JournalGiveUp marks entry id failed for good with reason (the server's
// words): one more attempt, reason as its last error.
func (s *Store) JournalGiveUp(ctx context.Context, id int64, reason string) error {
	return s.journalMark(ctx, "journal give up", id, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE journal SET attempts = attempts + 1, last_error = ? WHERE id = ?", reason, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO journal_failed(journal_id, failed_at) VALUES(?, ?)", id, time.Now().Unix())
		return err
	})
}

// JournalRetry clears the failed mark and the attempts of entry id, so
// the next sync replays it again. An entry that does not exist is
// ErrNotFound.
func (s *Store) JournalRetry(ctx context.Context, id int64) error {
	return s.journalMark(ctx, "journal retry", id, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM journal_failed WHERE journal_id = ?", id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE journal SET attempts = 0 WHERE id = ?", id)
		return err
	})
}

// journalMark runs change on entry id in one write transaction, after
// checking that the entry exists.
func (s *Store) journalMark(ctx context.Context, what string, id int64, change func(tx *sql.Tx) error) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM journal WHERE id = ?", id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return change(tx)
	})
	if err != nil {
		return fmt.Errorf("%s %d: %w", what, id, err)
	}
	return nil
}
