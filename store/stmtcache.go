package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// sqlTx is what the insert helpers need from a transaction: *sql.Tx, or
// a cachedTx that reuses prepared statements.
type sqlTx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// The statements of the append path, prepared once per open store.
const (
	qInsertMessage = `INSERT INTO messages(id, mailbox_id, uid, modseq, flags, seen, answered, flagged, deleted, draft,
		internal_date, size, file, date, from_addr, to_addr, cc_addr, subject, message_id, in_reply_to, refs, thread_id, has_attachment, preview)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertText      = "INSERT INTO fts(rowid, from_addr, to_addr, cc_addr, subject, body) VALUES(?, ?, ?, ?, ?, ?)"
	qInsertPending   = "INSERT INTO fts_pending(message_id) VALUES(?)"
	qThreadOfRef     = "SELECT thread_id FROM thread_refs WHERE message_id = ?"
	qThreadBySubject = "SELECT id FROM threads WHERE subject = ? AND last_date BETWEEN ? AND ? ORDER BY last_date DESC LIMIT 1"
	qInsertThread    = "INSERT INTO threads(subject, last_date) VALUES(?, ?)"
	qTouchThread     = "UPDATE threads SET last_date = MAX(last_date, ?) WHERE id = ?"
	qSetFlags        = "UPDATE messages SET flags = ?, seen = ?, answered = ?, flagged = ?, deleted = ?, draft = ?, modseq = ?, file = ? WHERE id = ?"
	qUpsertThreadRef = "INSERT INTO thread_refs(message_id, thread_id) VALUES(?, ?) ON CONFLICT(message_id) DO UPDATE SET thread_id = excluded.thread_id"
	// Once per transaction of appends (indexPlacedLocked, withTx).
	qMailboxUIDs  = "SELECT uidvalidity, uidnext FROM mailboxes WHERE id = ?"
	qBumpMailbox  = "UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, total = total + ?, unread = unread + ? WHERE id = ?"
	qSaveCounters = "INSERT INTO meta(key, value) VALUES('modseq', ?), ('lastid', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value"
)

var hotQueries = []string{qInsertMessage, qInsertText, qInsertPending, qThreadOfRef, qThreadBySubject, qInsertThread, qTouchThread, qUpsertThreadRef, qSetFlags,
	qMailboxUIDs, qBumpMailbox, qSaveCounters}

// stmtCache keeps the writer connection's hot statements prepared: the
// driver otherwise parses the SQL of every insert again, which was a
// tenth of the cost of a delivery.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// prepare prepares the hot statements on the writer connection. It must
// run outside any transaction: the writer pool has one connection, so a
// Prepare while a transaction holds it would wait forever.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.db = db
	c.m = map[string]*sql.Stmt{}
	for _, q := range hotQueries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		c.m[q] = st
	}
	return nil
}

// get returns the prepared statement for q, or nil for one not prepared.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// cachedTx runs statements of tx through the cache.
type cachedTx struct {
	*sql.Tx
	c *stmtCache
}

func (t cachedTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.c.get(q); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.c.get(q); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}
