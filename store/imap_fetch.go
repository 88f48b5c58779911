package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// IMAPFetch returns the messages with the given UIDs of the mailbox with
// id mailboxID, in UID order, UIDs that do not exist skipped; what an
// IMAP server's FETCH reads from the index. Only ID, MailboxID, Mailbox,
// UID, ModSeq, Flags, InternalDate, Size and File are set: FETCH takes
// the rest from the message's structure (Structures) or its file.
//
// A client downloading a mailbox may fetch each message with a command of
// its own (mbsync does): one UID is looked up by the mailbox's id (no
// lookup of its name first) with a statement prepared once per store,
// instead of Fetch's two queries, each parsed anew, and the address
// columns Fetch decodes from JSON. Those were half of the server's time
// serving mbsync.
func (s *Store) IMAPFetch(ctx context.Context, mailboxID int64, uids []uint32) ([]Message, error) {
	if len(uids) == 1 {
		st, err := s.rstmts.get(ctx, s.rdb, qIMAPFetchOne)
		if err != nil {
			return nil, fmt.Errorf("fetch mailbox %d: %w", mailboxID, err)
		}
		rows, err := st.QueryContext(ctx, mailboxID, uids[0])
		if err != nil {
			return nil, fmt.Errorf("fetch mailbox %d: %w", mailboxID, err)
		}
		return scanIMAPRows(rows, mailboxID)
	}
	var out []Message
	for _, chunk := range chunkUIDs(uids, 500) {
		rows, err := s.rdb.QueryContext(ctx, qIMAPFetch+"m.uid IN ("+placeholders(len(chunk))+") ORDER BY m.uid",
			append([]any{mailboxID}, uidArgs(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("fetch mailbox %d: %w", mailboxID, err)
		}
		msgs, err := scanIMAPRows(rows, mailboxID)
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	return out, nil
}

const (
	qIMAPFetch = `SELECT m.id, mb.name, mb.dir, m.uid, m.modseq, m.flags, m.internal_date, m.size, m.file
		FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE m.mailbox_id = ? AND `
	qIMAPFetchOne = qIMAPFetch + "m.uid = ?"
)

func scanIMAPRows(rows *sql.Rows, mailboxID int64) ([]Message, error) {
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m := Message{MailboxID: mailboxID}
		var dir, flags string
		var idate int64
		if err := rows.Scan(&m.ID, &m.Mailbox, &dir, &m.UID, &m.ModSeq, &flags, &idate, &m.Size, &m.File); err != nil {
			return nil, fmt.Errorf("fetch mailbox %d: %w", mailboxID, err)
		}
		m.File = filepath.Join("mail", dir, m.File)
		m.Flags = splitFlags(flags)
		m.InternalDate = time.Unix(idate, 0)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fetch mailbox %d: %w", mailboxID, err)
	}
	return out, nil
}

// readStmts are statements prepared on the reader pool when first used
// (database/sql prepares each again on every connection it runs on).
type readStmts struct {
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	closed bool
}

func (c *readStmts) get(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if st := c.m[q]; st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st, nil
}

func (c *readStmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}
