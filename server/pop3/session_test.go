package pop3d

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

func threeMessages() [][]byte {
	return [][]byte{[]byte(msgOne), []byte(msgTwo), []byte(msgThree)}
}

// Pipelined commands (RFC 2449 section 6.6) in one write get their replies
// in order.
func TestPipelining(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, threeMessages())
	cl := e.dial()
	batch := strings.Join([]string{"CAPA", "USER " + alice, "PASS " + alicePW, "STAT", "LIST", "RETR 1", "TOP 2 1", "UIDL 1", "DELE 2", "NOOP", "RSET", "QUIT"}, "\r\n") + "\r\n"
	if _, err := io.WriteString(cl.c, batch); err != nil {
		t.Fatal(err)
	}
	cl.expect("+OK Capability")
	cl.multi()
	cl.expect("+OK")
	cl.expect("+OK Logged in")
	cl.expect("+OK 3 ")
	cl.expect("+OK 3 messages")
	if got := cl.multi(); len(got) != 3 {
		t.Fatalf("LIST gave %q", got)
	}
	cl.expect("+OK")
	if got := string(cl.body()); got != msgOne {
		t.Fatalf("RETR 1 gave %q", got)
	}
	cl.expect("+OK")
	cl.multi()
	cl.expect(fmt.Sprintf("+OK 1 %08x%08x", e.uv, e.uids[0]))
	cl.expect("+OK Message 2 deleted")
	cl.expect("+OK")
	cl.expect("+OK")
	cl.expect("+OK Logging out, 0 messages deleted")
	cl.expectClosed()
	if got := e.storeUIDs(); len(got) != 3 {
		t.Fatalf("store has %v, want all three", got)
	}
}

// A line longer than MaxLineLength gets -ERR and the connection is closed
// (as Dovecot does); a line of exactly the limit is a command.
func TestLineTooLong(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, nil)
	cl := e.dial()
	// 512 octets with CRLF: accepted (NOOP is not allowed yet; still a command).
	cl.cmd("NOOP "+strings.Repeat("x", 512-len("NOOP \r\n")), "-ERR NOOP is not allowed before login")
	cl.cmd("USER "+strings.Repeat("a", 600), "-ERR Input line too long.")
	cl.expectClosed()

	// Also when the line never ends and more keeps coming.
	cl = e.dial()
	if _, err := io.WriteString(cl.c, strings.Repeat("A", 4000)); err != nil {
		t.Fatal(err)
	}
	cl.expect("-ERR Input line too long.")
	cl.expectClosed()
}

// DELE, then QUIT: the marked messages are removed from the store; the
// retrieved one that was kept is \Seen.
func TestDeleQuitRemoves(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, corpus(5, 1))
	cl := e.dial()
	cl.login()
	cl.cmd("RETR 2", "+OK")
	cl.body()
	cl.cmd("DELE 1", "+OK")
	cl.cmd("DELE 3", "+OK")
	cl.cmd("DELE 5", "+OK")
	cl.cmd("QUIT", "+OK Logging out, 3 messages deleted")
	cl.expectClosed()
	want := []uint32{e.uids[1], e.uids[3]}
	if got := e.storeUIDs(); !slices.Equal(got, want) {
		t.Fatalf("store UIDs %v, want %v", got, want)
	}
	m, err := e.st.GetByUID(context.Background(), store.Inbox, e.uids[1])
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasFlag(store.FlagSeen) {
		t.Errorf("retrieved message flags %v, want \\Seen", m.Flags)
	}
	m, err = e.st.GetByUID(context.Background(), store.Inbox, e.uids[3])
	if err != nil {
		t.Fatal(err)
	}
	if m.HasFlag(store.FlagSeen) {
		t.Errorf("message not retrieved got \\Seen")
	}
}

// DELE, then the connection drops: nothing is removed, and the mailbox
// lock is released.
func TestDeleDropRemovesNothing(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, corpus(4, 2))
	cl := e.dial()
	cl.login()
	for i := 1; i <= 4; i++ {
		cl.cmd(fmt.Sprintf("DELE %d", i), "+OK")
	}
	cl.c.Close()
	e.waitIdle()
	if got := e.storeUIDs(); !slices.Equal(got, e.uids) {
		t.Fatalf("store UIDs %v, want %v", got, e.uids)
	}
	cl = e.dial()
	cl.login()
	cl.cmd("STAT", "+OK 4 ")
}

// A second session for the same mailbox gets [IN-USE] until the first
// ends; other users are not affected.
func TestInUse(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, threeMessages())
	first := e.dial()
	first.login()

	second := e.dial()
	second.cmd("USER "+alice, "+OK")
	second.cmd("PASS "+alicePW, "-ERR [IN-USE] ")
	second.cmd("AUTH PLAIN "+plainIR("", alice, alicePW), "-ERR [IN-USE] ")
	second.cmd("STAT", "-ERR STAT is not allowed before login")
	if n := e.be.failureCount(); n != 0 {
		t.Errorf("IN-USE counted as %d failed logins", n)
	}

	other := e.dial()
	other.cmd("USER "+bob, "+OK")
	other.cmd("PASS "+bobPW, "+OK Logged in, 0 messages")

	first.cmd("QUIT", "+OK")
	first.expectClosed()
	// The lock goes when the session has ended; retry until then.
	deadline := time.Now().Add(5 * time.Second)
	for {
		second.send("USER " + alice)
		second.expect("+OK")
		second.send("PASS " + alicePW)
		if line := second.readLine(); strings.HasPrefix(line, "+OK Logged in") {
			break
		} else if !strings.HasPrefix(line, "-ERR [IN-USE]") || time.Now().After(deadline) {
			t.Fatalf("second login: %q", line)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Three failed logins close the session; each was reported to the
// backend.
func TestAuthFailuresClose(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, nil)
	cl := e.dial()
	cl.cmd("USER "+alice, "+OK")
	cl.cmd("PASS one", "-ERR [AUTH] ")
	cl.cmd("AUTH PLAIN "+plainIR("", alice, "two"), "-ERR [AUTH] ")
	cl.cmd("USER "+alice, "+OK")
	cl.cmd("PASS three", "-ERR [AUTH] ")
	cl.expectClosed()
	if n := e.be.failureCount(); n != 3 {
		t.Errorf("backend counted %d failures, want 3", n)
	}
}

// A throttled address gets a temporary error, not [AUTH].
func TestThrottled(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, nil)
	e.be.mu.Lock()
	e.be.throttled = true
	e.be.mu.Unlock()
	cl := e.dial()
	cl.cmd("USER "+alice, "+OK")
	cl.cmd("PASS "+alicePW, "-ERR [SYS/TEMP] Too many failed logins")
}

// A session that sends nothing for IdleTimeout is told and closed; its
// marked messages stay.
func TestIdleTimeout(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true, IdleTimeout: 400 * time.Millisecond}, false, threeMessages())
	cl := e.dial()
	cl.login()
	cl.cmd("DELE 1", "+OK")
	cl.expect("-ERR Disconnected for inactivity.")
	cl.expectClosed()
	e.waitIdle()
	if got := e.storeUIDs(); len(got) != 3 {
		t.Fatalf("store has %v after timeout", got)
	}
}

// Messages removed by another protocol while the session runs: RETR and
// TOP fail cleanly, listings keep the snapshot, QUIT still works.
func TestRemovedDuringSession(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, corpus(3, 3))
	cl := e.dial()
	cl.login()
	ctx := context.Background()
	if _, err := e.st.Remove(ctx, store.Inbox, []uint32{e.uids[1]}); err != nil {
		t.Fatal(err)
	}
	// And a flag change renames the file of message 3 (Maildir info).
	if _, err := e.st.SetFlags(ctx, store.Inbox, []uint32{e.uids[2]}, store.FlagsAdd, []string{store.FlagFlagged}); err != nil {
		t.Fatal(err)
	}
	cl.cmd("RETR 2", "-ERR Message 2 is no longer available")
	cl.cmd("TOP 2 0", "-ERR Message 2 is no longer available")
	cl.cmd("STAT", "+OK 3 ")
	cl.cmd("LIST", "+OK 3 messages")
	if got := cl.multi(); len(got) != 3 {
		t.Fatalf("LIST gave %q", got)
	}
	cl.cmd("RETR 3", "+OK")
	if got := cl.body(); !bytes.Equal(got, e.raws[2]) {
		t.Fatalf("RETR 3 after rename differs")
	}
	cl.cmd("DELE 2", "+OK")
	cl.cmd("DELE 1", "+OK")
	cl.cmd("QUIT", "+OK Logging out, 1 messages deleted")
	if got := e.storeUIDs(); !slices.Equal(got, []uint32{e.uids[2]}) {
		t.Fatalf("store UIDs %v", got)
	}
}

// New mail delivered during the session is not in its maildrop.
func TestSnapshot(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, threeMessages())
	cl := e.dial()
	cl.login()
	if _, err := e.st.Append(context.Background(), store.Inbox, strings.NewReader(msgOne), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	cl.cmd("STAT", "+OK 3 ")
	cl.cmd("RETR 4", "-ERR No such message")
	cl.cmd("QUIT", "+OK")
	cl = e.dial()
	cl.login()
	cl.cmd("STAT", "+OK 4 ")
}

// Shutdown lets a command in progress finish, then closes the sessions
// with [SYS/TEMP]; Serve returns ErrServerClosed.
func TestShutdown(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, threeMessages())
	idle := e.dial()
	busy := e.dial()
	gate, arrived := make(chan struct{}), make(chan struct{}, 1)
	e.be.mu.Lock()
	e.be.gate, e.be.arrived = gate, arrived
	e.be.mu.Unlock()
	busy.send("USER " + alice)
	busy.expect("+OK")
	busy.send("PASS " + alicePW)
	<-arrived // PASS is in progress

	done := make(chan error, 1)
	go func() { done <- e.srv.Shutdown(context.Background()) }()
	idle.expect("-ERR [SYS/TEMP] Server shutting down")
	idle.expectClosed()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a command was running", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(gate)
	busy.expect("+OK Logged in")
	busy.expect("-ERR [SYS/TEMP] Server shutting down")
	busy.expectClosed()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Serve(l); got != ErrServerClosed {
		t.Fatalf("Serve after Shutdown: %v", got)
	}
}

// A message of a few megabytes with long lines, dots and LF line ends is
// sent whole and its LIST size is what arrives.
func TestLargeMessage(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Subject: big\n\n")
	for i := 0; b.Len() < 3<<20; i++ {
		switch i % 4 {
		case 0:
			b.WriteString(strings.Repeat("x", 5000) + "\n")
		case 1:
			b.WriteString(".leading dot\r\n")
		case 2:
			b.WriteString("..\n")
		default:
			b.WriteString("plain line\n")
		}
	}
	raw := b.Bytes()
	e := newEnv(t, Options{AllowInsecureAuth: true}, false, [][]byte{raw})
	cl := e.dial()
	cl.login()
	line := cl.cmd("LIST 1", "+OK 1 ")
	cl.cmd("RETR 1", "+OK")
	got := cl.body()
	want := bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	if !bytes.Equal(got, want) {
		t.Fatalf("RETR differs: got %d octets, want %d", len(got), len(want))
	}
	if line != fmt.Sprintf("+OK 1 %d", len(want)) {
		t.Fatalf("LIST says %q, %d octets arrived", line, len(want))
	}
}

// lockedBuffer collects log output written from session goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The log tells connection, remote, user and outcomes, and never a
// password, even at debug level.
func TestLogNoPasswords(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, Options{AllowInsecureAuth: true, Logger: log}, false, threeMessages())
	cl := e.dial()
	cl.cmd("USER "+alice, "+OK")
	cl.cmd("PASS wrong secret words", "-ERR [AUTH]")
	cl.cmd("AUTH PLAIN "+plainIR("", alice, "another secret"), "-ERR [AUTH]")
	cl.cmd("AUTH PLAIN "+plainIR("", alice, alicePW), "+OK")
	cl.cmd("RETR 1", "+OK")
	cl.body()
	cl.cmd("QUIT", "+OK")
	cl.expectClosed()
	e.waitIdle()
	out := buf.String()
	for _, secret := range []string{alicePW, "wrong secret words", "another secret", plainIR("", alice, alicePW)} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"conn=pop3-1", "remote=127.0.0.1:", "user=" + alice, "cmd=RETR ok=true", "cmd=PASS ok=false", "pop3 login failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
