package pop3d

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/store"
)

// The real backend is a Backend.
var _ Backend = (*backend.Backend)(nil)

func newLocalListener(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// With the real backend: a login by local part, wrong passwords counted
// per address and account until the backend locks the account out for the
// address, and mail in the user's store.
func TestRealBackend(t *testing.T) {
	be, err := backend.New(t.TempDir(), backend.Options{Domains: []string{"example.test"}, MaxFailures: 2,
		StoreOptions: &store.Options{NoSync: true}, Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	if err := be.Users.Add(alice, alicePW); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := be.Store(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, store.Inbox, strings.NewReader(msgOne), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}

	srv := New(be, Options{AllowInsecureAuth: true, Hostname: "pop.example.test"})
	l := newLocalListener(t)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	e := &env{t: t, srv: srv, addr: l.Addr().String()}

	cl := e.dial()
	cl.cmd("USER alice", "+OK")
	cl.cmd("PASS "+alicePW, "+OK Logged in, 1 messages")
	cl.cmd("RETR 1", "+OK")
	if got := string(cl.body()); got != msgOne {
		t.Fatalf("RETR 1: %q", got)
	}
	cl.cmd("QUIT", "+OK")

	cl = e.dial()
	cl.cmd("AUTH PLAIN "+plainIR("", "alice", "wrong"), "-ERR [AUTH] Authentication failed")
	cl.cmd("AUTH PLAIN "+plainIR("", "nobody@example.test", "wrong"), "-ERR [AUTH] Authentication failed")
	cl.cmd("AUTH PLAIN "+plainIR("", "nobody@example.test", "wrong"), "-ERR [AUTH] Authentication failed")
	cl.expectClosed()
	cl = e.dial()
	cl.cmd("AUTH PLAIN "+plainIR("", "nobody@example.test", "wrong"), "-ERR [SYS/TEMP] Too many failed logins")
	cl.cmd("AUTH PLAIN "+plainIR("", "alice", alicePW), "+OK Logged in")
}
