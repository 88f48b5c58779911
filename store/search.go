package store

import (
	"context"
	"fmt"
)

// SearchOptions restrict and page a search.
type SearchOptions struct {
	// Mailbox restricts the search to one mailbox ("" for all; the query's
	// in: does the same).
	Mailbox string
	Offset  int
	// Limit is the page size; 50 when zero, no limit when negative.
	Limit int
}

// Search runs a query (see ParseQuery for the language) and returns the
// matching messages, newest first. A malformed query returns a
// *QueryError that points at the position.
func (s *Store) Search(ctx context.Context, query string, opts SearchOptions) ([]Message, error) {
	q, err := ParseQuery(query)
	if err != nil {
		return nil, err
	}
	limit := opts.Limit
	if limit == 0 {
		limit = 50
	}
	var mbID int64
	if opts.Mailbox != "" {
		mb, err := s.Mailbox(ctx, opts.Mailbox)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		mbID = mb.ID
	}
	order := " ORDER BY m.date DESC, m.id DESC LIMIT ? OFFSET ?"
	var msgs []Message
	if err := s.textReady(ctx, q); err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	if match, ok := q.FullTextOnly(); ok {
		// Drive the query from the full-text index, and page through the
		// matches in the covering date index so that only the rows of the
		// page are read: sorting every match by its row cost 90 ms for a
		// common word in 100,000 messages, this costs 5 (docs/BENCHMARKS.md).
		mbCond := "mailbox_id IN (SELECT id FROM mailboxes)"
		args := []any{match}
		if mbID != 0 {
			mbCond = "mailbox_id = ?"
			args = append(args, mbID)
		}
		tail := "WHERE m.id IN (SELECT id FROM messages INDEXED BY messages_by_date" +
			" WHERE id IN (SELECT rowid FROM fts WHERE fts MATCH ?) AND " + mbCond +
			" ORDER BY date DESC, id DESC LIMIT ? OFFSET ?) ORDER BY m.date DESC, m.id DESC"
		msgs, err = s.queryMessages(ctx, tail, append(args, limit, opts.Offset)...)
	} else {
		where, args, werr := q.where(s.opts.Location)
		if werr != nil {
			return nil, werr
		}
		if mbID != 0 {
			where = "(" + where + ") AND m.mailbox_id = ?"
			args = append(args, mbID)
		}
		msgs, err = s.queryMessages(ctx, "WHERE "+where+order, append(args, limit, opts.Offset)...)
	}
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	return msgs, nil
}

// Count returns how many messages match a query.
func (s *Store) Count(ctx context.Context, query string) (int, error) {
	q, err := ParseQuery(query)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.textReady(ctx, q); err != nil {
		return 0, fmt.Errorf("count %q: %w", query, err)
	}
	if match, ok := q.FullTextOnly(); ok {
		// Every full-text row has its message (Check keeps it so).
		if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM fts WHERE fts MATCH ?", match).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %q: %w", query, err)
		}
		return n, nil
	}
	where, args, err := q.where(s.opts.Location)
	if err != nil {
		return 0, err
	}
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages m WHERE "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %q: %w", query, err)
	}
	return n, nil
}
