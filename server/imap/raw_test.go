package imapd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// TestRaw sends commands byte for byte and checks the lines that come
// back: wrong state, malformed commands, literals (RFC 9051 section 4.3,
// LITERAL+ RFC 7888), SEARCHRES and APPENDLIMIT.
func TestRaw(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true, AppendLimit: 1000})
	e.add("INBOX", testMsg(1, "one", "a"), `\Seen`)
	e.add("INBOX", testMsg(2, "two", "b"))
	e.add("INBOX", testMsg(3, "three", "c"), `\Seen`)
	msg := "Subject: literal\r\n\r\nhi\r\n"
	steps := []struct {
		send string
		want []string // each a prefix of one line, in order; the last is the tagged reply
	}{
		{"a1 SELECT INBOX\r\n", []string{"a1 BAD"}},
		{"a2 FETCH 1 FLAGS\r\n", []string{"a2 BAD"}},
		{"a3 LOGIN {12+}\r\nalice@a.test {6+}\r\nsecret\r\n", []string{"a3 OK"}},
		{"a4 FETCH 1 FLAGS\r\n", []string{"a4 BAD"}},
		{"a5 STORE 1 +FLAGS (\\Seen)\r\n", []string{"a5 BAD"}},
		{"a6 SELECT INBOX\r\n", []string{"* 3 EXISTS", "a6 OK [READ-WRITE]"}},
		{"a7 FETCH 1 (FLAGS\r\n", []string{"a7 BAD"}},
		{"a8 FETCH\r\n", []string{"a8 BAD"}},
		{"a9 XYZZY\r\n", []string{"a9 BAD"}},
		{"a10 STORE 1 FLIGS (\\Seen)\r\n", []string{"a10 BAD"}},
		{"a11 FETCH 1 (BODY[HEADER.FIELDS (Subject)\r\n", []string{"a11 BAD"}},
		{"a12 SEARCH RETURN (SAVE) SEEN\r\n", []string{"a12 OK"}},
		{"a13 FETCH $ (UID)\r\n", []string{"* 1 FETCH (UID 1)", "* 3 FETCH (UID 3)", "a13 OK"}},
		{"a14 UID SEARCH UNSEEN\r\n", []string{"* SEARCH 2", "a14 OK"}},
		{"a15 APPEND INBOX {5000}\r\n", []string{"a15 NO [TOOBIG]"}},
		{fmt.Sprintf("a16 APPEND INBOX (\\Flagged) {%d+}\r\n%s\r\n", len(msg), msg), []string{"* 4 EXISTS", "a16 OK [APPENDUID "}},
		{fmt.Sprintf("a17 APPEND INBOX {%d}\r\n", len(msg)), []string{"+ "}},
		{msg + "\r\n", []string{"* 5 EXISTS", "a17 OK [APPENDUID "}},
		{"a18 UID FETCH 4:* (UID FLAGS BODY.PEEK[TEXT])\r\n", []string{"* 4 FETCH (UID 4 FLAGS (\\Flagged) BODY[TEXT] {4}", "", ")", "* 5 FETCH", "", ")", "a18 OK"}},
		{"a19 COPY 1 Nowhere\r\n", []string{"a19 NO [TRYCREATE]"}},
		{"a20 EXAMINE INBOX\r\n", []string{"* OK [CLOSED]", "* 5 EXISTS", "a20 OK [READ-ONLY]"}},
		{"a21 STORE 1 +FLAGS (\\Deleted)\r\n", []string{"a21 NO [READ-ONLY]"}},
		{"a22 EXPUNGE\r\n", []string{"a22 NO [READ-ONLY]"}},
		{"a23 CLOSE\r\n", []string{"a23 OK"}},
		{"a24 FETCH 1 FLAGS\r\n", []string{"a24 BAD"}},
		{"a25 LIST \"\" \"\"\r\n", []string{`* LIST (\Noselect) "/" ""`, "a25 OK"}},
		{"a26 LOGOUT\r\n", []string{"* BYE", "a26 OK"}},
	}
	r := e.raw()
	for _, s := range steps {
		r.send(s.send)
		for _, w := range s.want {
			l := r.line()
			if w == "" {
				continue // a literal's line
			}
			for strings.HasPrefix(l, "* ") && !strings.HasPrefix(w, "* ") && !strings.HasPrefix(w, "+") {
				l = r.line() // untagged data we do not check
			}
			if !strings.HasPrefix(l, w) {
				t.Fatalf("after %q: got %q, want %q", s.send, l, w)
			}
		}
	}
}

// TestRawBroken: input that ends the connection.
func TestRawBroken(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	tests := []struct {
		name, send string
		want       string
	}{
		// Unknown commands before login end the session (cross-protocol
		// attacks, as imapserver does).
		{"unknown before login", "GET / HTTP/1.1\r\n", "GET BAD"},
		{"no command", "\r\n", ""},
		{"binary", "\x00\x01\x02\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.raw()
			r.send(tt.send)
			if tt.want != "" {
				if l := r.line(); !strings.HasPrefix(l, tt.want) {
					t.Fatalf("got %q, want %q", l, tt.want)
				}
			}
			r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			rest, err := io.ReadAll(r.r)
			if err != nil {
				t.Fatalf("connection not closed: %v (read %q)", err, rest)
			}
			if len(rest) > 0 && !strings.HasPrefix(string(rest), "* BYE") {
				t.Fatalf("unexpected %q", rest)
			}
		})
	}
}

// TestTLS: without InsecureAuth, LOGIN waits for STARTTLS (RFC 9051
// section 6.2.3, LOGINDISABLED); implicit TLS (RFC 8314) works on a
// listener wrapped with tls.NewListener.
func TestTLS(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.raw()
	r.send("a1 CAPABILITY\r\n")
	lines := r.expect("a1 OK")
	if !strings.Contains(lines[0], "LOGINDISABLED") || !strings.Contains(lines[0], "STARTTLS") || strings.Contains(lines[0], "AUTH=PLAIN") {
		t.Fatalf("capabilities before TLS: %q", lines[0])
	}
	r.send("a2 LOGIN alice@a.test secret\r\n")
	if l := r.line(); !strings.HasPrefix(l, "a2 NO") && !strings.HasPrefix(l, "a2 BAD") {
		t.Fatalf("LOGIN before TLS: %q", l)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.certPEM)
	opts := &imapclient.Options{TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	for name, dial := range map[string]func() (*imapclient.Client, error){
		"starttls": func() (*imapclient.Client, error) { return imapclient.DialStartTLS(e.addr, opts) },
		"implicit": func() (*imapclient.Client, error) { return imapclient.DialTLS(e.tlsAddr, opts) },
	} {
		c, err := dial()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.Login(testUser, testPass).Wait(); err != nil {
			t.Fatalf("%s login: %v", name, err)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatalf("%s select: %v", name, err)
		}
		c.Close()
	}
}

// TestAppendCutMidLiteral: a connection dropped in the middle of an
// APPEND literal stores nothing (a short message is not a message).
func TestAppendCutMidLiteral(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	r := e.raw()
	r.send("a LOGIN " + testUser + " " + testPass + "\r\n")
	r.expect("a OK")
	msg := testMsg(1, "cut", strings.Repeat("body line\r\n", 50))
	r.send(fmt.Sprintf("b APPEND INBOX {%d}\r\n", len(msg)))
	r.expect("+")
	r.send(msg[:len(msg)/2])
	r.c.Close()
	// imapserver ends a session only after its command returned: once
	// the session is gone, the cut APPEND has finished, stored or not.
	waitFor(t, "the cut connection's session to end", func() bool {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return len(e.srv.sessions) == 0
	})
	if mb, err := e.st.Mailbox(context.Background(), "INBOX"); err != nil || mb.Total != 0 {
		t.Fatalf("INBOX after a cut APPEND: %+v %v", mb, err)
	}
	// A whole APPEND afterwards works and is the only message.
	r2 := e.raw()
	r2.send("a LOGIN " + testUser + " " + testPass + "\r\n")
	r2.expect("a OK")
	r2.send(fmt.Sprintf("b APPEND INBOX {%d+}\r\n%s\r\n", len(msg), msg))
	r2.expect("b OK")
	mb, err := e.st.Mailbox(context.Background(), "INBOX")
	if err != nil || mb.Total != 1 {
		t.Fatalf("INBOX after a cut APPEND and a whole one: %+v %v", mb, err)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
