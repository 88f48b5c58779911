package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stageItems makes n messages whose Message-IDs start with prefix.
func stageItems(n int, prefix string) []AppendItem {
	items := make([]AppendItem, n)
	for i := range items {
		raw := coreMsg(fmt.Sprintf("%s%d@x", prefix, i), fmt.Sprintf("%s subject %d", prefix, i), "staged body")
		items[i] = AppendItem{Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(raw)), nil }}
	}
	return items
}

// TestStageMergeCommit: staged messages are invisible and unannounced
// until Commit; merged stages commit as one, with one result per item in
// order, an unreadable item failing alone; nothing stays in tmp/.
func TestStageMergeCommit(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	sub := s.Subscribe()
	defer sub.Close()
	tmp := filepath.Join(dir, "mail", "INBOX", "tmp")

	// One batch small enough to be fsynced file by file, one large
	// enough to be left for Commit's syncfs, one with a bad item.
	a, err := s.Stage(ctx, "inbox", stageItems(3, "a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Stage(ctx, "INBOX", stageItems(batchSyncMin, "b"))
	if err != nil {
		t.Fatal(err)
	}
	bad := stageItems(2, "c")
	bad[0].Open = func() (io.ReadCloser, error) { return nil, errors.New("unreadable") }
	c, err := s.Stage(ctx, "INBOX", bad)
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 3+batchSyncMin+1 {
		t.Fatalf("tmp/ holds %d files, want every staged one", len(ents))
	}
	if msgs, _ := s.Fetch(ctx, "INBOX", nil); len(msgs) != 0 {
		t.Fatalf("staged messages visible before Commit: %d", len(msgs))
	}
	select {
	case <-sub.C:
		t.Fatalf("change published before Commit: %+v", sub.Pull())
	default:
	}
	if a.Bytes() <= 0 || a.TextBytes() <= 0 {
		t.Errorf("Bytes %d TextBytes %d", a.Bytes(), a.TextBytes())
	}
	for _, o := range []*Staged{b, c} {
		if err := a.Merge(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Merge(b); err == nil {
		t.Error("a merged stage merged again")
	}
	if a.Len() != 3+batchSyncMin+2 {
		t.Fatalf("Len = %d", a.Len())
	}
	res, err := a.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(ctx); err == nil {
		t.Error("second Commit accepted")
	}
	a.Discard() // no effect after Commit
	if len(res) != 3+batchSyncMin+2 {
		t.Fatalf("%d results", len(res))
	}
	failed := res[3+batchSyncMin]
	if failed.Err == nil || !strings.Contains(failed.Err.Error(), "unreadable") {
		t.Errorf("the unreadable item's result: %+v", failed)
	}
	msgs, _ := s.Fetch(ctx, "INBOX", nil)
	byUID := map[uint32]Message{}
	for _, m := range msgs {
		byUID[m.UID] = m
	}
	if len(msgs) != 3+batchSyncMin+1 {
		t.Fatalf("INBOX holds %d messages", len(msgs))
	}
	for i, r := range res {
		want := ""
		switch {
		case i < 3:
			want = fmt.Sprintf("a subject %d", i)
		case i < 3+batchSyncMin:
			want = fmt.Sprintf("b subject %d", i-3)
		case i == 3+batchSyncMin:
			continue
		default:
			want = "c subject 1"
		}
		if r.Err != nil || byUID[r.UID].Subject != want {
			t.Fatalf("result %d: %+v, message %q, want %q", i, r, byUID[r.UID].Subject, want)
		}
	}
	<-sub.C
	if ch := sub.Pull(); len(ch) != len(msgs) {
		t.Errorf("%d changes for %d messages", len(ch), len(msgs))
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("tmp/ keeps %d files after Commit", len(ents))
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() {
		t.Fatalf("check: %v %+v", err, rep)
	}
	if _, err := s.Stage(ctx, "nosuchbox", stageItems(1, "x")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stage into a missing mailbox: %v", err)
	}
}

// TestStageDiscard: a discarded stage leaves nothing; a stage of another
// mailbox cannot be merged.
func TestStageDiscard(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	if _, err := s.CreateMailbox(ctx, "Other", ""); err != nil {
		t.Fatal(err)
	}
	a, err := s.Stage(ctx, "INBOX", stageItems(batchSyncMin+1, "a"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Stage(ctx, "Other", stageItems(1, "o"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Merge(o); err == nil {
		t.Error("a stage of another mailbox merged")
	}
	a.Discard()
	o.Discard()
	if _, err := a.Commit(ctx); err == nil {
		t.Error("Commit after Discard accepted")
	}
	for _, mb := range []string{"INBOX", "Other"} {
		if ents, _ := os.ReadDir(filepath.Join(dir, "mail", mb, "tmp")); len(ents) != 0 {
			t.Errorf("%s/tmp keeps %d files after Discard", mb, len(ents))
		}
		if msgs, _ := s.Fetch(ctx, mb, nil); len(msgs) != 0 {
			t.Errorf("%s holds %d messages after Discard", mb, len(msgs))
		}
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() {
		t.Fatalf("check: %v %+v", err, rep)
	}
}

// TestStageCommitAfterRename: messages staged in a mailbox renamed before
// Commit land in it under its new name; in one deleted, Commit fails.
func TestStageCommitAfterRename(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if _, err := s.CreateMailbox(ctx, "Work", ""); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stage(ctx, "Work", stageItems(batchSyncMin, "w"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RenameMailbox(ctx, "Work", "Job"); err != nil {
		t.Fatal(err)
	}
	res, err := st.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if msgs, _ := s.Fetch(ctx, "Job", nil); len(msgs) != len(res) {
		t.Fatalf("Job holds %d messages, %d committed", len(msgs), len(res))
	}
	if _, err := s.CreateMailbox(ctx, "Gone", ""); err != nil {
		t.Fatal(err)
	}
	st, err = s.Stage(ctx, "Gone", stageItems(2, "g"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMailbox(ctx, "Gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Commit into a deleted mailbox: %v", err)
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() {
		t.Fatalf("check: %v %+v", err, rep)
	}
}
