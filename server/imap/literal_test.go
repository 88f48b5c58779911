package imapd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// smuggle is literal data that holds a whole command: if the server ever
// read a refused literal as commands, it would create this mailbox.
const smuggle = "\r\nz1 CREATE Smuggled\r\n"

// padded returns n bytes of literal data with smuggle inside.
func padded(n int) string {
	return smuggle + strings.Repeat("x", n-len(smuggle))
}

// TestLiteralLimits: a literal over 4,096 bytes outside APPEND's message
// (RFC 9051 section 4.3; RFC 7888 section 4) is refused at once. A
// synchronizing one gets a tagged NO and no continuation, and the session
// goes on; a non-synchronizing one gets a tagged BAD and the connection
// is closed, so its data is never read as commands.
func TestLiteralLimits(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true, AppendLimit: 10000})
	login := "a LOGIN " + testUser + " " + testPass + "\r\n"
	tests := []struct {
		name   string
		login  bool   // log in first
		send   string // the command, up to and including the literal header
		data   string // sent right after send (non-synchronizing literals)
		want   string // prefix of the tagged answer
		closed bool   // the server closes the connection after it
	}{
		{name: "LOGIN user", send: "b LOGIN {5000}\r\n", want: "b NO [TOOBIG]"},
		{name: "LOGIN password", send: "b LOGIN alice {5000}\r\n", want: "b NO [TOOBIG]"},
		{name: "SEARCH TEXT", login: true, send: "b SEARCH TEXT {5000}\r\n", want: "b NO [TOOBIG]"},
		{name: "SEARCH second literal", login: true, send: "b SEARCH TEXT {5+}\r\nhello TEXT {5000}\r\n", want: "b NO [TOOBIG]"},
		{name: "CREATE", login: true, send: "b CREATE {4097}\r\n", want: "b NO [TOOBIG]"},
		{name: "APPEND mailbox", login: true, send: "b APPEND {5000}\r\n", want: "b NO [TOOBIG]"},
		{name: "APPEND over APPENDLIMIT", login: true, send: "b APPEND INBOX {10001}\r\n", want: "b NO [TOOBIG]"},
		// A non-synchronizing literal's data is read and dropped.
		{name: "LOGIN non-sync", send: "b LOGIN {5000+}\r\n", data: padded(5000) + " secret\r\n", want: "b BAD [TOOBIG]"},
		{name: "SEARCH non-sync", login: true, send: "b SEARCH TEXT {5000+}\r\n", data: padded(5000) + "\r\n", want: "b BAD [TOOBIG]"},
		{name: "SEARCH two non-sync", login: true, send: "b SEARCH TEXT {5000+}\r\n", data: padded(5000) + " TEXT {30+}\r\n" + padded(30) + "\r\n", want: "b BAD [TOOBIG]"},
		{name: "APPEND non-sync over APPENDLIMIT", login: true, send: "b APPEND INBOX {10001+}\r\n", data: padded(10001) + "\r\n", want: "b BAD [TOOBIG]"},
		// Past what is worth reading, the connection is closed.
		{name: "LOGIN huge non-sync", send: "b LOGIN {99999999999+}\r\n", want: "b BAD [TOOBIG]", closed: true},
		{name: "command over 50 KiB", login: true, send: "b SEARCH TEXT \"" + strings.Repeat("x", 60<<10) + "\"\r\n", want: "b BAD [TOOBIG]", closed: true},
		{name: "APPEND huge non-sync", login: true, send: "b APPEND INBOX {99999999999+}\r\n", want: "b BAD [TOOBIG]", closed: true},
		// A command refused before its non-synchronizing literal: the
		// literal's data is skipped, not read as commands.
		{name: "APPEND bad flag non-sync", login: true, send: "b APPEND INBOX (\\Bogus-{) {200+}\r\n", data: padded(200) + "\r\n", want: "b BAD"},
		{name: "APPEND non-sync to a bad name", login: true, send: "b APPEND \"a\x01b\" {200+}\r\n", data: padded(200) + "\r\n", want: "b NO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.raw()
			r.t = t
			if tt.login {
				r.send(login)
				r.expect("a OK")
			}
			r.send(tt.send + tt.data)
			if l := r.line(); !strings.HasPrefix(l, tt.want) {
				t.Fatalf("got %q, want %q", l, tt.want)
			}
			if tt.closed {
				r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
				rest, err := io.ReadAll(r.r)
				if err != nil && !errors.Is(err, syscall.ECONNRESET) { // reset: the server left input unread
					t.Fatalf("connection not closed: %v (read %q)", err, rest)
				}
				if len(rest) > 0 && !strings.HasPrefix(string(rest), "* BYE") {
					t.Fatalf("after the refusal: %q", rest)
				}
			} else {
				// The session is still usable.
				r.send("c NOOP\r\n")
				r.expect("c OK")
				if !tt.login {
					r.send(login)
					r.expect("a OK")
				}
			}
			if _, err := e.st.Mailbox(context.Background(), "Smuggled"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("literal data was read as a command: Smuggled: %v", err)
			}
		})
	}
	// Literals within the limits still work, synchronizing or not.
	r := e.raw()
	r.send(fmt.Sprintf("a LOGIN {%d+}\r\n%s {%d}\r\n", len(testUser), testUser, len(testPass)))
	r.expect("+")
	r.send(testPass + "\r\n")
	r.expect("a OK")
	r.send("b SELECT INBOX\r\n")
	r.expect("b OK")
	r.send("c SEARCH TEXT {4096+}\r\n" + strings.Repeat("y", 4096) + "\r\n")
	r.expect("c OK")
}

// TestClientErrorsAreBAD: malformed arguments are the client's error (BAD),
// never NO [SERVERBUG], and the session goes on.
func TestClientErrorsAreBAD(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	r := e.raw()
	r.send("a LOGIN " + testUser + " " + testPass + "\r\na SELECT INBOX\r\n")
	r.expect("a OK")
	r.expect("a OK")
	for _, send := range []string{
		"b FETCH 0 FLAGS\r\n",
		"b UID FETCH 1:0x FLAGS\r\n",
		"b SEARCH 0\r\n",
		"b SEARCH BOGUSKEY\r\n",
		"b APPEND INBOX \"99-Foo-2026 10:00:00 +0000\" {5}\r\n",
		"b SEARCH SINCE 99-Foo-2026\r\n",
		"b SEARCH " + strings.Repeat("(", 1100) + "ALL" + strings.Repeat(")", 1100) + "\r\n",
	} {
		r.send(send)
		if l := r.expect("b "); !strings.HasPrefix(l[len(l)-1], "b BAD") {
			t.Errorf("%.40q: %q", send, l[len(l)-1])
		}
		r.send("c NOOP\r\n")
		r.expect("c OK")
	}
}
