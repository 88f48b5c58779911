package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/store"
)

// limitsServer is a test server with alice and bob and its limits
// changed by tweak before Start.
func limitsServer(t *testing.T, tweak func(*Limits)) *Server {
	t.Helper()
	return testServer(t, "a.test", []string{"alice@a.test", "bob@a.test"}, func(s *Server) { tweak(&s.cfg.Limits) })
}

// dialFrom connects to addr from the loopback address src, so that a test
// has clients on several IPs.
func dialFrom(t *testing.T, src string, addr net.Addr) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Skipf("cannot dial from %s: %v", src, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reads from c until the server closes it and returns what
// it read; it fails when the connection is still open after d.
func closedWithin(t *testing.T, what string, c net.Conn, r io.Reader, d time.Duration) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	if r == nil {
		r = c
	}
	b, err := io.ReadAll(r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: still open after %v (read %q)", what, d, b)
	}
	return string(b)
}

// lineConn is a raw line-oriented client.
type lineConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func newLineConn(t *testing.T, c net.Conn) *lineConn {
	return &lineConn{t: t, c: c, r: bufio.NewReader(c)}
}

// cmd sends line (unless empty) and reads lines until one starts with
// want.
func (l *lineConn) cmd(line, want string) {
	l.t.Helper()
	if line != "" {
		fmt.Fprintf(l.c, "%s\r\n", line)
	}
	l.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		got, err := l.r.ReadString('\n')
		if err != nil {
			l.t.Fatalf("%q: read %q, %v; want %s", line, got, err, want)
		}
		if strings.HasPrefix(got, want) {
			return
		}
	}
}

// A client that opens a TLS port, or asks for STARTTLS or STLS, and then
// never completes the handshake is cut at the deadline.
func TestHandshakeDeadline(t *testing.T) {
	s := limitsServer(t, func(l *Limits) {
		l.HandshakeTimeout.Duration = 200 * time.Millisecond
		l.LoginIdleTimeout.Duration = 200 * time.Millisecond
	})
	for _, name := range []string{"imaps", "pop3s", "smtps"} {
		silent := dialFrom(t, "127.0.0.1", s.Addr(name))
		partial := dialFrom(t, "127.0.0.1", s.Addr(name))
		partial.Write([]byte{0x16, 0x03, 0x01, 0x02}) // a record header, then nothing
		closedWithin(t, name+" silent", silent, nil, 5*time.Second)
		closedWithin(t, name+" partial", partial, nil, 5*time.Second)
	}
	starttls := []struct {
		name   string
		lines  [][2]string // command, reply prefix
		suffix string
	}{
		{"imap", [][2]string{{"", "* OK"}, {"a STARTTLS", "a OK"}}, ""},
		{"pop3", [][2]string{{"", "+OK"}, {"STLS", "+OK"}}, ""},
		{"submission", [][2]string{{"", "220 "}, {"EHLO c.test", "250 "}, {"STARTTLS", "220 "}}, ""},
	}
	for _, st := range starttls {
		for _, partial := range []bool{false, true} {
			c := newLineConn(t, dialFrom(t, "127.0.0.1", s.Addr(st.name)))
			for _, l := range st.lines {
				c.cmd(l[0], l[1])
			}
			if partial {
				c.c.Write([]byte{0x16, 0x03, 0x01, 0x02})
			}
			closedWithin(t, fmt.Sprintf("%s STARTTLS (partial %v)", st.name, partial), c.c, c.r, 5*time.Second)
		}
	}
}

// Per-IP caps on IMAP and POP3 as on SMTP, on loopback too when it is not
// exempt: a refused connection gets a short reply and is closed.
func TestPerIPCaps(t *testing.T) {
	no := false
	s := limitsServer(t, func(l *Limits) {
		l.MaxConnsPerIP, l.IMAPMaxConnsPerIP, l.POP3MaxConnsPerIP = 2, 2, 2
		l.ExemptLoopback = &no
	})
	// Each case from its own address: IMAP and IMAPS share one count.
	for _, p := range []struct{ name, src, greeting, refusal string }{
		{"imap", "127.0.0.1", "* OK", "* BYE Too many connections from your address"},
		{"imaps", "127.0.0.3", "* OK", ""},
		{"pop3", "127.0.0.4", "+OK", "-ERR [SYS/TEMP] Too many connections from your address"},
		{"smtp", "127.0.0.5", "220 ", "421 4.7.0 Too many connections from your address"},
	} {
		dial := func() net.Conn {
			c := dialFrom(t, p.src, s.Addr(p.name))
			if p.name == "imaps" {
				tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
				t.Cleanup(func() { tc.Close() })
				return tc
			}
			return c
		}
		first := dial()
		newLineConn(t, first).cmd("", p.greeting)
		newLineConn(t, dial()).cmd("", p.greeting)
		third := dial()
		got := closedWithin(t, p.name+" third connection", third, nil, 5*time.Second)
		if !strings.HasPrefix(got, p.refusal) || p.refusal == "" && got != "" {
			t.Fatalf("%s: third connection got %q, want %q", p.name, got, p.refusal)
		}
		// Another address is not affected.
		if p.name != "imaps" {
			newLineConn(t, dialFrom(t, "127.0.0.2", s.Addr(p.name))).cmd("", p.greeting)
		}
		// A closed connection frees its slot.
		first.Close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			c := dial()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, p.greeting) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: slot not freed: %q", p.name, line)
			}
		}
	}
}

// At the global cap, half-open connections from one source are evicted,
// oldest first, to make room: a normal IMAPS login from another source
// still succeeds, and the server holds no more than the cap.
func TestGlobalCapHalfOpen(t *testing.T) {
	const maxConns, flood = 10, 25
	s := limitsServer(t, func(l *Limits) {
		l.MaxConnections = maxConns
		l.HandshakeTimeout.Duration = 30 * time.Second
	})
	var half []net.Conn
	for range flood {
		half = append(half, dialFrom(t, "127.0.0.2", s.Addr("imaps")))
	}
	// Wait until the server has seen the whole flood: each connection
	// past the cap closes one of the oldest.
	closed := func() int {
		n := 0
		for _, c := range half {
			c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					n++
				}
			}
		}
		return n
	}
	waitFor(t, "the flood to be cut to the cap", 10*time.Second, func() bool { return closed() >= flood-maxConns })

	start := time.Now()
	raw := dialFrom(t, "127.0.0.1", s.Addr("imaps"))
	c := imapclient.New(tls.Client(raw, &tls.Config{InsecureSkipVerify: true}), nil)
	defer c.Close()
	if err := c.Login("alice@a.test", "alice-pw").Wait(); err != nil {
		t.Fatalf("login while the cap is full of half-open connections: %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("login took %v", time.Since(start))
	// The login's connection evicted one more; its close reaches us
	// asynchronously, so wait for it, then check none beyond it went.
	waitFor(t, "the eviction the login caused", 10*time.Second, func() bool { return closed() >= flood-maxConns+1 })
	if n := closed(); n != flood-maxConns+1 {
		t.Errorf("%d half-open connections closed, want %d", n, flood-maxConns+1)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
}

// newStopped returns a dev-mode server that New opened but nobody started,
// with alice's store open.
func newStopped(t *testing.T, tweak func(*Config)) (*Server, *store.Store) {
	t.Helper()
	lo := "127.0.0.1:0"
	cfg := &Config{Dev: true, Hostname: "mx.a.test", Domains: []string{"a.test"}, Data: t.TempDir(),
		Listen: Listen{SMTP: lo, Submission: lo, SMTPS: lo, IMAP: lo, IMAPS: lo, POP3: lo, POP3S: lo}}
	if tweak != nil {
		tweak(cfg)
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Backend.Users.Add("alice@a.test", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	st, err := s.Backend.Store(context.Background(), "alice@a.test")
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// Start honours its context, and whatever way it fails it closes what New
// and Start opened: the stores are closed, no listener is left.
func TestStartFails(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name  string
		ctx   context.Context
		tweak func(*Config)
	}{
		{"cancelled context", cancelled, nil},
		{"missing DKIM key", context.Background(), func(c *Config) { c.DKIM.KeyFile = filepath.Join(t.TempDir(), "none.pem") }},
		{"address in use", context.Background(), func(c *Config) { c.Listen.POP3S = busy.Addr().String() }},
	} {
		s, st := newStopped(t, c.tweak)
		if err := s.Start(c.ctx); err == nil {
			s.Close()
			t.Fatalf("%s: Start succeeded", c.name)
		}
		if _, err := st.Mailboxes(context.Background()); err == nil {
			t.Errorf("%s: the store is still open after the failed Start", c.name)
		}
		if _, err := s.Backend.Store(context.Background(), "alice@a.test"); !errors.Is(err, backend.ErrClosed) {
			t.Errorf("%s: backend after the failed Start: %v", c.name, err)
		}
		for _, n := range []string{"smtp", "imap", "imaps"} {
			if a := s.Addr(n); a != nil {
				if conn, err := net.Dial("tcp", a.String()); err == nil {
					conn.Close()
					t.Errorf("%s: listener %s still open", c.name, n)
				}
			}
		}
	}
}

// Finish fills in the connection and login limits, exempts loopback from
// the per-IP caps in dev mode only (unless told), and refuses a handshake
// deadline over 30 s.
func TestLimitsConfig(t *testing.T) {
	prod := &Config{Domains: []string{"example.org"}, Data: t.TempDir()}
	prod.TLS.Cert, prod.TLS.Key = "cert.pem", "key.pem"
	prod.Limits.POP3IdleTimeoutSec = 900
	if err := prod.Finish(); err != nil {
		t.Fatal(err)
	}
	l := prod.Limits
	if *l.ExemptLoopback || l.HandshakeTimeout.Duration != 30*time.Second || l.LoginIdleTimeout.Duration != 30*time.Second ||
		l.IMAPIdleTimeout.Duration != 30*time.Minute || l.POP3IdleTimeout.Duration != 15*time.Minute ||
		l.SMTPIdleTimeout.Duration != 5*time.Minute || l.IMAPMaxConnsPerIP != 50 || l.POP3MaxConnsPerIP != 20 ||
		l.MaxConnsPerIP != 20 || l.MaxAuthFailures != 10 || l.AuthMaxDelay.Duration != 4*time.Second {
		t.Errorf("production limits: %+v", l)
	}
	dev := &Config{Dev: true, Data: t.TempDir()}
	if err := dev.Finish(); err != nil || !*dev.Limits.ExemptLoopback {
		t.Errorf("dev mode: exempt_loopback %v, %v", *dev.Limits.ExemptLoopback, err)
	}
	no := false
	dev = &Config{Dev: true, Data: t.TempDir(), Limits: Limits{ExemptLoopback: &no}}
	if err := dev.Finish(); err != nil || *dev.Limits.ExemptLoopback {
		t.Errorf("dev mode with exempt_loopback = false: %v", err)
	}
	slow := &Config{Dev: true, Data: t.TempDir()}
	slow.Limits.HandshakeTimeout.Duration = time.Minute
	if err := slow.Finish(); err == nil || !strings.Contains(err.Error(), "handshake_timeout") {
		t.Errorf("a 1-minute handshake_timeout: %v", err)
	}
	ex, err := LoadConfig(filepath.Join("..", "docs", "server.toml"))
	if err != nil {
		t.Fatal(err)
	}
	ex.Data = t.TempDir()
	if err := ex.Finish(); err != nil {
		t.Fatal(err)
	}
	// The connection and login limits of the example are the defaults
	// (the message limits are the protocol packages' own defaults).
	l.ExemptLoopback, ex.Limits.ExemptLoopback = nil, nil
	l.POP3IdleTimeout, l.POP3IdleTimeoutSec = ex.Limits.POP3IdleTimeout, 0
	l.MaxMessageBytes, l.MaxRecipients, l.MessagesPerHour = ex.Limits.MaxMessageBytes, ex.Limits.MaxRecipients, ex.Limits.MessagesPerHour
	if ex.Limits != l {
		t.Errorf("docs/server.toml limits differ from the defaults:\n%+v\n%+v", ex.Limits, l)
	}
}

// A lockout is per (IP, account) and says so in every protocol; another
// user behind the same address logs in.
func TestLoginLockout(t *testing.T) {
	s, _ := newStopped(t, func(c *Config) {
		c.Limits.MaxAuthFailures = 2
		c.Limits.AuthMaxDelay.Duration = time.Millisecond
	})
	if err := s.Backend.Users.Add("bob@a.test", "bob-pw"); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dial := func(name, greeting string) *lineConn {
		c := newLineConn(t, dialFrom(t, "127.0.0.1", s.Addr(name)))
		c.cmd("", greeting)
		return c
	}
	im := dial("imap", "* OK")
	im.cmd("a LOGIN alice@a.test wrong", "a NO [AUTHENTICATIONFAILED]")
	im.cmd("b LOGIN alice@a.test wrong", "b NO [AUTHENTICATIONFAILED]")
	im.cmd("c LOGIN alice@a.test alice-pw", "c NO [UNAVAILABLE]")
	im.cmd("d LOGIN bob@a.test bob-pw", "d OK")

	pop := dial("pop3", "+OK")
	pop.cmd("USER alice@a.test", "+OK")
	pop.cmd("PASS alice-pw", "-ERR [SYS/TEMP]")
	pop.cmd("USER bob@a.test", "+OK")
	pop.cmd("PASS bob-pw", "+OK")

	auth := func(user, pw string) string {
		return "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pw))
	}
	sub := dial("submission", "220 ")
	sub.cmd("EHLO c.test", "250 ")
	sub.cmd(auth("alice@a.test", "alice-pw"), "454 4.7.0")
	sub.cmd(auth("bob@a.test", "bob-pw"), "235 ")
}
