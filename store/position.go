package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Position returns the row (0 first) that message id has in the listing
// of opts.Mailbox in opts.Sort order (List's order with opts.Collapsed;
// paging fields are ignored), so that a listing reopened in another order, or after a
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
		if err = s.catchUpThreads(ctx); err != nil {
			return 0, fmt.Errorf("position: %w", err)
		}
		if m, err = s.Get(ctx, id); err != nil { // as laid out now
			return 0, fmt.Errorf("position: %w", err)
		}
		// A message hidden in a collapsed thread is at its thread's first
		// row.
		key := m.Key()
		for _, t := range opts.Collapsed {
			if t == m.ThreadID {
				key.ThreadPos = 0
			}
		}
		args := []any{mb.ID}
		after := threadKeyset(key, &args)
		after = strings.Replace(after, "<", ">", 1)
		after += collapsedFilter(opts.Collapsed, &args)
		err = s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM messages INDEXED BY messages_by_thread_order
			WHERE mailbox_id = ?1`+after, args...).Scan(&n)
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
