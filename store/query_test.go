package store

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
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
		q, err := ParseQuery(tt.in)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tt.in, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("ParseQuery(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		q2, err := ParseQuery(q.String())
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
		q, err := ParseQuery(tt.in)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("ParseQuery(%q) = %v, %v; want *QueryError", tt.in, q, err)
			continue
		}
		if qe.Pos != tt.pos || qe.Msg != tt.msg || qe.Query != tt.in {
			t.Errorf("ParseQuery(%q): error at %d %q, want at %d %q", tt.in, qe.Pos, qe.Msg, tt.pos, tt.msg)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseQuery(%q): error %v does not wrap ErrInvalid", tt.in, err)
		}
	}
	// The deepest and largest queries allowed still parse.
	for _, s := range []string{
		strings.Repeat("(", 10) + "a" + strings.Repeat(")", 10),
		strings.Repeat("-", 10) + "a",
		strings.Repeat("a ", 255) + "b",
	} {
		if _, err := ParseQuery(s); err != nil {
			t.Errorf("ParseQuery(%.30q...): %v", s, err)
		}
	}
}

func TestQueryErrorText(t *testing.T) {
	_, err := ParseQuery("form:ann")
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
		_, err := ParseQuery(tt.in)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Fatalf("ParseQuery(%q) = %v", tt.in, err)
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
		q, err := ParseQuery(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := q.FullTextOnly()
		if got != tt.want || ok != tt.ok {
			t.Errorf("FullTextOnly(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
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
		q, err := ParseQuery(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		where, args, err := q.where(nil)
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
	if _, _, err := (&Query{}).where(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero Query: where error %v", err)
	}
}

// queryTestDB opens a new database with the schema in a temporary directory.
func queryTestDB(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dir+"/index.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	return db
}

// queryIDs runs query against db and returns the matching message ids.
func queryIDs(db *sql.DB, query string, loc *time.Location) ([]int64, error) {
	q, err := ParseQuery(query)
	if err != nil {
		return nil, err
	}
	where, args, err := q.where(loc)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query("SELECT m.id FROM messages m WHERE "+where+" ORDER BY m.id", args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func TestQuerySQL(t *testing.T) {
	db := queryTestDB(t, t.TempDir())
	loc := time.FixedZone("UTC+2", 2*3600)
	day := func(y int, m time.Month, d, h, min, s int) int64 {
		return time.Date(y, m, d, h, min, s, 0, loc).Unix()
	}
	for i, name := range []string{"INBOX", "Archive", "Old mail", "archive"} {
		if _, err := db.Exec(`INSERT INTO mailboxes (id, name, dir, uidvalidity) VALUES (?, ?, ?, 1)`, i+1, name, fmt.Sprint("d", i)); err != nil {
			t.Fatal(err)
		}
	}
	type msg struct {
		mbox                                         int
		seen, flagged, answered, draft, deleted, att int
		date, size                                   int64
		from, to, cc, subject, body                  string
	}
	msgs := []msg{
		1:  {1, 0, 0, 0, 0, 0, 1, day(2026, 1, 1, 10, 0, 0), 500, "Ann Smith ann@example.com", "Bob bob@example.org", "", "Q3 report", "Please find the quarterly numbers attached."},
		2:  {1, 1, 1, 0, 0, 0, 0, day(2026, 1, 1, 23, 59, 59), 10240, "Bob bob@example.org", "Ann Smith ann@example.com", "", "Re: Q3 report", "Thanks, the report looks good."},
		3:  {1, 1, 0, 1, 0, 0, 0, day(2026, 1, 2, 0, 0, 0), 10241, "Carl carl@example.net", "ann@example.com", "", "Lunch", "Café at noon? The Größe of the table matters."},
		4:  {2, 1, 0, 0, 0, 0, 1, day(2025, 12, 31, 23, 59, 59), 2<<20 + 1, "Dora dora@example.com", "bob@example.org", "", "Invoice 2025", "Invoice attached as PDF."},
		5:  {2, 0, 0, 0, 0, 1, 0, day(2026, 2, 15, 12, 0, 0), 1 << 30, "Ann ann@other.org", "team@example.com", "", "report draft", "A draft of the report, please review."},
		6:  {3, 1, 0, 0, 1, 0, 0, day(2024, 6, 1, 8, 0, 0), 100, "Me me@example.com", "ann@example.com", "bob@example.org", "Holiday plans", "grosse cafe plans, see the e-mail"},
		7:  {1, 0, 1, 0, 0, 0, 0, day(2026, 3, 1, 9, 0, 0), 3000, "Shop newsletter@shop.example", "me@example.com", "", "Sale: 50% off", "foobar deals and reporting tools"},
		8:  {4, 1, 0, 0, 0, 0, 0, day(2026, 1, 15, 9, 0, 0), 7000, "Eve eve@example.com", "", "", "OR AND NOT", "keywords as words"},
		9:  {1, 1, 0, 0, 0, 0, 1, day(2026, 1, 10, 9, 0, 0), 20000, "Bob bob@example.org", "", "carl@example.net", "Photos", "holiday photos attached, enjoy"},
		10: {1, 0, 0, 0, 0, 0, 0, day(2026, 1, 20, 9, 0, 0), 1500, "ann@example.com", "", "", "e-mail etiquette", "Prefixes: reproduce, repository, report"},
	}
	for id, m := range msgs[1:] {
		id++
		if _, err := db.Exec(`INSERT INTO messages (id, mailbox_id, uid, modseq, seen, flagged, answered, draft, deleted,
			has_attachment, internal_date, date, size, file) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')`,
			id, m.mbox, id, m.seen, m.flagged, m.answered, m.draft, m.deleted, m.att, m.date, m.date, m.size); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO fts (rowid, from_addr, to_addr, cc_addr, subject, body) VALUES (?, ?, ?, ?, ?, ?)`,
			id, m.from, m.to, m.cc, m.subject, m.body); err != nil {
			t.Fatal(err)
		}
	}
	all := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		q    string
		want []int64
	}{
		{`report`, []int64{1, 2, 5, 10}},
		{`REPORT`, []int64{1, 2, 5, 10}},
		{`report*`, []int64{1, 2, 5, 7, 10}},
		{`rep*`, []int64{1, 2, 5, 7, 10}},
		{`subject:report`, []int64{1, 2, 5}},
		{`body:report`, []int64{2, 5, 10}},
		{`from:ann`, []int64{1, 5, 10}},
		{`from:ann*`, []int64{1, 5, 10}},
		{`from:"ann smith"`, []int64{1}},
		{`from:ann@example.com`, []int64{1, 10}},
		{`to:ann@example.com`, []int64{2, 3, 6}},
		{`cc:bob`, []int64{6}},
		{`ann@example.com`, []int64{1, 2, 3, 6, 10}},
		{`to:me`, []int64{7}},
		{`me`, []int64{6, 7}},
		{`"q3 report"`, []int64{1, 2}},
		{`subject:"q3 report"`, []int64{1, 2}},
		{`subject:"q3 rep"*`, []int64{1, 2}},
		{`"report q3"`, []int64{}},
		{`foo*`, []int64{7}},
		{`report -subject:re`, []int64{1, 5, 10}},
		{`-report`, []int64{3, 4, 6, 7, 8, 9}},
		{`-report -invoice`, []int64{3, 6, 7, 8, 9}},
		{`-(report OR invoice)`, []int64{3, 6, 7, 8, 9}},
		{`report AND -subject:q3 AND -body:please`, []int64{10}},
		{`report OR invoice`, []int64{1, 2, 4, 5, 10}},
		{`(report OR invoice) has:attachment`, []int64{1, 4}},
		{`holiday -photos`, []int64{6}},
		{`holiday photos OR invoice`, []int64{4, 9}},
		{`holiday (photos OR invoice)`, []int64{9}},
		{`-(report is:unread)`, []int64{2, 3, 4, 6, 7, 8, 9}},
		{`report -is:unread OR invoice`, []int64{2, 4}},
		{`NOT from:bob is:read`, []int64{3, 4, 6, 8}},
		{`is:unread`, []int64{1, 5, 7, 10}},
		{`is:read`, []int64{2, 3, 4, 6, 8, 9}},
		{`is:flagged`, []int64{2, 7}},
		{`is:unflagged -is:read`, []int64{1, 5, 10}},
		{`is:answered`, []int64{3}},
		{`is:draft`, []int64{6}},
		{`is:deleted`, []int64{5}},
		{`is:unread OR is:flagged`, []int64{1, 2, 5, 7, 10}},
		{`has:attachment`, []int64{1, 4, 9}},
		{`-has:attachment is:unread`, []int64{5, 7, 10}},
		{`on:2026-01-01`, []int64{1, 2}},
		{`after:2026-01-02`, []int64{3, 5, 7, 8, 9, 10}},
		{`before:2026-01-02`, []int64{1, 2, 4, 6}},
		{`after:2026-01-01 before:2026-01-02`, []int64{1, 2}},
		{`after:2026-01-01 -after:2026-01-02`, []int64{1, 2}},
		{`larger:10k`, []int64{3, 4, 5, 9}},
		{`smaller:10k`, []int64{1, 6, 7, 8, 10}},
		{`larger:2M`, []int64{4, 5}},
		{`larger:1023m`, []int64{5}},
		{`larger:1G`, []int64{}},
		{`smaller:501`, []int64{1, 6}},
		{`in:inbox`, []int64{1, 2, 3, 7, 9, 10}},
		{`in:INBOX is:unread`, []int64{1, 7, 10}},
		{`in:Archive`, []int64{4, 5}},
		{`in:archive`, []int64{8}},
		{`in:"Old mail"`, []int64{6}},
		{`in:old`, []int64{}},
		{`-in:inbox`, []int64{4, 5, 6, 8}},
		{`from:carl OR larger:1000M`, []int64{3, 5}},
		{`"OR" "NOT"`, []int64{8}},
		{`café`, []int64{3, 6}},
		{`CAFE`, []int64{3, 6}},
		// remove_diacritics folds ö to o but ß is not a diacritic:
		// Größe finds Größe, not grosse.
		{`Größe`, []int64{3}},
		{`grösse`, []int64{6}},
		{`e-mail`, []int64{6, 10}},
		{`"@@"`, []int64{}},
		{`-"@@"`, all},
	}
	for _, tt := range tests {
		got, err := queryIDs(db, tt.q, loc)
		if err != nil {
			t.Errorf("%s: %v", tt.q, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.q, got, tt.want)
		}
	}
	// Days follow the location: in UTC message 3 (2026-01-02 00:00 +02:00)
	// is dated 2026-01-01.
	got, err := queryIDs(db, "on:2026-01-01", nil)
	if err != nil || !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("on:2026-01-01 in UTC: %v, %v", got, err)
	}
}

// TestQueryDeepest runs the deepest queries allowed, which must stay within
// SQLite's expression depth and FTS5's parser stack.
func TestQueryDeepest(t *testing.T) {
	db := queryTestDB(t, t.TempDir())
	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "x" + strings.Repeat(close, n)
	}
	for _, s := range []string{
		nest("a (b OR c ", ")", 10),
		nest("from:a (to:b* OR subject:c ", ")", 10),
		nest("a -(b ", ")", 5),
		nest("a b -(c OR d ", ")", 5),
		nest("a (b OR -(c ", "))", 3) + " OR d",
		nest("a (b OR c d -e ", ")", 9),
		nest("a (is:read OR c ", ")", 10),
		nest("-(a OR -", ")", 3),
		strings.Repeat("a b OR is:read -c ", 60),
		strings.Repeat("is:read ", 256),
		strings.Repeat("is:read OR ", 255) + "x",
	} {
		if _, err := queryIDs(db, s, nil); err != nil {
			t.Errorf("%.40s...: %v", s, err)
		}
		q, _ := ParseQuery(s)
		if e, ok := q.FullTextOnly(); ok {
			if _, err := db.Exec(`SELECT rowid FROM fts WHERE fts MATCH ?`, e); err != nil {
				t.Errorf("%.40s...: FullTextOnly: %v", s, err)
			}
		}
	}
}

// NamesMailbox looks at the syntax tree: an in: inside a quoted value is
// text, not a mailbox term.
func TestQueryNamesMailbox(t *testing.T) {
	for q, want := range map[string]bool{
		"in:Sent x":                true,
		"x -in:Trash":              true,
		"(in:INBOX OR y)":          true,
		`NOT (a OR in:"Old mail")`: true,
		"inbox":                    false,
		"from:in":                  false,
		`subject:"check in:room"`:  false,
		`"in:Sent"`:                false,
		`body:"x in:y" OR z`:       false,
	} {
		pq, err := ParseQuery(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if got := pq.NamesMailbox(); got != want {
			t.Errorf("%q: NamesMailbox() = %v, want %v", q, got, want)
		}
	}
}
