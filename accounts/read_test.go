package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// openLocal opens a POP3-mode account (local folders only) with the raw
// messages of boxes (folder → messages; a missing folder is created).
func openLocal(t testing.TB, boxes map[string][]string) *Account {
	t.Helper()
	ctx := context.Background()
	acct := AccountConfig{Name: "t", Email: "me@example.test", Mode: ModePOP3,
		POP3: ServerConfig{Host: "127.0.0.1", Port: 1}, SMTP: ServerConfig{Host: "127.0.0.1", Port: 1}}
	a, err := OpenAccount(ctx, acct, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	for box, raws := range boxes {
		if _, err := a.store.CreateMailbox(ctx, box, ""); err != nil && !errors.Is(err, store.ErrExists) {
			t.Fatal(err)
		}
		for _, raw := range raws {
			if _, err := a.store.Append(ctx, box, strings.NewReader(raw), store.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return a
}

// testMessage is a small message; n makes the Message-ID and date unique.
func testMessage(n int, from, subject, body string) string {
	return fmt.Sprintf("From: %s\r\nTo: me@example.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <m%d@example.test>\r\n\r\n%s\r\n",
		from, subject, time.Date(2026, 1, 1, 0, n, 0, 0, time.UTC).Format(time.RFC1123Z), n, body)
}

// TestPageCountScope: Page and Count scope a search to the folder by one
// rule read from the query's syntax tree. subject:"check in:room" has no
// in: term (the in: is inside a quoted value), so it stays in the folder;
// a real in: term chooses its own mailboxes. Count equals the length of
// an unbounded Page for every query.
func TestPageCountScope(t *testing.T) {
	ctx := context.Background()
	boxes := map[string][]string{}
	n := 0
	add := func(box string, count int, from, subject, body string) {
		for range count {
			n++
			boxes[box] = append(boxes[box], testMessage(n, from, subject, body))
		}
	}
	add(Inbox, 6, "Sender <s@example.test>", "note", "body")
	add("Archive", 2, "Room <room@example.test>", "check in:room", "please check in")
	add(Inbox, 1, "Room <room@example.test>", "check in:room", "please check in")
	add("Old mail", 3, `"Q \"Quote\" Man" <q@example.test>`, "old note", "archived")
	a := openLocal(t, boxes)

	tests := []struct {
		folder, query string
		want          int
	}{
		{"Archive", `subject:"check in:room"`, 2},
		{Inbox, `subject:"check in:room"`, 1},
		{"Archive", `"in:room"`, 2},
		{"Archive", "check", 2},
		{Inbox, "check OR note", 7},
		{"Archive", "in:INBOX note", 6},
		{"Archive", "-in:Archive room", 1},
		{"Archive", "(in:Archive OR in:INBOX) room", 3},
		{"", `subject:"check in:room"`, 3},
		{"", "note", 9},
		{"Old mail", "note", 3},
		{"Old mail", "note OR check", 3},
		{"inbox", "note", 6},
		{"Trash", "room", 0},
		{Inbox, "is:unread", 7},
		{"Archive", "", 2},
	}
	for _, tc := range tests {
		req := PageRequest{Folder: tc.folder, Query: tc.query, Limit: 1000}
		count, err := a.Count(ctx, req)
		if err != nil {
			t.Fatalf("%s %q: count: %v", tc.folder, tc.query, err)
		}
		page, err := a.Page(ctx, req)
		if err != nil {
			t.Fatalf("%s %q: page: %v", tc.folder, tc.query, err)
		}
		if count != tc.want || len(page) != tc.want {
			t.Errorf("%s %q: count %d, page %d; want %d", tc.folder, tc.query, count, len(page), tc.want)
		}
	}

	// A folder that does not exist is the same error both ways.
	for _, q := range []string{"", "room"} {
		req := PageRequest{Folder: "Nowhere", Query: q}
		if _, err := a.Count(ctx, req); !errors.Is(err, ErrNotFound) {
			t.Errorf("count in a missing folder, query %q: %v", q, err)
		}
		if _, err := a.Page(ctx, req); !errors.Is(err, ErrNotFound) {
			t.Errorf("page of a missing folder, query %q: %v", q, err)
		}
	}
	// A malformed query is a *QueryError both ways, not a text splice.
	for _, q := range []string{"(unbalanced", "a) OR (b"} {
		var qe *QueryError
		if _, err := a.Count(ctx, PageRequest{Folder: "Archive", Query: q}); !errors.As(err, &qe) {
			t.Errorf("count %q: %v", q, err)
		}
		if _, err := a.Page(ctx, PageRequest{Folder: "Archive", Query: q}); !errors.As(err, &qe) {
			t.Errorf("page %q: %v", q, err)
		}
	}
}

// TestReadMethods: the reading methods the interface and the command line
// use instead of the store.
func TestReadMethods(t *testing.T) {
	ctx := context.Background()
	var raws []string
	for i := range 30 {
		raws = append(raws, testMessage(i, fmt.Sprintf("Sender %d <s%d@example.test>", i, i%3), fmt.Sprintf("note %d", i), fmt.Sprintf("body %d", i)))
	}
	raws = append(raws, "From: Ann <ann@example.test>\r\nTo: me@example.test\r\nSubject: file\r\nMessage-ID: <att@example.test>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"+
		"--b\r\nContent-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nattached text\r\n--b--\r\n")
	a := openLocal(t, map[string][]string{Inbox: raws})

	first, err := a.Page(ctx, PageRequest{Folder: Inbox, Limit: 10})
	if err != nil || len(first) != 10 {
		t.Fatalf("first page: %d %v", len(first), err)
	}
	next, err := a.Page(ctx, PageRequest{Folder: Inbox, Limit: 10, After: first[9].Key()})
	if err != nil || len(next) != 10 {
		t.Fatalf("keyset page: %d %v", len(next), err)
	}
	byOffset, err := a.Page(ctx, PageRequest{Folder: Inbox, Limit: 10, Offset: 10})
	if err != nil || byOffset[0].ID != next[0].ID {
		t.Fatalf("offset and keyset pages differ: %v", err)
	}
	if th, err := a.Page(ctx, PageRequest{Folder: Inbox, Limit: 50, Threaded: true}); err != nil || len(th) != 31 {
		t.Fatalf("threaded: %d %v", len(th), err)
	}
	mbs, err := a.Mailboxes(ctx)
	if err != nil || len(mbs) == 0 || mbs[0].Name != Inbox || mbs[0].Total != 31 {
		t.Fatalf("mailboxes: %+v %v", mbs, err)
	}
	if mb, err := a.Mailbox(ctx, "inbox"); err != nil || mb.Name != Inbox {
		t.Fatalf("mailbox inbox: %+v %v", mb, err)
	}
	if _, err := a.Mailbox(ctx, "Nowhere"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing mailbox: %v", err)
	}

	addrs, err := a.Addresses(ctx, "s2", 5)
	if err != nil || len(addrs) != 1 || addrs[0].Addr != "s2@example.test" {
		t.Fatalf("addresses %v %v", addrs, err)
	}
	if addrs, _ := a.Addresses(ctx, "Sender", 3); len(addrs) != 3 {
		t.Fatalf("addresses by name %v", addrs)
	}
	if addrs, _ := a.Addresses(ctx, "--", 3); addrs != nil {
		t.Fatalf("addresses of punctuation %v", addrs)
	}

	att, err := a.List(ctx, "", "subject:file", 1)
	if err != nil || len(att) != 1 {
		t.Fatalf("search file: %v %v", att, err)
	}
	r, err := a.Render(ctx, att[0].ID)
	if err != nil || len(r.Attachments) != 1 {
		t.Fatalf("render: %+v %v", r, err)
	}
	var buf bytes.Buffer
	if _, err := a.SaveAttachment(ctx, att[0].ID, r.Attachments[0].Part, &buf); err != nil || !strings.Contains(buf.String(), "attached text") {
		t.Fatalf("save attachment: %q %v", buf.String(), err)
	}

	sub := a.Subscribe()
	defer sub.Close()
	if err := a.SetFlags(ctx, []int64{first[0].ID}, []string{FlagFlagged}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sub.C:
		if ch := sub.Pull(); len(ch) == 0 || ch[0].Kind != ChangeFlags {
			t.Fatalf("changes %+v", ch)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change published")
	}
	if p, err := a.PendingChanges(ctx); err != nil || len(p) != 0 {
		t.Fatalf("a POP3 account journals nothing: %v %v", p, err)
	}
}
