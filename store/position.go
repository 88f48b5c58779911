package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Position returns the row (0 first) that message id has in the listing
// of opts.Mailbox in opts.Sort order (List's order; paging fields are
// ignored), so that a listing reopened in another order, or after a
// search, can open where that message is. The error wraps ErrNotFound
// when the message is not in that mailbox.
func (s *Store) Position(ctx context.Context, opts ListOptions, id int64) (int, error) {
	mb, err := s.Mailbox(ctx, opts.Mailbox)
	if err != nil {
		return 0, fmt.Errorf("position: %w", err)
	}
	m, err := s.Get(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("position: %w", err)
	}
	if m.MailboxID != mb.ID {
		return 0, fmt.Errorf("position of message %d in %s: %w", id, mb.Name, ErrNotFound)
	}
	var n int
	switch opts.Sort {
	case SortThread:
		var last int64
		err = s.rdb.QueryRowContext(ctx, "SELECT last_date FROM threads WHERE id = ?", m.ThreadID).Scan(&last)
		if err == nil {
			err = s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM messages m JOIN threads t ON t.id = m.thread_id
				WHERE m.mailbox_id = ?1 AND (t.last_date > ?2 OR t.last_date = ?2 AND m.thread_id > ?3
				OR m.thread_id = ?3 AND (m.date < ?4 OR m.date = ?4 AND m.id < ?5))`,
				mb.ID, last, m.ThreadID, m.Date.Unix(), m.ID).Scan(&n)
		}
	default:
		err = s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM messages INDEXED BY messages_by_date
			WHERE mailbox_id = ?1 AND (date, id) > (?2, ?3)`, mb.ID, m.Date.Unix(), m.ID).Scan(&n)
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("position of message %d in %s: %w", id, mb.Name, err)
	}
	return n, nil
}
