package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// String returns the canonical form of the query: keywords and field names
// as documented, the minimum of quotes and parentheses, dates as
// YYYY-MM-DD, sizes in the largest exact unit. Parsing it gives the same
// query.
func (q *Query) String() string {
	if q == nil || q.root == nil {
		return ""
	}
	var b strings.Builder
	formatQuery(&b, q.root)
	return b.String()
}

func formatQuery(b *strings.Builder, n qnode) {
	sub := func(k qnode, min int) {
		if k.prec() < min {
			b.WriteByte('(')
			formatQuery(b, k)
			b.WriteByte(')')
		} else {
			formatQuery(b, k)
		}
	}
	switch n := n.(type) {
	case *qAnd:
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(' ')
			}
			sub(k, 2)
		}
	case *qOr:
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(" OR ")
			}
			sub(k, 1)
		}
	case *qNot:
		b.WriteByte('-')
		sub(n.kid, 3)
	case *qText:
		if n.field != "" {
			b.WriteString(n.field + ":")
		}
		writeQueryValue(b, n.value, n.field == "")
		if n.prefix {
			b.WriteByte('*')
		}
	case *qFlag:
		b.WriteString("is:" + n.name)
	case *qAttach:
		b.WriteString("has:attachment")
	case *qDate:
		b.WriteString(n.op + ":" + n.date.Format(time.DateOnly))
	case *qSize:
		b.WriteString(n.op + ":" + formatQuerySize(n.bytes))
	case *qMailbox:
		b.WriteString("in:")
		writeQueryValue(b, n.name, false)
	}
}

// writeQueryValue writes v bare when it lexes back as the same value, quoted
// otherwise. A bare word (no field) must also not look like a keyword, a
// field or a negation.
func writeQueryValue(b *strings.Builder, v string, bare bool) {
	quote := v == "" || strings.HasSuffix(v, "*") || strings.ContainsFunc(v, func(r rune) bool {
		return unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' || r == '\\'
	})
	if bare {
		quote = quote || v == "OR" || v == "AND" || v == "NOT" || v[0] == '-' || strings.Contains(v, ":")
	}
	if !quote {
		b.WriteString(v)
		return
	}
	b.WriteByte('"')
	b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v))
	b.WriteByte('"')
}

func formatQuerySize(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"G", 1 << 30}, {"M", 1 << 20}, {"k", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// FullTextOnly reports whether the whole query is one full-text search, and
// if so returns its FTS5 MATCH expression for the fts table. Negated terms
// count only beside a positive one ("a -b" is full text, "-b" is not).
func (q *Query) FullTextOnly() (string, bool) {
	if q == nil || q.root == nil {
		return "", false
	}
	return queryFTSExpr(q.root)
}

// where compiles the query to an SQL condition over "messages m" with its
// arguments. Days are interpreted in loc (UTC when nil). Full-text terms
// ANDed or ORed at the same level become one FTS5 MATCH, so a search of
// only words is one lookup in the fts table.
func (q *Query) where(loc *time.Location) (string, []any, error) {
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
		e := `"` + strings.ReplaceAll(n.value, `"`, `""`) + `"`
		if n.prefix {
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

// usesText reports whether the query reads the full-text index.
func (q *Query) usesText() bool {
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

// NamesMailbox reports whether the query has an in: term anywhere (also
// negated or inside OR), so that the caller knows the query chooses its
// own mailboxes and a folder scope must not be added to it.
func (q *Query) NamesMailbox() bool {
	if q == nil {
		return false
	}
	var walk func(n qnode) bool
	walk = func(n qnode) bool {
		switch n := n.(type) {
		case *qMailbox:
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
