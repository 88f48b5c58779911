package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// openDeferred opens a store with DeferText whose background indexer
// waits for a pause of idle.
func openDeferred(t *testing.T, dir string, idle time.Duration) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, &Options{DeferText: true, textIdle: idle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func pendingRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRow("SELECT COUNT(*) FROM fts_pending").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func searchIDs(t *testing.T, s *Store, q string) []int64 {
	t.Helper()
	msgs, err := s.Search(context.Background(), q, SearchOptions{Limit: 1000})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	var ids []int64
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

// TestDeferredTextSearch: a deferred append is found by every kind of
// search at once, because the search indexes what waits first.
func TestDeferredTextSearch(t *testing.T) {
	ctx := context.Background()
	s := openDeferred(t, t.TempDir(), time.Hour)
	for i := range 5 {
		mustAppend(t, s, "INBOX", coreMsg(fmt.Sprintf("d%d@x", i), fmt.Sprintf("quarterly %d", i), "the zebra crossing"))
	}
	if n := pendingRows(t, s); n != 5 {
		t.Fatalf("%d rows pending after 5 deferred appends", n)
	}
	if got := searchIDs(t, s, "zebra"); len(got) != 5 {
		t.Fatalf("full-text search found %v, want 5", got)
	}
	if n := pendingRows(t, s); n != 0 {
		t.Fatalf("%d rows still pending after a search", n)
	}
	mustAppend(t, s, "INBOX", coreMsg("late@x", "late", "a giraffe"))
	if n, err := s.Count(ctx, "giraffe", SearchOptions{}); err != nil || n != 1 {
		t.Fatalf("count: %d %v", n, err)
	}
	mustAppend(t, s, "INBOX", coreMsg("later@x", "later", "an okapi"))
	if got := searchIDs(t, s, "okapi OR is:unread"); len(got) != 7 {
		t.Fatalf("mixed search found %v", got)
	}
	mustAppend(t, s, "INBOX", coreMsg("imap@x", "imap", "a narwhal"))
	uids, err := s.SearchUIDs(ctx, "INBOX", &Filter{Body: []string{"narwhal"}})
	if err != nil || len(uids) != 1 || uids[0] != 8 {
		t.Fatalf("IMAP search: %v %v", uids, err)
	}
	checkClean(t, s)
}

// TestDeferredTextBackground: the indexer empties the queue by itself
// once appends pause.
func TestDeferredTextBackground(t *testing.T) {
	s := openDeferred(t, t.TempDir(), 10*time.Millisecond)
	for i := range 20 {
		mustAppend(t, s, "INBOX", coreMsg(fmt.Sprintf("b%d@x", i), "s", "background words"))
	}
	deadline := time.Now().Add(20 * time.Second)
	for pendingRows(t, s) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows still pending after 20 s", pendingRows(t, s))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Found without a catch-up: the rows are in the index.
	var n int
	if err := s.rdb.QueryRow("SELECT COUNT(*) FROM fts WHERE fts MATCH 'background'").Scan(&n); err != nil || n != 20 {
		t.Fatalf("fts rows %d %v", n, err)
	}
}

// TestDeferredTextChanges: messages changed before their turn — flagged
// (renamed), moved, copied, expunged, their mailbox deleted — are indexed
// under their new name or dropped from the queue, and Check stays clean.
func TestDeferredTextChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openDeferred(t, dir, time.Hour)
	for _, mb := range []string{"Archive", "Old"} {
		if _, err := s.CreateMailbox(ctx, mb, ""); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 6 {
		mustAppend(t, s, "INBOX", coreMsg(fmt.Sprintf("c%d@x", i), "s", fmt.Sprintf("word%d common", i)))
	}
	mustAppend(t, s, "Old", coreMsg("old@x", "s", "common ancient"))
	if _, err := s.SetFlags(ctx, "INBOX", []uint32{1}, FlagsAdd, []string{FlagSeen}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Move(ctx, "INBOX", []uint32{2}, "Archive"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Copy(ctx, "INBOX", []uint32{3}, "Archive"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetFlags(ctx, "INBOX", []uint32{4}, FlagsAdd, []string{FlagDeleted}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(ctx, "INBOX", []uint32{4}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMailbox(ctx, "Old"); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"word0": 1, "word1": 1, "word2": 2, "word3": 0, "common": 6, "ancient": 0} {
		if got := searchIDs(t, s, q); len(got) != want {
			t.Errorf("%s: %d results, want %d", q, len(got), want)
		}
	}
	if n := pendingRows(t, s); n != 0 {
		t.Fatalf("%d rows pending", n)
	}
	checkClean(t, s)
}

// TestDeferredTextReopen: rows pending at Close survive it, and a store
// reopened without DeferText indexes them (in the background, or first
// thing in a search).
func TestDeferredTextReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, &Options{DeferText: true, textIdle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustAppend(t, s, "INBOX", coreMsg(fmt.Sprintf("r%d@x", i), "s", "persistent otter"))
	}
	if n := pendingRows(t, s); n != 3 {
		t.Fatalf("%d rows pending before Close", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := searchIDs(t, s2, "otter"); len(got) != 3 {
		t.Fatalf("after reopen: %v", got)
	}
	checkClean(t, s2)
}

// TestDeferredTextConcurrent: searches racing appends and the background
// indexer always see every append that returned before they started.
func TestDeferredTextConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openDeferred(t, t.TempDir(), time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				tag := fmt.Sprintf("tagw%di%d", w, i)
				if _, err := s.Append(ctx, "INBOX", strings.NewReader(coreMsg(tag+"@x", "s", tag)), AppendOptions{}); err != nil {
					errs <- err
					return
				}
				if n, err := s.Count(ctx, tag, SearchOptions{}); err != nil || n != 1 {
					errs <- fmt.Errorf("%s counted %d (%v) right after its append", tag, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkClean fails the test unless Check finds nothing to report.
func checkClean(t *testing.T, s *Store) {
	t.Helper()
	rep, err := s.Check(context.Background(), false)
	if err != nil || !rep.Clean() {
		t.Fatalf("check: %v %+v", err, rep)
	}
}
