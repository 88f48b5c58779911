package query

import (
	"errors"
	"strings"
	"testing"
)

func TestParseQueryString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`from:ann  subject:"q3 report"   has:attachment`, `from:ann subject:"q3 report" has:attachment`},
		{`From:Ann SUBJECT:x`, `from:Ann subject:x`},
		{`a AND b`, `a b`},
		{`a OR b c`, `a OR b c`},
		{`a AND b OR c AND d`, `a b OR c d`},
		{`(a OR b) c`, `(a OR b) c`},
		{`((a))`, `a`},
		{`a (b c)`, `a b c`},
		{`a OR (b OR c)`, `a OR b OR c`},
		{`NOT a b`, `-a b`},
		{`-a OR b`, `-a OR b`},
		{`-(a b)`, `-(a b)`},
		{`NOT (a OR b)`, `-(a OR b)`},
		{`--a`, `--a`},
		{`"foo"`, `foo`},
		{`"OR" "AND" "NOT" or`, `"OR" "AND" "NOT" or`},
		{`"a:b" 10:30`, `"a:b" "10:30"`},
		{`"-x" subject:-x`, `"-x" subject:-x`},
		{`"foo*" "foo"* foo** "two words"*`, `"foo*" foo* foo* "two words"*`},
		{`from:ann* subject:"q3 rep"*`, `from:ann* subject:"q3 rep"*`},
		{`a*b`, `a*b`},
		{`is:UNREAD is:read is:Flagged is:unflagged is:answered is:draft is:deleted`, `is:unread is:read is:flagged is:unflagged is:answered is:draft is:deleted`},
		{`has:Attachment`, `has:attachment`},
		{`after:2026-01-02 before:2026-02-01 on:2024-02-29`, `after:2026-01-02 before:2026-02-01 on:2024-02-29`},
		{`larger:10240 smaller:2mb larger:1024M larger:500B larger:0 smaller:1536 larger:3g`, `larger:10k smaller:2M larger:1G larger:500 larger:0 smaller:1536 larger:3G`},
		{`in:inbox in:"Old mail" in:Archive/2025 in:Inbox.sub`, `in:INBOX in:"Old mail" in:Archive/2025 in:Inbox.sub`},
		{`"say \"hi\"" a\b`, `"say \"hi\"" "a\\b"`},
		{`e-mail from:ann@example.com subject:re:hello`, `e-mail from:ann@example.com subject:re:hello`},
		{`café Größe`, `café Größe`},
		{`foo(bar)`, `foo bar`},
		{"a\tb\nc", `a b c`},
		{`ab"cd"`, `ab cd`},
		{`subject:"(x)" in:"a\\b"`, `subject:"(x)" in:"a\\b"`},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		q2, err := Parse(q.String())
		if err != nil || q2.String() != q.String() {
			t.Errorf("reparsing %q: %v, %v", q.String(), q2, err)
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string
	}{
		{``, 0, `empty query`},
		{`   `, 0, `empty query`},
		{`form:ann`, 0, `unknown field "form:"`},
		{`a Form:x`, 2, `unknown field "Form:"`},
		{`http://example.com`, 0, `unknown field "http:"`},
		{`is:foo`, 3, `unknown is: value "foo"`},
		{`is:unread*`, 3, `unknown is: value "unread*"`},
		{`has:pdf`, 4, `unknown has: value "pdf" (want attachment)`},
		{`after:2026-13-01`, 6, `bad date "2026-13-01" (want YYYY-MM-DD)`},
		{`before:2026-02-30`, 7, `bad date "2026-02-30" (want YYYY-MM-DD)`},
		{`on:2026-1-1`, 3, `bad date "2026-1-1" (want YYYY-MM-DD)`},
		{`on:"2026-01-01 "`, 3, `bad date "2026-01-01 " (want YYYY-MM-DD)`},
		{`larger:10x`, 7, `bad size "10x": unknown unit (want k, M or G)`},
		{`smaller:-5`, 8, `bad size "-5": want a number of bytes`},
		{`smaller:k`, 8, `bad size "k": want a number of bytes`},
		{`larger:99999999999G`, 7, `bad size "99999999999G": too large`},
		{`larger:`, 0, `larger: needs a value`},
		{`subject:""`, 8, `subject: needs a value`},
		{`(a`, 0, `unbalanced parenthesis: ( is not closed`},
		{`((a)`, 0, `unbalanced parenthesis: ( is not closed`},
		{`(`, 0, `unbalanced parenthesis: ( is not closed`},
		{`a)`, 1, `unbalanced parenthesis: ) without (`},
		{`(a)) b`, 3, `unbalanced parenthesis: ) without (`},
		{`) a`, 0, `unbalanced parenthesis: ) without (`},
		{`"abc`, 0, `unbalanced quote: " is not closed`},
		{`x from:"abc`, 7, `unbalanced quote: " is not closed`},
		{`"a\"`, 0, `unbalanced quote: " is not closed`},
		{`()`, 0, `empty group ()`},
		{`a ( ) b`, 2, `empty group ()`},
		{`a OR`, 2, `"OR" needs a term after it`},
		{`OR a`, 0, `"OR" needs a term before it`},
		{`a OR OR b`, 2, `"OR" needs a term after it`},
		{`(a OR) b`, 3, `"OR" needs a term after it`},
		{`(OR a)`, 1, `"OR" needs a term before it`},
		{`a AND`, 2, `"AND" needs a term after it`},
		{`AND a`, 0, `"AND" needs a term before it`},
		{`a AND OR b`, 2, `"AND" needs a term after it`},
		{`a -`, 2, `"-" needs a term after it`},
		{`- a`, 0, `"-" needs a term after it`},
		{`(a -)`, 3, `"-" needs a term after it`},
		{`-OR a`, 0, `"-" needs a term after it`},
		{`NOT`, 0, `"NOT" needs a term after it`},
		{`a NOT OR b`, 2, `"NOT" needs a term after it`},
		{`""`, 0, `empty phrase`},
		{`a ""*`, 2, `empty phrase`},
		{`*`, 0, `"*" needs a word before it`},
		{`from:**`, 5, `"*" needs a word before it`},
		{"a\x00b", 1, `control character U+0000`},
		{"a\x1b[0m", 1, `control character U+001B`},
		{"ab\xffc", 2, `invalid UTF-8`},
		{strings.Repeat("(", 11) + "a" + strings.Repeat(")", 11), 10, `nested too deeply (at most 10 levels)`},
		{strings.Repeat("-", 11) + "a", 10, `nested too deeply (at most 10 levels)`},
		{strings.Repeat("a ", 256) + "b", 512, `too many terms (at most 256)`},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		var qe *Error
		if !errors.As(err, &qe) {
			t.Errorf("Parse(%q) = %v, %v; want *Error", tt.in, q, err)
			continue
		}
		if qe.Pos != tt.pos || qe.Msg != tt.msg || qe.Query != tt.in {
			t.Errorf("Parse(%q): error at %d %q, want at %d %q", tt.in, qe.Pos, qe.Msg, tt.pos, tt.msg)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q): error %v does not wrap ErrInvalid", tt.in, err)
		}
	}
	// The deepest and largest queries allowed still parse.
	for _, s := range []string{
		strings.Repeat("(", 10) + "a" + strings.Repeat(")", 10),
		strings.Repeat("-", 10) + "a",
		strings.Repeat("a ", 255) + "b",
	} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%.30q...): %v", s, err)
		}
	}
}

func TestQueryErrorText(t *testing.T) {
	_, err := Parse("form:ann")
	if got, want := err.Error(), `query: unknown field "form:" at position 1`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	tests := []struct{ in, want string }{
		{"a Form:x", "a Form:x\n  ^"},
		{"café\tis:x", "café\tis:x\n    \t   ^"},
		{"a\nb (", "a b (\n    ^"},
		{"a OR", "a OR\n  ^"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var qe *Error
		if !errors.As(err, &qe) {
			t.Fatalf("Parse(%q) = %v", tt.in, err)
		}
		if got := qe.Caret(); got != tt.want {
			t.Errorf("Caret() of %q =\n%s\nwant\n%s", tt.in, got, tt.want)
		}
	}
}

func TestQueryFullTextOnly(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`report`, `"report"`, true},
		{`from:ann subject:"q3 report" words`, `{from_addr} : "ann" AND {subject} : "q3 report" AND "words"`, true},
		{`to:a cc:b body:c`, `{to_addr} : "a" AND {cc_addr} : "b" AND {body} : "c"`, true},
		{`a OR b`, `"a" OR "b"`, true},
		{`a -b`, `"a" NOT ("b")`, true},
		{`a b -c -(d e)`, `("a" AND "b") NOT ("c" OR ("d" AND "e"))`, true},
		{`(a b) OR c`, `("a" AND "b") OR "c"`, true},
		{`a (b OR -c)`, ``, false},
		{`foo* from:ann@example.com*`, `"foo" * AND {from_addr} : "ann@example.com" *`, true},
		{`"say \"hi\""`, `"say ""hi"""`, true},
		{`-a`, ``, false},
		{`a is:unread`, ``, false},
		{`a OR is:unread`, ``, false},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := q.FullText()
		if got != tt.want || ok != tt.ok {
			t.Errorf("FullText(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestQueryWhereMerges(t *testing.T) {
	tests := []struct {
		in      string
		matches int
	}{
		{`report`, 1},
		{`from:ann subject:"q3 report" has:attachment after:2026-01-01 is:unread words`, 1},
		{`a b OR c d OR is:unread`, 1},
		{`-a -b is:unread`, 1},
		{`a -b is:unread`, 1},
		{`a (b OR is:read) -c`, 2},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		where, args, err := q.SQL(nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(where, "MATCH"); n != tt.matches {
			t.Errorf("where(%q) = %s: %d MATCHes, want %d", tt.in, where, n, tt.matches)
		}
		if n := strings.Count(where, "?"); n != len(args) {
			t.Errorf("where(%q) = %s with %d args", tt.in, where, len(args))
		}
	}
	if _, _, err := (&Query{}).SQL(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero Query: where error %v", err)
	}
}
