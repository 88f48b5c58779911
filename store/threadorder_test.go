package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// threadMsg is a message of subject at minute min of a day, with its
// Message-ID and the ids it answers.
func threadMsg(id, subject string, min int, answers ...string) string {
	h := fmt.Sprintf("From: a@example.test\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\n",
		subject, id, time.Date(2026, 3, 2, 10, min, 0, 0, time.UTC).Format(time.RFC1123Z))
	if len(answers) > 0 {
		h += "In-Reply-To: <" + answers[len(answers)-1] + ">\r\nReferences: <" + strings.Join(answers, "> <") + ">\r\n"
	}
	return h + "\r\nbody\r\n"
}

// treeOf lists a mailbox by thread as "subject/depth" lines.
func treeOf(t *testing.T, s *Store, mailbox string, collapsed ...int64) []string {
	t.Helper()
	msgs, err := s.List(context.Background(), ListOptions{Mailbox: mailbox, Sort: SortThread, Limit: 1000, Collapsed: collapsed})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		line := fmt.Sprintf("%s/%d", m.Subject, m.Depth)
		if m.ThreadSize > 0 {
			line += fmt.Sprintf("(%d", m.ThreadSize)
			if m.ThreadUnread > 0 {
				line += fmt.Sprintf(", %d unread", m.ThreadUnread)
			}
			line += ")"
		}
		out = append(out, line)
	}
	return out
}

func wantTree(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("tree\n  %s\nwant\n  %s", strings.Join(got, " "), strings.Join(want, " "))
	}
}

// TestThreadOrder: a thread lists as a tree (parents before replies,
// siblings oldest first), whatever order its messages arrive in; a
// parent arriving late re-lays the thread out; a move re-lays out both
// mailboxes; the newest thread first.
func TestThreadOrder(t *testing.T) {
	s, _ := openTest(t)
	// Replies first, the root last: r1 answers root, r2 answers r1,
	// r3 answers root (later than r1), r1b answers r1.
	mustAppend(t, s, "INBOX", threadMsg("r2", "r2", 20, "root", "r1"))
	mustAppend(t, s, "INBOX", threadMsg("other", "other", 5))
	mustAppend(t, s, "INBOX", threadMsg("r3", "r3", 15, "root"))
	mustAppend(t, s, "INBOX", threadMsg("r1", "r1", 10, "root"))
	mustAppend(t, s, "INBOX", threadMsg("r1b", "r1b", 12, "root", "r1"))
	wantTree(t, treeOf(t, s, "INBOX"), "r1/0", "r1b/1", "r2/1", "r3/0", "other/0")
	mustAppend(t, s, "INBOX", threadMsg("root", "root", 1))
	wantTree(t, treeOf(t, s, "INBOX"), "root/0", "r1/1", "r1b/2", "r2/2", "r3/1", "other/0")
	// A new message in "other" makes it the newest thread.
	mustAppend(t, s, "INBOX", threadMsg("o2", "o2", 30, "other"))
	wantTree(t, treeOf(t, s, "INBOX"), "other/0", "o2/1", "root/0", "r1/1", "r1b/2", "r2/2", "r3/1")
	// Moving r1 away: its replies hang from root now; in Archive, r1 alone.
	if _, err := s.CreateMailbox(context.Background(), "Archive", ""); err != nil {
		t.Fatal(err)
	}
	all, _ := s.List(context.Background(), ListOptions{Mailbox: "INBOX", Sort: SortThread, Limit: 100})
	var r1 uint32
	for _, m := range all {
		if m.Subject == "r1" {
			r1 = m.UID
		}
	}
	if _, _, err := s.Move(context.Background(), "INBOX", []uint32{r1}, "Archive"); err != nil {
		t.Fatal(err)
	}
	wantTree(t, treeOf(t, s, "INBOX"), "other/0", "o2/1", "root/0", "r1b/1", "r3/1", "r2/1")
	wantTree(t, treeOf(t, s, "Archive"), "r1/0")
	// Collapsed: the first message with the thread's size.
	var rootThread int64
	for _, m := range all {
		if m.Subject == "root" {
			rootThread = m.ThreadID
		}
	}
	wantTree(t, treeOf(t, s, "INBOX", rootThread), "other/0", "o2/1", "root/0(4, 4 unread)")
	// Reading all but one reply: the folded thread still shows it.
	var seen []uint32
	for _, m := range all {
		if m.ThreadID == rootThread && m.Subject != "r2" && m.Subject != "r1" {
			seen = append(seen, m.UID)
		}
	}
	if _, err := s.SetFlags(context.Background(), "INBOX", seen, FlagsAdd, []string{FlagSeen}); err != nil {
		t.Fatal(err)
	}
	wantTree(t, treeOf(t, s, "INBOX", rootThread), "other/0", "o2/1", "root/0(4, 1 unread)")
	if n, err := s.ListCount(context.Background(), ListOptions{Mailbox: "INBOX", Sort: SortThread, Collapsed: []int64{rootThread}}); err != nil || n != 3 {
		t.Fatalf("count collapsed: %d %v", n, err)
	}
}

// TestThreadKeyset: paging the thread order by keyset gives the rows
// offset paging gives, and Position finds each row where List put it,
// collapsed threads too.
func TestThreadKeyset(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i := 0; i < 40; i++ {
		id := fmt.Sprintf("m%d", i)
		if i%4 == 0 {
			mustAppend(t, s, "INBOX", threadMsg(id, id, i))
		} else {
			mustAppend(t, s, "INBOX", threadMsg(id, id, i, fmt.Sprintf("m%d", i/4*4)))
		}
	}
	full, err := s.List(ctx, ListOptions{Mailbox: "INBOX", Sort: SortThread, Limit: 100})
	if err != nil || len(full) != 40 {
		t.Fatalf("list: %d %v", len(full), err)
	}
	for _, collapsed := range [][]int64{nil, {full[0].ThreadID, full[9].ThreadID}} {
		opts := ListOptions{Mailbox: "INBOX", Sort: SortThread, Limit: 7, Collapsed: collapsed}
		all, _ := s.List(ctx, ListOptions{Mailbox: "INBOX", Sort: SortThread, Limit: 100, Collapsed: collapsed})
		var paged []Message
		for {
			page, err := s.List(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			opts.After = page[len(page)-1].Key()
		}
		if len(paged) != len(all) {
			t.Fatalf("collapsed %v: keyset %d rows, offset %d", collapsed, len(paged), len(all))
		}
		for i := range all {
			if paged[i].ID != all[i].ID {
				t.Fatalf("row %d: keyset %s, offset %s", i, paged[i].Subject, all[i].Subject)
			}
			pos, err := s.Position(ctx, ListOptions{Mailbox: "INBOX", Sort: SortThread, Collapsed: collapsed}, all[i].ID)
			if err != nil || pos != i {
				t.Fatalf("position of row %d: %d %v", i, pos, err)
			}
		}
		if n, _ := s.ListCount(ctx, ListOptions{Mailbox: "INBOX", Sort: SortThread, Collapsed: collapsed}); n != len(all) {
			t.Fatalf("count %d, listed %d", n, len(all))
		}
	}
	// A message hidden in a collapsed thread is at its thread's row.
	pos, err := s.Position(ctx, ListOptions{Mailbox: "INBOX", Sort: SortThread, Collapsed: []int64{full[0].ThreadID}}, full[2].ID)
	if err != nil || pos != 0 {
		t.Fatalf("hidden message at %d %v", pos, err)
	}
}

// TestThreadOrderMigration: a store of schema 9 (no thread order) gets
// it when opened.
func TestThreadOrderMigration(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	mustAppend(t, s, "INBOX", threadMsg("b", "b", 2, "a"))
	mustAppend(t, s, "INBOX", threadMsg("a", "a", 1))
	mustAppend(t, s, "INBOX", threadMsg("c", "c", 3))
	// Back to version 9: no triggers, index or columns.
	for _, q := range []string{"DROP TRIGGER thread_order_insert", "DROP TRIGGER thread_order_delete", "DROP TRIGGER thread_order_move",
		"DROP TRIGGER thread_order_date", "DROP INDEX messages_by_thread_order", "DROP TABLE thread_dirty",
		"ALTER TABLE messages DROP COLUMN thread_date", "ALTER TABLE messages DROP COLUMN thread_order",
		"ALTER TABLE messages DROP COLUMN thread_depth", "PRAGMA user_version = 9"} {
		if _, err := s.wdb.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s2, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	wantTree(t, treeOf(t, s2, "INBOX"), "c/0", "a/0", "b/1")
	mustAppend(t, s2, "INBOX", threadMsg("d", "d", 4, "a", "b"))
	wantTree(t, treeOf(t, s2, "INBOX"), "a/0", "b/1", "d/2", "c/0")
}

func TestThreadTreeCycle(t *testing.T) {
	msgs := []threadRow{
		{id: 1, msgID: "a", inReplyTo: "b", date: 1},
		{id: 2, msgID: "b", inReplyTo: "a", date: 2},
		{id: 3, msgID: "c", inReplyTo: "c", date: 3},
	}
	got := threadTree(msgs)
	seen := map[int]bool{}
	for _, p := range got {
		if seen[p.place] {
			t.Fatalf("two messages at place %d: %+v", p.place, got)
		}
		seen[p.place] = true
	}
}
