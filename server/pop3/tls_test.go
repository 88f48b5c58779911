package pop3d

import (
	"crypto/tls"
	"io"
	"slices"
	"strings"
	"testing"
)

// Without TLS and without AllowInsecureAuth, credentials are refused and
// CAPA offers only STLS; after STLS, AUTH PLAIN works.
func TestSTLSThenAuth(t *testing.T) {
	e := newEnv(t, Options{}, true, threeMessages())
	cl := e.dial()
	cl.cmd("CAPA", "+OK")
	capa := cl.multi()
	if !slices.Contains(capa, "STLS") || slices.Contains(capa, "USER") || slices.Contains(capa, "SASL PLAIN") {
		t.Fatalf("CAPA before TLS: %q", capa)
	}
	cl.cmd("USER "+alice, "-ERR [AUTH] Plaintext authentication disallowed")
	cl.cmd("PASS "+alicePW, "-ERR [AUTH] Plaintext authentication disallowed")
	cl.cmd("AUTH PLAIN "+plainIR("", alice, alicePW), "-ERR [AUTH] Plaintext authentication disallowed")
	cl.cmd("AUTH PLAIN", "-ERR [AUTH] Plaintext authentication disallowed")
	cl.cmd("AUTH", "+OK")
	if got := cl.multi(); len(got) != 0 {
		t.Fatalf("AUTH lists %q before TLS", got)
	}
	if n := e.be.failureCount(); n != 0 {
		t.Fatalf("refused credentials reached the backend %d times", n)
	}

	cl.cmd("STLS", "+OK Begin TLS")
	cl.starttls()
	cl.cmd("CAPA", "+OK")
	capa = cl.multi()
	if slices.Contains(capa, "STLS") || !slices.Contains(capa, "USER") || !slices.Contains(capa, "SASL PLAIN") {
		t.Fatalf("CAPA after TLS: %q", capa)
	}
	cl.cmd("STLS", "-ERR Already using TLS")
	cl.cmd("AUTH PLAIN "+plainIR("", alice, alicePW), "+OK Logged in, 3 messages")
	cl.cmd("RETR 2", "+OK")
	if got := string(cl.body()); got != msgTwo {
		t.Fatalf("RETR 2 over TLS: %q", got)
	}
	cl.cmd("QUIT", "+OK")
}

// USER/PASS after STLS, too.
func TestSTLSThenUserPass(t *testing.T) {
	e := newEnv(t, Options{}, true, nil)
	cl := e.dial()
	cl.cmd("STLS", "+OK")
	cl.starttls()
	cl.login()
}

// Clear text pipelined behind STLS must not be executed after the
// handshake (the STARTTLS command injection of CVE-2011-0411).
func TestSTLSDropsPipelinedInput(t *testing.T) {
	e := newEnv(t, Options{}, true, nil)
	cl := e.dial()
	if _, err := io.WriteString(cl.c, "STLS\r\nCAPA\r\n"); err != nil {
		t.Fatal(err)
	}
	cl.expect("+OK Begin TLS")
	cl.starttls()
	cl.cmd("NOOP", "-ERR NOOP is not allowed before login")
}

// A handshake that fails ends the session without harm.
func TestSTLSBadHandshake(t *testing.T) {
	e := newEnv(t, Options{}, true, nil)
	cl := e.dial()
	cl.cmd("STLS", "+OK")
	io.WriteString(cl.c, "this is not a TLS record\r\n")
	cl.c.Close()
	e.waitIdle()
}

// POP3S: implicit TLS from the first octet, no STLS offered, login works.
func TestImplicitTLS(t *testing.T) {
	e := newEnv(t, Options{}, true, threeMessages())
	cl := e.dialTLS()
	if _, ok := cl.c.(*tls.Conn); !ok {
		t.Fatal("not a TLS connection")
	}
	cl.cmd("CAPA", "+OK")
	capa := cl.multi()
	if slices.Contains(capa, "STLS") || !slices.Contains(capa, "SASL PLAIN") {
		t.Fatalf("CAPA on POP3S: %q", capa)
	}
	cl.login()
	cl.cmd("STAT", "+OK 3 ")
	cl.cmd("TOP 1 0", "+OK")
	if got := string(cl.body()); !strings.HasPrefix(got, "Subject: one\r\n") {
		t.Fatalf("TOP 1 0: %q", got)
	}
	cl.cmd("QUIT", "+OK")
}

// ServeTLS without a TLS configuration is an error, not a plain server.
func TestServeTLSWithoutConfig(t *testing.T) {
	srv := New(newFakeBackend(t), Options{})
	defer srv.Close()
	l := newLocalListener(t)
	if err := srv.ServeTLS(l); err == nil || err == ErrServerClosed {
		t.Fatalf("ServeTLS without TLSConfig: %v", err)
	}
}
