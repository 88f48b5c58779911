package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestStructures: a message's structure is computed on first use and
// then read from the index; the row goes with the message.
func TestStructures(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	a := mustAppend(t, s, Inbox, coreMsg("1@x", "first", "body one"))
	b := mustAppend(t, s, Inbox, coreMsg("2@x", "second", "body two"))
	msgs, err := s.Fetch(ctx, Inbox, []uint32{a.UID, b.UID})
	if err != nil {
		t.Fatal(err)
	}
	rows := func() int {
		var n int
		if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM structures").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	sts, err := s.Structures(ctx, msgs)
	if err != nil || len(sts) != 2 || sts[0].Envelope.Subject != "first" || sts[1].Envelope.Subject != "second" {
		t.Fatalf("Structures: %v, %v", sts, err)
	}
	if n := rows(); n != 2 {
		t.Fatalf("%d rows recorded, want 2", n)
	}
	// The second time the files are not read: remove one and it is still
	// described.
	if err := os.Remove(filepath.Join(dir, msgs[0].File)); err != nil {
		t.Fatal(err)
	}
	sts, err = s.Structures(ctx, msgs)
	if err != nil || sts[0] == nil || sts[0].Body.Size != msgs[0].Size-sts[0].Body.HeaderLen {
		t.Fatalf("from the index: %+v, %v", sts[0], err)
	}
	// A stale row (of another size) is computed again; a message whose
	// file is gone then gets nil.
	if _, err := s.wdb.ExecContext(ctx, "UPDATE structures SET size = size + 1"); err != nil {
		t.Fatal(err)
	}
	sts, err = s.Structures(ctx, msgs)
	if err != nil || sts[0] != nil || sts[1] == nil || sts[1].Envelope.Subject != "second" {
		t.Fatalf("after the file went: %v, %v", sts, err)
	}
	// Expunging drops the rows.
	if _, err := s.Remove(ctx, Inbox, []uint32{a.UID, b.UID}); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 0 {
		t.Fatalf("%d rows left after the messages went", n)
	}
	if sts, err := s.Structures(ctx, nil); err != nil || len(sts) != 0 {
		t.Fatalf("no messages: %v, %v", sts, err)
	}
}

// TestStructuresMigration: a store of schema 8 gets the table on open,
// and its messages their structures on first use.
func TestStructuresMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := mustAppend(t, s, Inbox, coreMsg("1@x", "old", "stored before version 9"))
	for _, q := range []string{"DROP TRIGGER structures_gone", "DROP TABLE structures", "PRAGMA user_version = 8"} {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msgs, err := s.Fetch(ctx, Inbox, []uint32{res.UID})
	if err != nil {
		t.Fatal(err)
	}
	sts, err := s.Structures(ctx, msgs)
	if err != nil || len(sts) != 1 || sts[0].Envelope.Subject != "old" {
		t.Fatalf("Structures after the migration: %v, %v", sts, err)
	}
	var v int
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("schema %d, %v", v, err)
	}
}
