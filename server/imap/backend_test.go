package imapd

import (
	"net"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/store"
)

// TestRealBackend logs in through server/backend: a new user's store is
// created with the default mailboxes and their SPECIAL-USE attributes.
func TestRealBackend(t *testing.T) {
	be, err := backend.New(t.TempDir(), backend.Options{Domains: []string{"a.test"}, StoreOptions: &store.Options{NoSync: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	if err := be.Users.Add(testUser, testPass); err != nil {
		t.Fatal(err)
	}
	srv := New(be, Options{InsecureAuth: true})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c, err := imapclient.DialInsecure(l.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "wrong").Wait(); err == nil {
		t.Fatal("wrong password accepted")
	}
	if err := c.Login("alice", testPass).Wait(); err != nil {
		t.Fatal(err)
	}
	list, err := c.List("", "*", &imap.ListOptions{SelectSpecialUse: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range list {
		got = append(got, d.Mailbox+" "+string(d.Attrs[len(d.Attrs)-1]))
	}
	want := []string{`Archive \Archive`, `Drafts \Drafts`, `Junk \Junk`, `Sent \Sent`, `Trash \Trash`}
	if !slices.Equal(got, want) {
		t.Fatalf("special-use mailboxes %v, want %v", got, want)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
}
