package query

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that parsing never panics, that errors are *Error
// wrapping ErrInvalid with a position inside the query, that the canonical
// form of a query parses to the same query, that every query compiles, and
// that Scope and SplitMailbox keep their promises. store's FuzzParseQuery
// runs the compiled SQL against the store's schema.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`from:ann subject:"q3 report" has:attachment after:2026-01-01 is:unread words`,
		`report`,
		`rep*`,
		`"two words"*`,
		`from:ann@example.com`,
		`to:bob cc:carl body:invoice`,
		`subject:"q3 report" OR subject:q4`,
		`is:unread OR is:flagged`,
		`-is:read -has:attachment`,
		`NOT from:bob is:read`,
		`(report OR invoice) has:attachment`,
		`holiday -(photos OR invoice)`,
		`a AND b OR c AND d`,
		`in:inbox -in:"Old mail" in:Archive/2025`,
		`larger:10k smaller:2M larger:1G smaller:500`,
		`on:2026-01-01 before:2026-02-01 after:2025-12-31`,
		`café Größe e-mail`,
		`"say \"hi\"" a\b`,
		`"OR" "AND" "NOT" or and not`,
		`10:30 "http://example.com"`,
		`foo(bar) ((a)) ()`,
		`form:ann`,
		`is:foo has:pdf`,
		`after:2026-02-30 larger:10x`,
		`a OR`,
		`"unclosed`,
		`--a NOT NOT b`,
		`"@@" -"@@" *`,
		"a\tb\nc\x00",
		`a (b OR -(c (d OR -(e f))))`,
		`from:a* (to:b OR subject:"c d"* -body:e)`,
	} {
		f.Add(s)
	}
	loc := time.FixedZone("UTC-5", -5*3600)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): error %v is not a *Error wrapping ErrInvalid", s, err)
			}
			if qe.Pos < 0 || qe.Pos > len(s) {
				t.Fatalf("Parse(%q): error position %d out of range", s, qe.Pos)
			}
			_ = qe.Caret()
			return
		}
		canon := q.String()
		q2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) gives %q, which does not parse: %v", s, canon, err)
		}
		if again := q2.String(); again != canon {
			t.Fatalf("Parse(%q) gives %q, which gives %q", s, canon, again)
		}
		if q2.NamesMailbox() != q.NamesMailbox() {
			t.Fatalf("NamesMailbox of %q and of its canonical form %q differ", s, canon)
		}
		if _, _, err := q.SQL(loc); err != nil {
			t.Fatalf("SQL(%q): %v", s, err)
		}
		scoped := Scope(q, "Box")
		if q.NamesMailbox() {
			if scoped != q {
				t.Fatalf("Scope(%q) changed a query that names its mailbox: %q", s, scoped)
			}
		} else {
			box, rest, ok := scoped.SplitMailbox()
			if !ok || box != "Box" || rest == nil || rest.String() != canon {
				t.Fatalf("Scope(%q) = %q, which splits into %q, %q, %v", s, scoped, box, rest, ok)
			}
			if !scoped.NamesMailbox() {
				t.Fatalf("Scope(%q) = %q names no mailbox", s, scoped)
			}
		}
		if _, _, err := scoped.SQL(loc); err != nil {
			t.Fatalf("SQL(Scope(%q)): %v", s, err)
		}
		if box, rest, ok := q.SplitMailbox(); ok {
			if !q.NamesMailbox() || box == "" && !strings.Contains(canon, `in:""`) {
				t.Fatalf("SplitMailbox(%q) = %q, %q", s, box, rest)
			}
			if rest != nil {
				if _, _, err := rest.SQL(loc); err != nil {
					t.Fatalf("SQL of the rest of %q: %v", s, err)
				}
			}
		}
	})
}
