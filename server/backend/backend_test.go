package backend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

func TestBackend(t *testing.T) {
	b, err := New(t.TempDir(), Options{Domains: []string{"Example.TEST."}, MaxFailures: 3, FailureWindow: time.Minute,
		Sleep: func(context.Context, time.Duration) error { return nil }})
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
	// Three failures lock alice out at that address, even with the right
	// password; another IP is not.
	for range 3 {
		if _, err := b.Authenticate(ctx, "alice", "wrong", remote); !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("wrong password: %v", err)
		}
	}
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

// fakeClock is the time and sleeper of a penalty test: sleeping only
// records the delay.
type fakeClock struct {
	now    time.Time
	delays []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.delays = append(c.delays, d)
	return nil
}

// The login penalty works like Dovecot's: a delay per IP that grows with
// its failures, before each answer, and a lockout only per (IP, account)
// that says so; the other users behind the same address log in.
func TestLoginPenalty(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	b, err := New(t.TempDir(), Options{Domains: []string{"example.test"}, MaxFailures: 3, FailureWindow: time.Minute,
		MaxDelay: 2 * time.Second, Now: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	for _, u := range []string{"alice@example.test", "bob@example.test"} {
		if err := b.Users.Add(u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	office := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1234}
	home := &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 1}
	login := func(user, pw string, from net.Addr) (time.Duration, error) {
		t.Helper()
		clk.delays = nil
		_, err := b.Authenticate(ctx, user, pw, from)
		var d time.Duration
		for _, x := range clk.delays {
			d += x
		}
		return d, err
	}
	if d, err := login("alice", "pw", office); err != nil || d != 0 {
		t.Fatalf("first login: %v after %v", err, d)
	}
	// Three failures: each answer waits longer.
	for i, want := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second} {
		if d, err := login("alice", "wrong", office); !errors.Is(err, ErrAuthFailed) || d != want {
			t.Fatalf("failure %d: %v after %v, want ErrAuthFailed after %v", i+1, err, d, want)
		}
	}
	// alice is locked out at the office, and told so, even with her
	// password, without it being checked.
	if d, err := login("alice", "pw", office); !errors.Is(err, ErrThrottled) || d != time.Second {
		t.Fatalf("alice locked out: %v after %v", err, d)
	}
	// bob, behind the same address, logs in (after the address's delay);
	// alice logs in from home at once.
	if d, err := login("bob", "pw", office); err != nil || d != time.Second {
		t.Fatalf("bob at the office: %v after %v", err, d)
	}
	if d, err := login("alice", "pw", home); err != nil || d != 0 {
		t.Fatalf("alice at home: %v after %v", err, d)
	}
	// An unknown user is counted and locked out the same way.
	for range 3 {
		if _, err := login("nobody", "x", home); !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("unknown user: %v", err)
		}
	}
	if _, err := login("nobody", "x", home); !errors.Is(err, ErrThrottled) {
		t.Fatalf("unknown user after 3 failures: %v", err)
	}
	// The delay stops growing at MaxDelay.
	for range 5 {
		login("carol", "x", office)
	}
	if d, _ := login("bob", "wrong", office); d != 2*time.Second {
		t.Fatalf("delay after many failures: %v, want the 2s cap", d)
	}
	// An IPv6 client is counted per /64: moving within it does not help.
	for i := range 3 {
		a := &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("2001:db8:1:2::%x", i+1))}
		login("alice", "wrong", a)
	}
	if _, err := login("alice", "pw", &net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff::1")}); !errors.Is(err, ErrThrottled) {
		t.Fatalf("alice from another address of the same /64: %v", err)
	}
	if _, err := login("alice", "pw", &net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1")}); err != nil {
		t.Fatalf("alice from another /64: %v", err)
	}
	// When the window has passed, alice logs in at the office again.
	clk.now = clk.now.Add(2 * time.Minute)
	if d, err := login("alice", "pw", office); err != nil || d != 0 {
		t.Fatalf("alice after the window: %v after %v", err, d)
	}
}
