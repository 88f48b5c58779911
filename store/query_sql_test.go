package store

// The query language's SQL run against the store's schema (the compiler is
// store/query's; the schema is the store's).

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store/query"
)

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

// queryIDs runs text against db and returns the matching message ids.
func queryIDs(db *sql.DB, text string, loc *time.Location) ([]int64, error) {
	q, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	where, args, err := q.SQL(loc)
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
		q, _ := query.Parse(s)
		if e, ok := q.FullText(); ok {
			if _, err := db.Exec(`SELECT rowid FROM fts WHERE fts MATCH ?`, e); err != nil {
				t.Errorf("%.40s...: FullText: %v", s, err)
			}
		}
	}
}
