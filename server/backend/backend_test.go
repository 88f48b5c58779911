package backend

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

func TestBackend(t *testing.T) {
	b, err := New(t.TempDir(), Options{Domains: []string{"Example.TEST."}, MaxFailures: 3, FailureWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if err := b.Users.Add("alice@example.test", "pw"); err != nil {
		t.Fatal(err)
	}
	if !b.IsLocalDomain("EXAMPLE.test") || b.IsLocalDomain("other.test") {
		t.Error("IsLocalDomain")
	}
	if got := b.LoginName(" Alice "); got != "alice@example.test" {
		t.Errorf("LoginName = %q", got)
	}
	remote := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1234}
	if u, err := b.Authenticate(ctx, "alice", "pw", remote); err != nil || u != "alice@example.test" {
		t.Fatalf("login: %q %v", u, err)
	}
	for range 3 {
		if _, err := b.Authenticate(ctx, "alice", "wrong", remote); !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	// Throttled now, even with the right password; another IP is not.
	if _, err := b.Authenticate(ctx, "alice", "pw", remote); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after 3 failures: %v", err)
	}
	other := &net.TCPAddr{IP: net.ParseIP("192.0.2.8"), Port: 1}
	if _, err := b.Authenticate(ctx, "alice", "pw", other); err != nil {
		t.Fatalf("other IP: %v", err)
	}

	// A new user's store has the default mailboxes with their roles.
	s, err := b.Store(ctx, "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := b.Store(ctx, "ALICE@example.test"); again != s {
		t.Error("the store is not shared")
	}
	mbs, _ := s.Mailboxes(ctx)
	roles := map[string]string{}
	for _, mb := range mbs {
		roles[mb.Name] = mb.SpecialUse
	}
	want := map[string]string{"INBOX": "", "Sent": store.SpecialSent, "Drafts": store.SpecialDrafts, "Trash": store.SpecialTrash,
		"Junk": store.SpecialJunk, "Archive": store.SpecialArchive}
	for name, role := range want {
		if r, ok := roles[name]; !ok || r != role {
			t.Errorf("mailbox %s: role %q (present %v), want %q", name, r, ok, role)
		}
	}
	if _, err := b.Store(ctx, "nobody@example.test"); !errors.Is(err, ErrNoUser) {
		t.Errorf("store of a missing user: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store(ctx, "alice@example.test"); !errors.Is(err, ErrClosed) {
		t.Errorf("store after close: %v", err)
	}
}
