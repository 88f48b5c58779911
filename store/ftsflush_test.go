package store

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestAppendManyWritesOneTextSegment: the full text of one AppendMany goes
// to disk as one FTS5 segment. FTS5 writes its pending terms whenever a
// statement of the transaction opens a savepoint (any statement that
// fires a trigger does, and the message insert fires thread_order_insert),
// so full-text rows interleaved with message rows wrote a segment per
// message and spent a third of a full sync merging them (issue 17).
func TestAppendManyWritesOneTextSegment(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const n = 300
	items := make([]AppendItem, n)
	for i := range items {
		raw := coreMsg(fmt.Sprintf("m%d@x", i), fmt.Sprintf("subject %d", i), fmt.Sprintf("body word%d shared text", i))
		items[i] = AppendItem{Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(raw)), nil }}
	}
	before := ftsRows(t, s)
	if _, err := s.AppendMany(ctx, "INBOX", items); err != nil {
		t.Fatal(err)
	}
	pages := ftsRows(t, s) - before
	t.Logf("fts_data rows written by one AppendMany of %d messages: %d", n, pages)
	if pages > 8 {
		t.Fatalf("one AppendMany of %d messages wrote %d full-text pages: a segment per message", n, pages)
	}
	// Every message is found.
	for _, q := range []string{"word7", "word299", "shared"} {
		msgs, err := s.Search(ctx, q, SearchOptions{Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if q == "shared" {
			want = n
		}
		if len(msgs) != want {
			t.Fatalf("search %q: %d messages, want %d", q, len(msgs), want)
		}
	}
}

// ftsRows counts the rows of fts_data: the structure and averages
// records, and the leaf pages of every full-text segment.
func ftsRows(t *testing.T, s *Store) int {
	t.Helper()
	var k int
	if err := s.wdb.QueryRow("SELECT count(*) FROM fts_data").Scan(&k); err != nil {
		t.Fatal(err)
	}
	return k
}
