package store

import (
	"context"
	"errors"
	"testing"
)

// A change the server refused for good stays in the journal, marked
// failed with the server's words, until it is retried or dropped; a
// retry clears the mark and the attempts.
func TestJournalGiveUpAndRetry(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	a, _ := s.JournalAdd(ctx, "imap.flags", []byte(`{}`))
	b, _ := s.JournalAdd(ctx, "imap.move", []byte(`{}`))
	if err := s.JournalGiveUp(ctx, b, "NO [CANNOT] no such folder"); err != nil {
		t.Fatal(err)
	}
	j, err := s.Journal(ctx)
	if err != nil || len(j) != 2 {
		t.Fatalf("journal = %v, %v", j, err)
	}
	if j[0].ID != a || j[0].Failed {
		t.Errorf("entry %d: %+v, want pending", a, j[0])
	}
	if j[1].ID != b || !j[1].Failed || j[1].LastError != "NO [CANNOT] no such folder" || j[1].Attempts != 1 {
		t.Errorf("entry %d: %+v, want failed with the server's words", b, j[1])
	}
	if err := s.JournalRetry(ctx, b); err != nil {
		t.Fatal(err)
	}
	j, _ = s.Journal(ctx)
	if j[1].Failed || j[1].Attempts != 0 {
		t.Errorf("after retry: %+v", j[1])
	}
	if err := s.JournalRetry(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("retry of no entry: %v, want ErrNotFound", err)
	}
	if err := s.JournalGiveUp(ctx, b, "again"); err != nil {
		t.Fatal(err)
	}
	if err := s.JournalDone(ctx, b); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.rdb.QueryRow("SELECT COUNT(*) FROM journal_failed").Scan(&n); err != nil || n != 0 {
		t.Errorf("failed marks left after done: %d, %v", n, err)
	}
}
