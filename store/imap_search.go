package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Filter is a structured condition on the messages of one mailbox, shaped
// after IMAP SEARCH keys (RFC 9051 section 6.4.4) so an IMAP server can
// hand its search to the index as one SQL query. All set fields must hold
// (AND); the zero Filter matches every message.
//
// Dates are instants: the caller turns IMAP's calendar days into the
// bounds of those days in its time zone.
type Filter struct {
	// UIDs, when not nil, keeps messages whose UID is in the set; an empty
	// non-nil set matches nothing.
	UIDs []UIDRange
	// Flags must all be set; NotFlags must all be unset. Case-insensitive.
	Flags, NotFlags []string
	// Since and Before bound the internal date: Since <= d < Before.
	Since, Before time.Time
	// SentSince and SentBefore bound the Date header field (the internal
	// date for a message without one): SentSince <= d < SentBefore.
	SentSince, SentBefore time.Time
	// Larger and Smaller bound the size: Larger < size < Smaller; zero is
	// no bound.
	Larger, Smaller int64
	// Header are substring matches on indexed header fields; see
	// FilterHeaderIndexed.
	Header []HeaderMatch
	// Body and Text are full-text terms: the words of the value, next to
	// each other, in the body (Body) or in the body or the indexed header
	// fields From, To, Cc and Subject (Text). Matching is by whole words,
	// case and diacritics ignored, as RFC 9051 section 6.4.4 allows for
	// BODY and TEXT. A value without letters or digits matches every
	// message when it is blank and no message otherwise.
	Body, Text []string
	// Not holds filters none of which may match.
	Not []Filter
	// Or holds pairs of filters of which at least one must match.
	Or [][2]Filter
}

// UIDRange is the closed range Start..Stop of UIDs.
type UIDRange struct{ Start, Stop uint32 }

// HeaderMatch is a case-insensitive (ASCII) substring match on a header
// field's decoded value.
type HeaderMatch struct {
	Key, Value string
}

// FilterHeaderIndexed reports whether a HeaderMatch on the field key with
// a non-empty value can be answered from the index: From, To and Cc (each
// address as "Name <addr>", decoded), Subject (decoded), Message-ID and
// In-Reply-To (with angle brackets). Other fields, and empty values (which
// ask whether the field exists), need the message header.
func FilterHeaderIndexed(key, value string) bool {
	if value == "" {
		return false
	}
	switch strings.ToLower(key) {
	case "from", "to", "cc", "subject", "message-id", "in-reply-to":
		return true
	}
	return false
}

// SearchUIDs returns, in ascending order, the UIDs of the messages of
// mailbox that match f. The whole filter is compiled to one SQL query;
// a HeaderMatch that FilterHeaderIndexed refuses is an ErrInvalid.
func (s *Store) SearchUIDs(ctx context.Context, mailbox string, f *Filter) ([]uint32, error) {
	mb, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	c := &filterCompiler{}
	if err := c.filter(f); err != nil {
		return nil, fmt.Errorf("search %s: %w", mb.Name, err)
	}
	q := "SELECT m.uid FROM messages m WHERE m.mailbox_id = ?"
	args := []any{mb.ID}
	if c.text {
		if err := s.catchUpText(ctx); err != nil {
			return nil, fmt.Errorf("search %s: %w", mb.Name, err)
		}
	}
	if c.b.Len() > 0 {
		q += " AND " + c.b.String()
		args = append(args, c.args...)
	}
	rows, err := s.rdb.QueryContext(ctx, q+" ORDER BY m.uid", args...)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", mb.Name, err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("search %s: %w", mb.Name, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

type filterCompiler struct {
	b    strings.Builder
	args []any
	text bool // reads the full-text index
}

// cond appends one condition, ANDed with the previous ones.
func (c *filterCompiler) cond(sql string, args ...any) {
	if c.b.Len() > 0 {
		c.b.WriteString(" AND ")
	}
	c.b.WriteString(sql)
	c.args = append(c.args, args...)
}

// sub compiles f on its own and returns its condition ("1" when empty).
func (c *filterCompiler) sub(f *Filter) (string, []any, error) {
	k := &filterCompiler{}
	if err := k.filter(f); err != nil {
		return "", nil, err
	}
	if k.b.Len() == 0 {
		return "1", nil, nil
	}
	return k.b.String(), k.args, nil
}

func (c *filterCompiler) filter(f *Filter) error {
	if f.UIDs != nil {
		c.uids(f.UIDs)
	}
	for _, fl := range f.Flags {
		sql, args := flagCond(fl, true)
		c.cond(sql, args...)
	}
	for _, fl := range f.NotFlags {
		sql, args := flagCond(fl, false)
		c.cond(sql, args...)
	}
	if !f.Since.IsZero() {
		c.cond("m.internal_date >= ?", f.Since.Unix())
	}
	if !f.Before.IsZero() {
		c.cond("m.internal_date < ?", f.Before.Unix())
	}
	if !f.SentSince.IsZero() {
		c.cond("m.date >= ?", f.SentSince.Unix())
	}
	if !f.SentBefore.IsZero() {
		c.cond("m.date < ?", f.SentBefore.Unix())
	}
	if f.Larger > 0 {
		c.cond("m.size > ?", f.Larger)
	}
	if f.Smaller > 0 {
		c.cond("m.size < ?", f.Smaller)
	}
	for _, h := range f.Header {
		if err := c.header(h); err != nil {
			return err
		}
	}
	for _, v := range f.Body {
		c.fullText("body", v)
	}
	for _, v := range f.Text {
		c.fullText("", v)
	}
	for i := range f.Not {
		sql, args, err := c.sub(&f.Not[i])
		if err != nil {
			return err
		}
		c.cond("NOT ("+sql+")", args...)
	}
	for _, pair := range f.Or {
		a, aargs, err := c.sub(&pair[0])
		if err != nil {
			return err
		}
		b, bargs, err := c.sub(&pair[1])
		if err != nil {
			return err
		}
		c.cond("(("+a+") OR ("+b+"))", append(aargs, bargs...)...)
	}
	return nil
}

// uids compiles a UID set: a few ranges as BETWEENs, many as one JSON
// array walked by json_each, so the expression depth stays small.
func (c *filterCompiler) uids(set []UIDRange) {
	if len(set) == 0 {
		c.cond("0")
		return
	}
	if len(set) <= 16 {
		parts := make([]string, len(set))
		var args []any
		for i, r := range set {
			parts[i] = "m.uid BETWEEN ? AND ?"
			args = append(args, min(r.Start, r.Stop), max(r.Start, r.Stop))
		}
		c.cond("("+strings.Join(parts, " OR ")+")", args...)
		return
	}
	pairs := make([][2]uint32, len(set))
	for i, r := range set {
		pairs[i] = [2]uint32{min(r.Start, r.Stop), max(r.Start, r.Stop)}
	}
	js, _ := json.Marshal(pairs)
	c.cond("EXISTS (SELECT 1 FROM json_each(?) r WHERE m.uid BETWEEN json_extract(r.value, '$[0]') AND json_extract(r.value, '$[1]'))", string(js))
}

// flagCond is the condition that flag is set (want) or unset.
func flagCond(flag string, want bool) (string, []any) {
	col := ""
	for _, sf := range systemFlags {
		if strings.EqualFold(flag, sf) {
			col = "m." + strings.ToLower(sf[1:])
		}
	}
	if col != "" {
		if want {
			return col + " <> 0", nil
		}
		return col + " = 0", nil
	}
	// Keywords: the flags column is a space-separated list.
	cond := "instr(' ' || lower(m.flags) || ' ', ?) > 0"
	if !want {
		cond = "instr(' ' || lower(m.flags) || ' ', ?) = 0"
	}
	return cond, []any{" " + strings.ToLower(flag) + " "}
}

func (c *filterCompiler) header(h HeaderMatch) error {
	if !FilterHeaderIndexed(h.Key, h.Value) {
		return fmt.Errorf("header field %q is not indexed: %w", h.Key, ErrInvalid)
	}
	v := strings.ToLower(h.Value)
	switch strings.ToLower(h.Key) {
	case "from", "to", "cc":
		col := "m." + strings.ToLower(h.Key) + "_addr"
		c.cond("EXISTS (SELECT 1 FROM json_each("+col+") a WHERE instr(lower(CASE WHEN coalesce(json_extract(a.value, '$.name'), '') = '' THEN '' ELSE json_extract(a.value, '$.name') || ' ' END || '<' || coalesce(json_extract(a.value, '$.addr'), '') || '>'), ?) > 0)", v)
	case "subject":
		c.cond("instr(lower(m.subject), ?) > 0", v)
	case "message-id":
		c.cond("m.message_id <> '' AND instr(lower('<' || m.message_id || '>'), ?) > 0", v)
	case "in-reply-to":
		c.cond("m.in_reply_to <> '' AND instr(lower('<' || m.in_reply_to || '>'), ?) > 0", v)
	}
	return nil
}

// fullText matches the words of v in column col ("" for all columns).
func (c *filterCompiler) fullText(col, v string) {
	words := strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		if strings.TrimSpace(v) == "" {
			return // the empty string is in every message
		}
		c.cond("0")
		return
	}
	expr := `"` + strings.ReplaceAll(strings.Join(words, " "), `"`, `""`) + `"`
	if col != "" {
		expr = "{" + col + "} : " + expr
	}
	c.text = true
	c.cond("m.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)", expr)
}
