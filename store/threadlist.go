package store

import (
	"context"
	"fmt"
	"strings"
)

// Listing by thread through messages_by_thread_order (threadorder.go):
// keyset pages like the date order, collapsed threads reduced to their
// first message.

// threadKeyset is the WHERE clause that continues after key, or "".
func threadKeyset(key MessageKey, args *[]any) string {
	if key.ThreadID == 0 {
		return ""
	}
	*args = append(*args, key.ThreadDate.Unix(), key.ThreadID, -key.ThreadPos)
	n := len(*args)
	return fmt.Sprintf(" AND (thread_date, thread_id, thread_order) < (?%d, ?%d, ?%d)", n-2, n-1, n)
}

// collapsedFilter hides all but the first message of collapsed threads.
func collapsedFilter(threads []int64, args *[]any) string {
	if len(threads) == 0 {
		return ""
	}
	marks := make([]string, len(threads))
	for i, t := range threads {
		*args = append(*args, t)
		marks[i] = fmt.Sprintf("?%d", len(*args))
	}
	return " AND (thread_order = 0 OR thread_id NOT IN (" + strings.Join(marks, ",") + "))"
}

// listThreads returns a page of mailbox mbID in thread order.
func (s *Store) listThreads(ctx context.Context, mbID int64, opts ListOptions, limit, offset int) ([]Message, error) {
	if err := s.catchUpThreads(ctx); err != nil {
		return nil, err
	}
	args := []any{mbID, limit, offset}
	where := threadKeyset(opts.After, &args) + collapsedFilter(opts.Collapsed, &args)
	msgs, err := s.queryMessages(ctx, `WHERE m.id IN (SELECT id FROM messages INDEXED BY messages_by_thread_order WHERE mailbox_id = ?1`+where+`
		ORDER BY thread_date DESC, thread_id DESC, thread_order DESC LIMIT ?2 OFFSET ?3)
		ORDER BY m.thread_date DESC, m.thread_id DESC, m.thread_order DESC`, args...)
	if err != nil || len(opts.Collapsed) == 0 {
		return msgs, err
	}
	// The size of each collapsed thread shown, and its unread count.
	collapsed := map[int64]bool{}
	for _, t := range opts.Collapsed {
		collapsed[t] = true
	}
	for i := range msgs {
		m := &msgs[i]
		if m.ThreadPos != 0 || !collapsed[m.ThreadID] {
			continue
		}
		if err := s.rdb.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(seen = 0), 0) FROM messages WHERE thread_id = ? AND mailbox_id = ?", m.ThreadID, mbID).Scan(&m.ThreadSize, &m.ThreadUnread); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// ListCount returns how many rows List can return for opts (Mailbox,
// Sort and Collapsed; paging fields ignored).
func (s *Store) ListCount(ctx context.Context, opts ListOptions) (int, error) {
	mb, err := s.Mailbox(ctx, opts.Mailbox)
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	if opts.Sort != SortThread || len(opts.Collapsed) == 0 {
		return mb.Total, nil
	}
	if err := s.catchUpThreads(ctx); err != nil {
		return 0, err
	}
	args := []any{mb.ID}
	marks := make([]string, len(opts.Collapsed))
	for i, t := range opts.Collapsed {
		args = append(args, t)
		marks[i] = "?"
	}
	var hidden int
	err = s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ? AND thread_order < 0
		AND thread_id IN (`+strings.Join(marks, ",")+`)`, args...).Scan(&hidden)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", mb.Name, err)
	}
	return mb.Total - hidden, nil
}
