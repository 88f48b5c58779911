package query

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// FullText reports whether the whole query is one full-text search, and
// if so returns its FTS5 MATCH expression for the fts table. Negated terms
// count only beside a positive one ("a -b" is full text, "-b" is not).
func (q *Query) FullText() (string, bool) {
	if q == nil || q.root == nil {
		return "", false
	}
	return queryFTSExpr(q.root)
}

// SQL compiles the query to an SQL condition over the store's "messages m"
// with its arguments (see the package doc for the tables it names). Days
// are interpreted in loc (UTC when nil). Full-text terms ANDed or ORed at
// the same level become one FTS5 MATCH, so a search of only words is one
// lookup in the fts table. Every value is an argument, never SQL text. The
// error wraps ErrInvalid for a nil or zero Query.
func (q *Query) SQL(loc *time.Location) (string, []any, error) {
	if q == nil || q.root == nil {
		return "", nil, fmt.Errorf("query: empty query: %w", ErrInvalid)
	}
	if loc == nil {
		loc = time.UTC
	}
	c := &queryCompiler{loc: loc}
	c.emit(q.root)
	return c.b.String(), c.args, nil
}

type queryCompiler struct {
	loc  *time.Location
	b    strings.Builder
	args []any
}

func (c *queryCompiler) match(not bool, expr string) {
	if not {
		c.b.WriteString("m.id NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
	} else {
		c.b.WriteString("m.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
	}
	c.args = append(c.args, expr)
}

func (c *queryCompiler) day(d time.Time, days int) int64 {
	return time.Date(d.Year(), d.Month(), d.Day()+days, 0, 0, 0, 0, c.loc).Unix()
}

func (c *queryCompiler) emit(n qnode) {
	if e, ok := queryFTSExpr(n); ok {
		c.match(false, e)
		return
	}
	switch n := n.(type) {
	case *qAnd:
		c.group(n.kids, true)
	case *qOr:
		c.group(n.kids, false)
	case *qNot:
		if e, ok := queryFTSExpr(n.kid); ok {
			c.match(true, e)
			return
		}
		c.b.WriteString("NOT (")
		c.emit(n.kid)
		c.b.WriteString(")")
	case *qFlag:
		c.b.WriteString(queryFlagSQL(n.name))
	case *qAttach:
		c.b.WriteString("m.has_attachment <> 0")
	case *qDate:
		switch n.op {
		case "after":
			c.b.WriteString("m.date >= ?")
			c.args = append(c.args, c.day(n.date, 0))
		case "before":
			c.b.WriteString("m.date < ?")
			c.args = append(c.args, c.day(n.date, 0))
		default: // on
			c.b.WriteString("(m.date >= ? AND m.date < ?)")
			c.args = append(c.args, c.day(n.date, 0), c.day(n.date, 1))
		}
	case *qSize:
		if n.op == "larger" {
			c.b.WriteString("m.size > ?")
		} else {
			c.b.WriteString("m.size < ?")
		}
		c.args = append(c.args, n.bytes)
	case *qMailbox:
		if n.name == "INBOX" {
			c.b.WriteString("m.mailbox_id IN (SELECT id FROM mailboxes WHERE name = ? COLLATE NOCASE)")
		} else {
			c.b.WriteString("m.mailbox_id IN (SELECT id FROM mailboxes WHERE name = ?)")
		}
		c.args = append(c.args, n.name)
	}
}

// queryFlagSQL returns the condition of is:name.
func queryFlagSQL(name string) string {
	switch name {
	case "unread":
		return "m.seen = 0"
	case "read":
		return "m.seen <> 0"
	case "unflagged":
		return "m.flagged = 0"
	}
	return "m." + name + " <> 0" // flagged, answered, draft, deleted
}

// group compiles an AND (and == true) or OR of kids. Its full-text kids
// become one MATCH; in an AND, negated full-text kids join that MATCH with
// FTS5's NOT, or become one NOT IN when there is no positive one.
func (c *queryCompiler) group(kids []qnode, and bool) {
	pos, neg, rest := querySplitFTS(kids, and)
	op := " OR "
	if and {
		op = " AND "
	}
	c.b.WriteByte('(')
	first := true
	sep := func() {
		if !first {
			c.b.WriteString(op)
		}
		first = false
	}
	switch {
	case len(pos) > 0:
		sep()
		c.match(false, queryFTSCombine(pos, neg, op))
	case len(neg) > 0:
		sep()
		c.match(true, strings.Join(neg, " OR "))
	}
	for _, k := range rest {
		sep()
		c.emit(k)
	}
	c.b.WriteByte(')')
}

// querySplitFTS sorts kids into full-text expressions, negated full-text
// expressions (only when and) and the others. Compound expressions are
// parenthesised.
func querySplitFTS(kids []qnode, and bool) (pos, neg []string, rest []qnode) {
	for _, k := range kids {
		if e, ok := queryFTSExpr(k); ok {
			pos = append(pos, queryFTSParen(k, e))
			continue
		}
		if n, ok := k.(*qNot); ok && and {
			if e, ok := queryFTSExpr(n.kid); ok {
				neg = append(neg, queryFTSParen(n.kid, e))
				continue
			}
		}
		rest = append(rest, k)
	}
	return pos, neg, rest
}

func queryFTSParen(n qnode, e string) string {
	if _, ok := n.(*qText); ok {
		return e
	}
	return "(" + e + ")"
}

func queryFTSCombine(pos, neg []string, op string) string {
	e := strings.Join(pos, op)
	if len(neg) == 0 {
		return e
	}
	if len(pos) > 1 {
		e = "(" + e + ")"
	}
	return e + " NOT (" + strings.Join(neg, " OR ") + ")"
}

// queryFTSExpr returns the FTS5 expression of n when n is made only of
// full-text terms, AND, OR, and NOT beside a positive term of the same AND.
// Every value is an FTS5 string, so user input never reaches the FTS5
// syntax.
func queryFTSExpr(n qnode) (string, bool) {
	switch n := n.(type) {
	case *qText:
		// CJK runs become the phrase of their bigrams (cjk.go).
		v, lone := queryCJK(n.value)
		e := `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		if n.prefix || lone {
			e += " *"
		}
		if col := queryFTSColumn(n.field); col != "" {
			e = "{" + col + "} : " + e
		}
		return e, true
	case *qAnd:
		return queryFTSGroup(n.kids, true)
	case *qOr:
		return queryFTSGroup(n.kids, false)
	}
	return "", false
}

// queryFTSGroup is queryFTSExpr of an AND (and == true) or OR of kids.
func queryFTSGroup(kids []qnode, and bool) (string, bool) {
	pos, neg, rest := querySplitFTS(kids, and)
	if len(rest) > 0 || len(pos) == 0 {
		return "", false
	}
	if and {
		return queryFTSCombine(pos, neg, " AND "), true
	}
	return queryFTSCombine(pos, nil, " OR "), true
}

func queryFTSColumn(field string) string {
	switch field {
	case "from", "to", "cc":
		return field + "_addr"
	}
	return field // "subject", "body" or "" for all columns
}

// UsesText reports whether the query reads the full-text index.
func (q *Query) UsesText() bool {
	var walk func(n qnode) bool
	walk = func(n qnode) bool {
		switch n := n.(type) {
		case *qText:
			return true
		case *qAnd:
			return slices.ContainsFunc(n.kids, walk)
		case *qOr:
			return slices.ContainsFunc(n.kids, walk)
		case *qNot:
			return walk(n.kid)
		}
		return false
	}
	return walk(q.root)
}
