package pop3d

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/netlimit"
)

// closedWithin fails unless the server closes cl within d; it returns
// what was left to read.
func (cl *client) closedWithin(d time.Duration) string {
	cl.t.Helper()
	cl.c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(cl.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		cl.t.Fatalf("still open after %v (read %q)", d, b)
	}
	return string(b)
}

// Before login a client may stay silent LoginIdleTimeout, after it
// IdleTimeout.
func TestLoginIdleTimeout(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true, LoginIdleTimeout: 100 * time.Millisecond, IdleTimeout: time.Minute}, false, threeMessages())
	cl := e.dial()
	if got := cl.closedWithin(5 * time.Second); got != "-ERR Disconnected for inactivity.\r\n" {
		t.Fatalf("before login: %q", got)
	}
	cl = e.dial()
	cl.cmd("USER "+alice, "+OK")
	if got := cl.closedWithin(5 * time.Second); got != "-ERR Disconnected for inactivity.\r\n" {
		t.Fatalf("between USER and PASS: %q", got)
	}
	cl = e.dial()
	cl.login()
	cl.c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if line, err := cl.br.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after login: %q, %v; want the session kept", line, err)
	}
	cl.cmd("STAT", "+OK 3 ")
}

// STLS and POP3S handshakes have HandshakeTimeout to finish.
func TestHandshakeTimeout(t *testing.T) {
	e := newEnv(t, Options{HandshakeTimeout: 100 * time.Millisecond}, true, nil)
	for _, partial := range []bool{false, true} {
		cl := e.dial()
		cl.cmd("STLS", "+OK")
		if partial {
			cl.c.Write([]byte{0x16, 0x03, 0x01, 0x02})
		}
		cl.closedWithin(5 * time.Second)
	}
	e.waitIdle()
	// ServeTLS, for POP3S without netlimit, has the deadline too.
	c, err := net.Dial("tcp", e.tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl := &client{t: t, c: c, br: bufio.NewReader(c)}
	cl.closedWithin(5 * time.Second)
}

// On netlimit listeners a login marks the connection, so the global cap
// never evicts it; POP3S from netlimit works as from ServeTLS.
func TestNetlimitLogin(t *testing.T) {
	e := newEnv(t, Options{}, true, threeMessages())
	cfg, _ := testTLS(t)
	lim := netlimit.New(netlimit.Options{MaxConns: 10})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(lim.Protocol(netlimit.ProtocolOptions{Name: "pop3"}).Listen(l, cfg)) }()
	c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl := &client{t: t, c: c, br: bufio.NewReader(c)}
	cl.expect("+OK ")
	if lim.Pending() != 1 {
		t.Fatalf("pending %d before login", lim.Pending())
	}
	cl.login()
	if lim.Pending() != 0 || lim.Open() != 1 {
		t.Fatalf("after login: pending %d, open %d", lim.Pending(), lim.Open())
	}
	cl.cmd("QUIT", "+OK")
	e.srv.Close()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
}

// ctxBackend keeps a login waiting until its context ends.
type ctxBackend struct {
	*fakeBackend
	arrived   chan struct{}
	cancelled chan error
}

func (b ctxBackend) Authenticate(ctx context.Context, username, password string, remote net.Addr) (string, error) {
	close(b.arrived)
	select {
	case <-ctx.Done():
		b.cancelled <- ctx.Err()
	case <-time.After(10 * time.Second):
		b.cancelled <- errors.New("not cancelled")
	}
	return "", backend.ErrAuthFailed
}

// Close cancels what sessions do; Serve returns ErrServerClosed after
// Shutdown and Close, and at once on a closed server.
func TestLifecycle(t *testing.T) {
	be := ctxBackend{newFakeBackend(t), make(chan struct{}), make(chan error, 1)}
	srv := New(be, Options{AllowInsecureAuth: true})
	l := newLocalListener(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl := &client{t: t, c: c, br: bufio.NewReader(c)}
	cl.expect("+OK")
	cl.cmd("USER alice", "+OK")
	cl.send("PASS x")
	<-be.arrived
	srv.Close()
	if err := <-be.cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("the login's context after Close: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
	if err := srv.Serve(newLocalListener(t)); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve on a closed server: %v", err)
	}

	srv = New(newFakeBackend(t), Options{Hostname: "pop.example.test"})
	l = newLocalListener(t)
	go func() { served <- srv.Serve(l) }()
	e := &env{t: t, srv: srv, addr: l.Addr().String()}
	e.dial() // Serve runs
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}
