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
	"time"
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func coreMsg(id, subject, body string, extra ...string) string {
	h := fmt.Sprintf("From: Ann Example <ann@example.com>\r\nTo: bob@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n", subject, id)
	for _, e := range extra {
		h += e + "\r\n"
	}
	return h + "\r\n" + body + "\r\n"
}

func mustAppend(t *testing.T, s *Store, mailbox, raw string, flags ...string) AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), mailbox, strings.NewReader(raw), AppendOptions{Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAppendListGet(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	r1 := mustAppend(t, s, "INBOX", coreMsg("a@x", "hello", "first body"))
	r2 := mustAppend(t, s, "inbox", coreMsg("b@x", "second", "second body"), FlagSeen)
	if r1.UID != 1 || r2.UID != 2 || r2.ModSeq <= r1.ModSeq || r1.UIDValidity == 0 {
		t.Fatalf("results %+v %+v", r1, r2)
	}
	mb, err := s.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if mb.Total != 2 || mb.Unread != 1 || mb.UIDNext != 3 || mb.HighestModSeq != r2.ModSeq {
		t.Fatalf("mailbox %+v", mb)
	}
	msgs, err := s.List(ctx, ListOptions{Mailbox: "INBOX"})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("list: %v %d", err, len(msgs))
	}
	m, err := s.Get(ctx, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "hello" || m.MessageID != "a@x" || len(m.From) != 1 || m.From[0].Addr != "ann@example.com" {
		t.Fatalf("message %+v", m)
	}
	f, err := s.OpenRaw(ctx, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(f)
	f.Close()
	if string(raw) != coreMsg("a@x", "hello", "first body") || m.Size != int64(len(raw)) {
		t.Fatalf("raw differs: %q", raw)
	}
	if !strings.Contains(m.File, "/cur/") {
		t.Fatalf("file %s not in cur", m.File)
	}
	if _, err := s.Get(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing id: %v", err)
	}
	if _, err := s.Append(ctx, "Nope", strings.NewReader("x"), AppendOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("append to missing mailbox: %v", err)
	}
}

func TestFlagsCopyMoveExpunge(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	if _, err := s.CreateMailbox(ctx, "Archive", SpecialArchive); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		mustAppend(t, s, "INBOX", coreMsg(fmt.Sprintf("m%d@x", i), fmt.Sprintf("subject %d", i), "body"))
	}
	up, err := s.SetFlags(ctx, "INBOX", []uint32{1, 2}, FlagsAdd, []string{`\seen`, "$Label1"})
	if err != nil || len(up) != 2 {
		t.Fatalf("set flags: %v %v", err, up)
	}
	if got := strings.Join(up[0].Flags, " "); got != `$Label1 \Seen` {
		t.Fatalf("flags %q", got)
	}
	// Setting again changes nothing and hands out no MODSEQ.
	if up2, _ := s.SetFlags(ctx, "INBOX", []uint32{1}, FlagsAdd, []string{`\Seen`}); len(up2) != 0 {
		t.Fatalf("no-op store changed %v", up2)
	}
	m, _ := s.GetByUID(ctx, "INBOX", 1)
	if !strings.HasSuffix(m.File, ":2,S") {
		t.Fatalf("maildir name %s lacks S", m.File)
	}
	if _, err := os.Stat(filepath.Join(dir, m.File)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetFlags(ctx, "INBOX", nil, FlagsAdd, []string{"bad flag"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad flag: %v", err)
	}
	pairs, uv, err := s.Copy(ctx, "INBOX", []uint32{1, 3}, "Archive")
	if err != nil || len(pairs) != 2 || pairs[0].Dst != 1 || uv == 0 {
		t.Fatalf("copy: %v %+v", err, pairs)
	}
	pairs, _, err = s.Move(ctx, "INBOX", []uint32{2}, "Archive")
	if err != nil || len(pairs) != 1 || pairs[0].Dst != 3 {
		t.Fatalf("move: %v %+v", err, pairs)
	}
	inbox, _ := s.Mailbox(ctx, "INBOX")
	arch, _ := s.Mailbox(ctx, "Archive")
	if inbox.Total != 4 || arch.Total != 3 || arch.Unread != 1 || inbox.Unread != 3 {
		t.Fatalf("counts inbox %+v archive %+v", inbox, arch)
	}
	before := inbox.HighestModSeq
	s.SetFlags(ctx, "INBOX", []uint32{4, 5}, FlagsAdd, []string{FlagDeleted})
	gone, err := s.Expunge(ctx, "INBOX", []uint32{4})
	if err != nil || len(gone) != 1 || gone[0] != 4 {
		t.Fatalf("uid expunge: %v %v", err, gone)
	}
	gone, _ = s.Expunge(ctx, "INBOX", nil)
	if len(gone) != 1 || gone[0] != 5 {
		t.Fatalf("expunge: %v", gone)
	}
	ch, err := s.ChangesSince(ctx, "INBOX", before)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Vanished) != 2 || len(ch.Changed) != 0 {
		t.Fatalf("changes %+v", ch)
	}
	ch, _ = s.ChangesSince(ctx, "INBOX", 0)
	if len(ch.Vanished) != 3 || len(ch.Changed) != 2 {
		t.Fatalf("changes since 0: vanished %v changed %d", ch.Vanished, len(ch.Changed))
	}
	rep, err := s.Check(ctx, false)
	if err != nil || !rep.Clean() {
		t.Fatalf("check: %v %+v", err, rep)
	}
}

func TestMailboxes(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	for _, n := range []string{"Work", "Work/Q3", "Work/Q3.old", "Ärger"} {
		if _, err := s.CreateMailbox(ctx, n, ""); err != nil {
			t.Fatal(n, err)
		}
	}
	if _, err := s.CreateMailbox(ctx, "Work", ""); !errors.Is(err, ErrExists) {
		t.Fatalf("dup: %v", err)
	}
	for _, bad := range []string{"", "a//b", "/a", "a/", "x*y", "bad\x01"} {
		if _, err := s.CreateMailbox(ctx, bad, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	mustAppend(t, s, "Work/Q3", coreMsg("q@x", "q3", "report"))
	if err := s.RenameMailbox(ctx, "Work", "Job"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mailbox(ctx, "Job/Q3.old"); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.List(ctx, ListOptions{Mailbox: "Job/Q3"})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("after rename: %v %d", err, len(msgs))
	}
	if _, err := os.Stat(filepath.Join(dir, msgs[0].File)); err != nil {
		t.Fatalf("file after rename: %v", err)
	}
	if err := s.DeleteMailbox(ctx, "Job/Q3"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMailbox(ctx, "INBOX"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("delete inbox: %v", err)
	}
	var names []string
	mbs, _ := s.Mailboxes(ctx)
	for _, mb := range mbs {
		names = append(names, mb.Name)
	}
	if got := strings.Join(names, ","); got != "INBOX,Job,Job/Q3.old,Ärger" {
		t.Fatalf("mailboxes %s", got)
	}
	s.Close()
	s2, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if rep := s2.OpenReport(); len(rep.Rescanned) != 0 || !rep.Clean() {
		t.Fatalf("clean reopen rescanned %+v", rep)
	}
	mbs2, _ := s2.Mailboxes(ctx)
	if len(mbs2) != len(mbs) {
		t.Fatalf("reopen lost mailboxes: %d vs %d", len(mbs2), len(mbs))
	}
}

func TestFeed(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	sub := s.Subscribe()
	defer sub.Close()
	mustAppend(t, s, "INBOX", coreMsg("a@x", "a", "b"))
	mustAppend(t, s, "INBOX", coreMsg("b@x", "b", "b"))
	s.SetFlags(ctx, "INBOX", []uint32{1}, FlagsAdd, []string{FlagFlagged})
	select {
	case <-sub.C:
	case <-time.After(time.Second):
		t.Fatal("no notification")
	}
	ch := sub.Pull()
	if len(ch) != 3 || ch[0].Kind != ChangeMessageAdded || ch[2].Kind != ChangeFlags || ch[2].UID != 1 {
		t.Fatalf("changes %+v", ch)
	}
	if len(sub.Pull()) != 0 {
		t.Fatal("pull not drained")
	}
}

func TestReconcile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "INBOX", coreMsg("a@x", "a", "keep"))
	gone := mustAppend(t, s, "INBOX", coreMsg("b@x", "b", "file removed"))
	m, _ := s.Get(ctx, gone.ID)
	s.Close()
	// Simulate another program: one file removed, one delivered to new/,
	// one renamed with a flag, garbage in tmp/.
	os.Remove(filepath.Join(dir, m.File))
	inbox := filepath.Join(dir, "mail", "INBOX")
	os.WriteFile(filepath.Join(inbox, "new", "123.ext.host"), []byte(coreMsg("c@x", "delivered", "from outside")), 0o600)
	os.WriteFile(filepath.Join(inbox, "tmp", s.uniqueName()), []byte("partial"), 0o600)
	os.WriteFile(filepath.Join(inbox, "tmp", "half"), []byte("partial"), 0o600)
	old := time.Now().Add(-40 * time.Hour)
	os.Chtimes(filepath.Join(inbox, "tmp", "half"), old, old)
	s, err = Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep := s.OpenReport()
	if len(rep.Dropped) != 1 || len(rep.Indexed) != 1 || len(rep.Rescanned) != 1 {
		t.Fatalf("report %+v", rep)
	}
	msgs, _ := s.List(ctx, ListOptions{Mailbox: "INBOX"})
	if len(msgs) != 2 {
		t.Fatalf("have %d messages", len(msgs))
	}
	if _, err := os.Stat(filepath.Join(inbox, "tmp", "half")); !os.IsNotExist(err) {
		t.Fatal("tmp not cleaned")
	}
	chk, err := s.Check(ctx, false)
	if err != nil || !chk.Clean() {
		t.Fatalf("check after reconcile: %v %+v", err, chk)
	}
	// A second open beside the first (another process, or this one)
	// sees the same store and rescans nothing.
	s2, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	defer s2.Close()
	if rep := s2.OpenReport(); len(rep.Rescanned) != 0 {
		t.Errorf("second open rescanned %v", rep.Rescanned)
	}
	if msgs, _ := s2.List(ctx, ListOptions{Mailbox: "INBOX"}); len(msgs) != 2 {
		t.Errorf("second open sees %d messages", len(msgs))
	}
}

func TestListKeyset(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for i := range 23 {
		// Several messages share a date, so the id breaks ties.
		raw := fmt.Sprintf("Date: Mon, 2 Jan 2006 15:%02d:00 +0000\r\nSubject: k%d\r\nMessage-ID: <k%d@x>\r\n\r\nx\r\n", i/3, i, i)
		mustAppend(t, s, "INBOX", raw)
	}
	all, err := s.List(ctx, ListOptions{Mailbox: "INBOX", Limit: 100})
	if err != nil || len(all) != 23 {
		t.Fatalf("list all: %d, %v", len(all), err)
	}
	var paged []Message
	var after MessageKey
	for {
		page, err := s.List(ctx, ListOptions{Mailbox: "INBOX", Limit: 5, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Key()
	}
	if len(paged) != len(all) {
		t.Fatalf("keyset paging gave %d rows, want %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i].ID != all[i].ID {
			t.Fatalf("row %d: keyset %d, offset %d", i, paged[i].ID, all[i].ID)
		}
	}
}

// TestMailboxLookupCache: appends look mailboxes up through a cache, which
// must follow renames, deletes and a new mailbox under an old name.
func TestMailboxLookupCache(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	add := func(mb, id string) (AppendResult, error) {
		return s.Append(ctx, mb, strings.NewReader(coreMsg(id, id, "x")), AppendOptions{})
	}
	if _, err := s.CreateMailbox(ctx, "Old", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := add("Old", "1@x"); err != nil { // cached now
		t.Fatal(err)
	}
	if err := s.RenameMailbox(ctx, "Old", "New"); err != nil {
		t.Fatal(err)
	}
	if _, err := add("Old", "2@x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("append to a renamed-away mailbox: %v, want ErrNotFound", err)
	}
	if _, err := add("New", "3@x"); err != nil {
		t.Fatalf("append after rename: %v", err)
	}
	if err := s.DeleteMailbox(ctx, "New"); err != nil {
		t.Fatal(err)
	}
	if _, err := add("New", "4@x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("append to a deleted mailbox: %v, want ErrNotFound", err)
	}
	if _, err := s.CreateMailbox(ctx, "New", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := add("New", "5@x"); err != nil {
		t.Fatalf("append to a new mailbox under a deleted one's name: %v", err)
	}
	msgs, err := s.List(ctx, ListOptions{Mailbox: "New", Limit: 10})
	if err != nil || len(msgs) != 1 || msgs[0].MessageID != "5@x" {
		t.Fatalf("New holds %+v, %v; want only <5@x>", msgs, err)
	}
}
