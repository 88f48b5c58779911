package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/store"
)

// openTestAccount opens a POP3-mode account (local folders only) with n
// messages in INBOX and the extra messages of more (folder → raw
// messages). The messages are put in the account's store before the
// account opens: the interface itself never sees the store.
func openTestAccount(t testing.TB, n int, more map[string][]string) *AccountBackend {
	t.Helper()
	ctx := context.Background()
	acct := accounts.AccountConfig{Name: "t", Email: "me@example.test", Mode: accounts.ModePOP3,
		POP3: accounts.ServerConfig{Host: "127.0.0.1", Port: 1}, SMTP: accounts.ServerConfig{Host: "127.0.0.1", Port: 1}}
	base := t.TempDir()
	if err := os.MkdirAll(acct.DataDir(base), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, acct.DataDir(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		raw := fmt.Sprintf("From: Sender %d <s%d@example.test>\r\nTo: me@example.test\r\nSubject: note %d\r\nDate: %s\r\nMessage-ID: <n%d@example.test>\r\n\r\nbody %d\r\n",
			i, i%3, i, time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC).Format(time.RFC1123Z), i, i)
		more[accounts.Inbox] = append(more[accounts.Inbox], raw)
	}
	for box, raws := range more {
		if _, err := st.CreateMailbox(ctx, box, ""); err != nil && !errors.Is(err, store.ErrExists) {
			t.Fatal(err)
		}
		for _, raw := range raws {
			if _, err := st.Append(ctx, box, strings.NewReader(raw), store.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := accounts.OpenAccount(ctx, acct, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return NewAccountBackend(a)
}

func TestAccountBackend(t *testing.T) {
	ctx := context.Background()
	b := openTestAccount(t, 30, map[string][]string{})
	if n, err := b.Count(ctx, PageRequest{Folder: accounts.Inbox}); err != nil || n != 30 {
		t.Fatalf("count %d %v", n, err)
	}
	first, err := b.Page(ctx, PageRequest{Folder: accounts.Inbox, Limit: 10})
	if err != nil || len(first) != 10 || first[0].Subject != "note 29" {
		t.Fatalf("first page: %d %v", len(first), err)
	}
	next, err := b.Page(ctx, PageRequest{Folder: accounts.Inbox, Limit: 10, After: first[9].Key()})
	if err != nil || next[0].Subject != "note 19" {
		t.Fatalf("keyset page: %v %v", next, err)
	}
	byOffset, _ := b.Page(ctx, PageRequest{Folder: accounts.Inbox, Limit: 10, Offset: 10})
	if byOffset[0].ID != next[0].ID {
		t.Fatal("offset and keyset pages differ")
	}
	if th, err := b.Page(ctx, PageRequest{Folder: accounts.Inbox, Limit: 50, Threaded: true}); err != nil || len(th) != 30 {
		t.Fatalf("threaded: %d %v", len(th), err)
	}
	if n, err := b.Count(ctx, PageRequest{Folder: accounts.Inbox, Query: "from:s1"}); err != nil || n != 10 {
		t.Fatalf("search count %d %v", n, err)
	}
	if n, _ := b.Count(ctx, PageRequest{Folder: "Trash", Query: "from:s1"}); n != 0 {
		t.Fatalf("search in Trash counted %d", n)
	}
	if res, err := b.Page(ctx, PageRequest{Folder: accounts.Inbox, Query: "from:s1", Limit: 50}); err != nil || len(res) != 10 {
		t.Fatalf("search page %d %v", len(res), err)
	}
	if _, err := b.Count(ctx, PageRequest{Folder: accounts.Inbox, Query: "(unbalanced"}); err == nil {
		t.Fatal("bad query accepted")
	}
	addrs, err := b.Addresses(ctx, "s2", 5)
	if err != nil || len(addrs) != 1 || addrs[0].Addr != "s2@example.test" {
		t.Fatalf("addresses %v %v", addrs, err)
	}
	if addrs, _ := b.Addresses(ctx, "Sender", 3); len(addrs) != 3 {
		t.Fatalf("addresses by name %v", addrs)
	}

	feed := b.Subscribe()
	defer feed.Close()
	if err := b.Delete(ctx, []int64{first[0].ID}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-feed.C():
		if ch := feed.Pull(); len(ch) == 0 {
			t.Fatal("no change pulled")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no change published")
	}
	if trash, _ := b.Trash(ctx); trash != "Trash" {
		t.Fatalf("trash %q", trash)
	}
	if n, _ := b.Count(ctx, PageRequest{Folder: "Trash"}); n != 1 {
		t.Fatalf("Trash has %d", n)
	}
	d := b.Compose()
	d.To = []compose.Address{{Addr: "you@example.test"}}
	d.Subject = "unfinished"
	if err := b.SaveDraft(ctx, d); err != nil {
		t.Fatal(err)
	}
	drafts, _ := b.Page(ctx, PageRequest{Folder: "Drafts", Limit: 5})
	if len(drafts) != 1 || drafts[0].Subject != "unfinished" || !drafts[0].HasFlag(accounts.FlagDraft) {
		t.Fatalf("drafts %+v", drafts)
	}
	if err := b.Queue(ctx, d); err != nil {
		t.Fatal(err)
	}
	boxes, _ := b.Mailboxes(ctx)
	for _, mb := range boxes {
		if mb.Name == outboxName && mb.Total != 1 {
			t.Fatalf("Outbox has %d", mb.Total)
		}
	}
	r, err := b.Render(ctx, next[0].ID)
	if err != nil || !strings.Contains(r.Text, "body 19") {
		t.Fatalf("render %v %v", r, err)
	}
}

// A search in a folder counts and pages by one rule, read from the query's
// syntax tree: subject:"check in:room" names no mailbox, so it stays in
// the folder; a real in: term chooses its own mailboxes.
func TestAccountBackendScope(t *testing.T) {
	ctx := context.Background()
	var room []string
	for i := range 3 {
		room = append(room, fmt.Sprintf("From: Room <room@example.test>\r\nTo: me@example.test\r\nSubject: check in:room %d\r\nDate: %s\r\nMessage-ID: <r%d@example.test>\r\n\r\nplease check in\r\n",
			i, time.Date(2026, 2, 1, 0, i, 0, 0, time.UTC).Format(time.RFC1123Z), i))
	}
	b := openTestAccount(t, 6, map[string][]string{"Archive": room[:2], accounts.Inbox: room[2:]})
	tests := []struct {
		folder, query string
		want          int
	}{
		{"Archive", `subject:"check in:room"`, 2},
		{accounts.Inbox, `subject:"check in:room"`, 1},
		{"Archive", `"in:room"`, 2},
		{"Archive", "check", 2},
		{accounts.Inbox, "check OR note", 7},
		{"Archive", "in:INBOX note", 6},
		{"Archive", "-in:Archive room", 1},
		{"", `subject:"check in:room"`, 3},
		{"Trash", "room", 0},
	}
	for _, tc := range tests {
		req := PageRequest{Folder: tc.folder, Query: tc.query, Limit: 1000}
		n, err := b.Count(ctx, req)
		if err != nil {
			t.Fatalf("%s %q: count: %v", tc.folder, tc.query, err)
		}
		page, err := b.Page(ctx, req)
		if err != nil {
			t.Fatalf("%s %q: page: %v", tc.folder, tc.query, err)
		}
		if n != tc.want || len(page) != tc.want {
			t.Errorf("%s %q: count %d, page %d; want %d", tc.folder, tc.query, n, len(page), tc.want)
		}
	}
}

// TestAccountBackendPosition: the row of a message in its folder, by
// date and by thread, is where Page lists it.
func TestAccountBackendPosition(t *testing.T) {
	ctx := context.Background()
	b := openTestAccount(t, 40, map[string][]string{"Other": {"From: a@example.test\r\nSubject: elsewhere\r\n\r\nx\r\n"}})
	for _, threaded := range []bool{false, true} {
		req := PageRequest{Folder: accounts.Inbox, Threaded: threaded, Limit: 100}
		all, err := b.Page(ctx, req)
		if err != nil || len(all) != 40 {
			t.Fatalf("page: %d %v", len(all), err)
		}
		for _, i := range []int{0, 17, 39} {
			if row, err := b.Position(ctx, req, all[i].ID); err != nil || row != i {
				t.Fatalf("threaded %v: message %d at row %d, Position says %d (%v)", threaded, all[i].ID, i, row, err)
			}
		}
	}
	other, _ := b.Page(ctx, PageRequest{Folder: "Other"})
	if _, err := b.Position(ctx, PageRequest{Folder: accounts.Inbox}, other[0].ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("a message of another folder: %v", err)
	}
}

// TestThreadedListRealBackend: the threaded list of a real account pages
// by keyset windows to its end and back.
func TestThreadedListRealBackend(t *testing.T) {
	b := openTestAccount(t, 900, map[string][]string{})
	h := newHarness(t, 100, 24, Options{Accounts: []Backend{b}, Threads: true})
	h.wantView("threads", "note 899", "1/900")
	h.keys("G")
	h.wantView("note 0 ", "900/900")
	for i := 0; i < 20; i++ {
		h.process(keyMsg("pgup"))
	}
	h.settle()
	sel, ok := h.m.list.selected()
	if !ok || sel.Subject != fmt.Sprintf("note %d", 899-h.m.list.cursor) {
		t.Fatalf("row %d holds %q", h.m.list.cursor, sel.Subject)
	}
}
