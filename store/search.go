package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/letterbox-mail/letterbox/store/query"
)

// QueryError reports a malformed query (see query.Error); Search and Count
// return it, and it also wraps ErrInvalid.
type QueryError = query.Error

// SearchOptions scope a search or a count to a mailbox, and page a search.
type SearchOptions struct {
	// Mailbox scopes the query to one mailbox ("" for all) by the rule of
	// query.Scope: a query that names a mailbox itself (in:, also negated)
	// is left alone, any other is ANDed with in:Mailbox. When it applies,
	// a Mailbox that does not exist is ErrNotFound.
	Mailbox string
	// Offset and Limit page the results of Search; Count ignores them.
	Offset int
	// Limit is the page size; 50 when zero, no limit when negative.
	Limit int
}

// Search runs a query (see query.Parse for the language) and returns the
// matching messages, newest first. A malformed query returns a
// *QueryError that points at the position.
func (s *Store) Search(ctx context.Context, text string, opts SearchOptions) ([]Message, error) {
	plan, err := s.planQuery(ctx, text, opts.Mailbox)
	if err != nil || plan.none {
		return nil, err
	}
	limit := opts.Limit
	if limit == 0 {
		limit = 50
	}
	const order = " ORDER BY m.date DESC, m.id DESC LIMIT ? OFFSET ?"
	var msgs []Message
	if match, ok := plan.rest.FullText(); ok {
		// Drive the query from the full-text index, and page through the
		// matches in the covering date index so that only the rows of the
		// page are read: sorting every match by its row cost 90 ms for a
		// common word in 100,000 messages, this costs 5 (docs/BENCHMARKS.md).
		mbCond := "mailbox_id IN (SELECT id FROM mailboxes)"
		args := []any{match}
		if plan.mbID != 0 {
			mbCond = "mailbox_id = ?"
			args = append(args, plan.mbID)
		}
		tail := "WHERE m.id IN (SELECT id FROM messages INDEXED BY messages_by_date" +
			" WHERE id IN (SELECT rowid FROM fts WHERE fts MATCH ?) AND " + mbCond +
			" ORDER BY date DESC, id DESC LIMIT ? OFFSET ?) ORDER BY m.date DESC, m.id DESC"
		msgs, err = s.queryMessages(ctx, tail, append(args, limit, opts.Offset)...)
	} else {
		where, args := plan.where()
		msgs, err = s.queryMessages(ctx, "WHERE "+where+order, append(args, limit, opts.Offset)...)
	}
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", text, err)
	}
	return msgs, nil
}

// Count returns how many messages match a query, scoped by opts.Mailbox as
// Search scopes it.
func (s *Store) Count(ctx context.Context, text string, opts SearchOptions) (int, error) {
	plan, err := s.planQuery(ctx, text, opts.Mailbox)
	if err != nil || plan.none {
		return 0, err
	}
	var n int
	if match, ok := plan.rest.FullText(); ok {
		// Every full-text row has its message (Check keeps it so).
		sqlText, args := "SELECT COUNT(*) FROM fts WHERE fts MATCH ?", []any{match}
		if plan.mbID != 0 {
			// Driven by the matches (rowid lookups), not by a scan of the
			// mailbox's rows: "+" keeps SQLite off the mailbox_id index,
			// which read all 10,000 rows of a mailbox to count a rare word.
			sqlText = "SELECT COUNT(*) FROM messages WHERE +mailbox_id = ? AND id IN (SELECT rowid FROM fts WHERE fts MATCH ?)"
			args = []any{plan.mbID, match}
		}
		if err := s.rdb.QueryRowContext(ctx, sqlText, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %q: %w", text, err)
		}
		return n, nil
	}
	where, args := plan.where()
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages m WHERE "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %q: %w", text, err)
	}
	return n, nil
}

// queryPlan is a parsed, scoped query ready to run: the messages of
// mailbox mbID (0: every mailbox) that match rest (nil: all of them).
type queryPlan struct {
	mbID int64
	rest *query.Query
	none bool // the query names a mailbox that does not exist
	loc  *time.Location
}

// where compiles the plan to an SQL condition over "messages m".
func (p *queryPlan) where() (string, []any) {
	var where string
	var args []any
	if p.rest != nil {
		// Only a zero Query fails to compile, and Parse never returns one.
		where, args, _ = p.rest.SQL(p.loc)
	}
	switch {
	case p.mbID == 0:
	case where == "":
		where, args = "m.mailbox_id = ?", []any{p.mbID}
	default:
		where, args = "("+where+") AND m.mailbox_id = ?", append(args, p.mbID)
	}
	return where, args
}

// planQuery parses text, scopes it to mailbox (query.Scope), and takes a
// top-level in: term off as a mailbox id, so that a scoped query runs
// through the mailbox's indexes. The full-text index is caught up first
// when the query reads it.
func (s *Store) planQuery(ctx context.Context, text, mailbox string) (*queryPlan, error) {
	q, err := query.Parse(text)
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			return nil, invalidQuery{qe}
		}
		return nil, err
	}
	if mailbox != "" && !q.NamesMailbox() {
		mb, err := s.Mailbox(ctx, mailbox)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", text, err)
		}
		q = query.Scope(q, mb.Name)
	}
	if err := s.textReady(ctx, q); err != nil {
		return nil, fmt.Errorf("search %q: %w", text, err)
	}
	p := &queryPlan{rest: q, loc: s.opts.Location}
	if name, rest, ok := q.SplitMailbox(); ok {
		id, found, err := s.mailboxIDForQuery(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", text, err)
		}
		p.mbID, p.rest, p.none = id, rest, !found
	}
	return p, nil
}

// mailboxIDForQuery finds the mailbox of in:name with the semantics of the
// compiled in: term (query.Query.SQL): the exact name, INBOX in any case.
func (s *Store) mailboxIDForQuery(ctx context.Context, name string) (int64, bool, error) {
	cond := "name = ?"
	if name == Inbox {
		cond = "name = ? COLLATE NOCASE"
	}
	var id int64
	err := s.rdb.QueryRowContext(ctx, "SELECT id FROM mailboxes WHERE "+cond, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("mailbox %q: %w", name, err)
	}
	return id, true, nil
}

// invalidQuery is a *query.Error that also wraps the store's ErrInvalid,
// so callers can test either.
type invalidQuery struct{ err *query.Error }

func (e invalidQuery) Error() string   { return e.err.Error() }
func (e invalidQuery) Unwrap() []error { return []error{e.err, ErrInvalid} }
