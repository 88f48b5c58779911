package query

import (
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
