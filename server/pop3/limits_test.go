package pop3d

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

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
