package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrateCJK brings a store of schema version from to version 11, whose
// full-text rows index Chinese, Japanese and Korean runs as bigrams
// (query.IndexCJK): the old rows cannot be re-tokenised (the table is
// contentless), so the table is emptied and every message queued in
// fts_pending; the deferred indexer (textindex.go) rebuilds it from the
// message files in the background after Open, and a search first
// catches up what is left, as after any deferred delivery.
func migrateCJK(ctx context.Context, db *sql.DB, from int) error {
	if from == 0 || from >= 11 {
		return nil // a new store has nothing indexed yet
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		"DELETE FROM fts",
		"INSERT OR IGNORE INTO fts_pending(message_id) SELECT id FROM messages",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("re-index for CJK: %w", err)
		}
	}
	return tx.Commit()
}
