package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Snapshot is a consistent view of one mailbox, read in one read
// transaction: what an IMAP server needs to SELECT it (RFC 9051 section
// 6.3.2). Every change to the mailbox with a MODSEQ above
// Mailbox.HighestModSeq happened after the snapshot; changes at or below it
// are already in it.
type Snapshot struct {
	Mailbox Mailbox
	// UIDs are the mailbox's UIDs in ascending order.
	UIDs []uint32
	// FirstUnseen is the lowest UID without \Seen, 0 when there is none.
	FirstUnseen uint32
}

// Snapshot reads a consistent snapshot of mailbox.
func (s *Store) Snapshot(ctx context.Context, mailbox string) (*Snapshot, error) {
	cname, err := CanonicalName(mailbox)
	if err != nil {
		return nil, err
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("snapshot %q: %w", cname, err)
	}
	defer tx.Rollback()
	mb, err := scanMailbox(tx.QueryRowContext(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE name = ?", cname))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("snapshot %q: %w", cname, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot %q: %w", cname, err)
	}
	snap := &Snapshot{Mailbox: *mb, UIDs: make([]uint32, 0, mb.Total)}
	rows, err := tx.QueryContext(ctx, "SELECT uid, seen FROM messages WHERE mailbox_id = ? ORDER BY uid", mb.ID)
	if err != nil {
		return nil, fmt.Errorf("snapshot %q: %w", cname, err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid uint32
		var seen int
		if err := rows.Scan(&uid, &seen); err != nil {
			return nil, fmt.Errorf("snapshot %q: %w", cname, err)
		}
		if seen == 0 && snap.FirstUnseen == 0 {
			snap.FirstUnseen = uid
		}
		snap.UIDs = append(snap.UIDs, uid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshot %q: %w", cname, err)
	}
	return snap, nil
}

// MailboxUsage is what IMAP STATUS asks beyond the counts of Mailbox.
type MailboxUsage struct {
	// Deleted counts messages flagged \Deleted (STATUS DELETED).
	Deleted int
	// Size is the total size in bytes (STATUS SIZE, RFC 8438).
	Size int64
}

// Usage returns the number of \Deleted messages and the total size of
// mailbox.
func (s *Store) Usage(ctx context.Context, mailbox string) (MailboxUsage, error) {
	mb, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return MailboxUsage{}, err
	}
	var u MailboxUsage
	var del sql.NullInt64
	var size sql.NullInt64
	err = s.rdb.QueryRowContext(ctx, "SELECT SUM(deleted <> 0), SUM(size) FROM messages WHERE mailbox_id = ?", mb.ID).Scan(&del, &size)
	if err != nil {
		return u, fmt.Errorf("usage of %s: %w", mb.Name, err)
	}
	u.Deleted, u.Size = int(del.Int64), size.Int64
	return u, nil
}
