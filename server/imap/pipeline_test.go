package imapd

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener counts the writes to the connections it accepts.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.writes}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// rawOn is testEnv.raw on another listener of the same backend.
func (e *testEnv) rawOn(l net.Listener) *raw {
	e.t.Helper()
	srv := New(e.be, Options{InsecureAuth: true, Location: time.UTC})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	e.t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			e.t.Errorf("Serve returned %v", err)
		}
	})
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	r := &raw{t: e.t, c: c, r: bufio.NewReader(c)}
	r.expect("* OK")
	return r
}

// TestPipelinedResponses: the answers to pipelined commands (a client
// that sends its next commands before the answers come, as mbsync does
// with one UID FETCH per message) are written together, in full buffers,
// not with one write (one TLS record) per response as go-imap did; and
// every answer still comes: the last ones before the connection waits
// for input, the BYE and the OK of LOGOUT before it closes.
func TestPipelinedResponses(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	const n = 50
	for i := 1; i <= n; i++ {
		e.add("INBOX", testMsg(i, "pipelined", "body"), `\Seen`)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	r := e.rawOn(cl)
	r.send("a LOGIN alice@a.test secret\r\n")
	r.expect("a OK")
	r.send("b SELECT INBOX\r\n")
	r.expect("b OK")
	var batch strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&batch, "f%d UID FETCH %d (FLAGS RFC822.SIZE)\r\n", i, i)
	}
	batch.WriteString("z LOGOUT\r\n")
	before := cl.writes.Load()
	r.send(batch.String())
	for i := 1; i <= n; i++ {
		lines := r.expect(fmt.Sprintf("f%d ", i))
		if len(lines) != 2 || !strings.HasPrefix(lines[0], fmt.Sprintf("* %d FETCH (UID %d ", i, i)) || !strings.HasPrefix(lines[1], fmt.Sprintf("f%d OK", i)) {
			t.Fatalf("UID FETCH %d: got %q", i, lines)
		}
	}
	r.expect("* BYE")
	r.expect("z OK")
	if _, err := r.r.ReadByte(); err == nil {
		t.Fatal("connection still open after LOGOUT")
	}
	// 101 responses; on loopback the batch arrives in one or a few reads.
	if w := cl.writes.Load() - before; w > 10 {
		t.Errorf("%d writes for %d pipelined commands, want a few", w, n+1)
	}
}

// TestOneWritePerAnswer: a command the client sends alone, waiting for
// its answer, gets that whole answer in one write (one TLS record under
// TLS) when it fits the 16 KiB response buffer: the FETCH response with
// its literal, its closing parenthesis and the tagged OK together, and a
// bigger body in full buffers. Upstream flushed at the end of every
// response line: three writes for a small UID FETCH BODY[], the last two
// of a few bytes each.
func TestOneWritePerAnswer(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	e.add("INBOX", testMsg(1, "small", strings.Repeat("small body line\r\n", 50)), `\Seen`)
	e.add("INBOX", testMsg(2, "big", strings.Repeat(strings.Repeat("big ", 200)+"\r\n", 100)), `\Seen`)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	r := e.rawOn(cl)
	r.send("a LOGIN alice@a.test secret\r\n")
	r.expect("a OK")
	r.send("b SELECT INBOX\r\n")
	r.expect("b OK")
	for _, c := range []struct {
		uid       int
		maxWrites int64
	}{
		{1, 1},                 // about 1 KB: one write
		{2, 80<<10/16<<10 + 2}, // about 80 KB: full 16 KiB buffers
	} {
		before := cl.writes.Load()
		r.send(fmt.Sprintf("f%d UID FETCH %d (FLAGS BODY.PEEK[])\r\n", c.uid, c.uid))
		lines := r.expect(fmt.Sprintf("f%d OK", c.uid))
		if !strings.HasPrefix(lines[0], fmt.Sprintf("* %d FETCH (UID %d ", c.uid, c.uid)) {
			t.Fatalf("UID FETCH %d: got %q", c.uid, lines[0])
		}
		if w := cl.writes.Load() - before; w > c.maxWrites {
			t.Errorf("UID FETCH %d: %d writes, want at most %d", c.uid, w, c.maxWrites)
		}
	}
}

// TestPipelinedPartial: a command of which only a part has arrived does
// not hold back the answers before it (the client may be waiting for them
// before it sends the rest), nor do commands before IDLE hold back what
// IDLE reports.
func TestPipelinedPartial(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	r := e.raw()
	r.send("a LOGIN alice@a.test secret\r\n")
	r.expect("a OK")
	r.send("b1 NOOP\r\nb2 NO")
	r.expect("b1 OK")
	r.send("OP\r\n")
	r.expect("b2 OK")
	r.send("c SELECT INBOX\r\n")
	r.expect("c OK")
	r.send("d1 NOOP\r\nd2 IDLE\r\n")
	r.expect("d1 OK")
	r.expect("+ ")
	e.add("INBOX", testMsg(1, "while idling", "body"))
	r.expect("* 1 EXISTS")
	r.send("DONE\r\n")
	r.expect("d2 OK")
}
