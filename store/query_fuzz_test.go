package store

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store/query"
)

// FuzzParseQuery checks that parsing never panics, that the canonical form
// of a query parses to the same query, and that every query compiles to SQL
// (and full-text queries to an FTS5 expression) that SQLite accepts.
func FuzzParseQuery(f *testing.F) {
	for _, s := range fuzzSeeds(f, "query/testdata/fuzzseeds.json") {
		f.Add(s)
	}
	db := queryTestDB(f, f.TempDir())
	// One message, so that conditions are evaluated.
	for _, stmt := range []string{
		`INSERT INTO mailboxes (id, name, dir, uidvalidity) VALUES (1, 'INBOX', 'INBOX', 1)`,
		`INSERT INTO messages (id, mailbox_id, uid, modseq, internal_date, date, size, file) VALUES (1, 1, 1, 1, 0, 0, 0, '')`,
		`INSERT INTO fts (rowid, from_addr, subject, body) VALUES (1, 'ann ann@example.com', 'q3 report', 'a b c d e')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			f.Fatal(err)
		}
	}
	loc := time.FixedZone("UTC-5", -5*3600)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := query.Parse(s)
		if err != nil {
			var qe *query.Error
			if !errors.As(err, &qe) || !errors.Is(err, query.ErrInvalid) {
				t.Fatalf("query.Parse(%q): error %v is not a *query.Error wrapping ErrInvalid", s, err)
			}
			if qe.Pos < 0 || qe.Pos > len(s) {
				t.Fatalf("query.Parse(%q): error position %d out of range", s, qe.Pos)
			}
			_ = qe.Caret()
			return
		}
		canon := q.String()
		q2, err := query.Parse(canon)
		if err != nil {
			t.Fatalf("query.Parse(%q) gives %q, which does not parse: %v", s, canon, err)
		}
		if again := q2.String(); again != canon {
			t.Fatalf("query.Parse(%q) gives %q, which gives %q", s, canon, again)
		}
		where, args, err := q.SQL(loc)
		if err != nil {
			t.Fatalf("where(%q): %v", s, err)
		}
		// The query scoped to a mailbox (Search, Count) compiles too.
		swhere, sargs, err := query.Scope(q, "INBOX").SQL(loc)
		if err != nil {
			t.Fatalf("where(Scope(%q)): %v", s, err)
		}
		for _, c := range []struct {
			where string
			args  []any
		}{{where, args}, {swhere, sargs}} {
			rows, err := db.Query("SELECT m.id FROM messages m WHERE "+c.where+" ORDER BY m.date DESC, m.id DESC LIMIT ? OFFSET ?", append(c.args, 10, 0)...)
			if err != nil {
				t.Fatalf("query %q: SQL %s %v: %v", s, c.where, c.args, err)
			}
			if err := rows.Close(); err != nil {
				t.Fatalf("query %q: SQL %s %v: %v", s, c.where, c.args, err)
			}
		}
		// Check every FTS5 expression on its own: SQLite may skip a
		// subquery it does not need.
		var exprs []string
		if e, ok := q.FullText(); ok {
			exprs = append(exprs, e)
		}
		for i, n := 0, 0; i < len(where); i++ {
			if where[i] == '?' {
				if strings.HasSuffix(where[:i], "MATCH ") {
					exprs = append(exprs, args[n].(string))
				}
				n++
			}
		}
		for _, e := range exprs {
			rows, err := db.Query(`SELECT rowid FROM fts WHERE fts MATCH ?`, e)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			if err != nil {
				t.Fatalf("query %q: MATCH %s: %v", s, e, err)
			}
		}
	})
}

// fuzzSeeds reads the seed queries both query fuzzers start from
// (store/query/testdata/fuzzseeds.json: a JSON array of strings).
func fuzzSeeds(f *testing.F, path string) []string {
	f.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	var seeds []string
	if err := json.Unmarshal(data, &seeds); err != nil {
		f.Fatalf("%s: %v", path, err)
	}
	return seeds
}
