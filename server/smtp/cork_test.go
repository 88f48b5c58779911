package smtpd

import (
	"bufio"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/tlsutil"
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

// TestPipelinedReplies: the replies to pipelined commands (RFC 2920) go
// out in one write when the session reads on, not one write each as
// go-smtp flushes them; every reply still comes, QUIT's before the
// connection closes; STARTTLS still works through the same connection.
func TestPipelinedReplies(t *testing.T) {
	cert, err := tlsutil.SelfSigned([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	dl := &fakeDeliverer{}
	s := New(fakeBackend{}, dl, Options{Mode: ModeMX, TLSConfig: tlsutil.Config(cert)})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	go s.Serve(cl)
	t.Cleanup(func() { s.Close() })
	dial := func() *conv {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		t.Cleanup(func() { c.Close() })
		cv := &conv{t: t, c: c, r: bufio.NewReader(c)}
		cv.expect("220 ")
		return cv
	}

	c := dial()
	c.cmd("EHLO client.test", "250 ")
	before := cl.writes.Load()
	c.send("MAIL FROM:<a@elsewhere.test>\r\nRCPT TO:<bob@a.test>\r\nDATA")
	c.expect("250 ")
	c.expect("250 ")
	c.expect("354 ")
	if w := cl.writes.Load() - before; w > 1 {
		t.Errorf("%d writes for the replies to MAIL, RCPT and DATA sent together, want 1", w)
	}
	c.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT")
	c.expect("250 ")
	c.expect("221 ")
	if _, err := c.r.ReadByte(); err == nil {
		t.Fatal("connection still open after QUIT")
	}
	if len(dl.data) != 1 || !strings.HasPrefix(dl.data[0], "Subject: pipelined") {
		t.Fatalf("delivered %q", dl.data)
	}

	c = dial()
	c.cmd("EHLO client.test", "250 ")
	c.startTLS()
	c.cmd("EHLO client.test", "250 ")
	c.cmd("MAIL FROM:<a@elsewhere.test>", "250 ")
	c.cmd("QUIT", "221 ")
}

// TestCorkOrder: held replies go out before a write too big to hold, and
// before a read; nothing is lost or reordered.
func TestCorkOrder(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newCorkConn(a)
	big := strings.Repeat("x", corkMax+10)
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 0, 2*corkMax)
		tmp := make([]byte, 1024)
		for len(buf) < len("250 a\r\n250 b\r\n")+len(big)+len("354 c\r\n") {
			n, err := b.Read(tmp)
			if err != nil {
				break
			}
			buf = append(buf, tmp[:n]...)
		}
		got <- string(buf)
		b.Write([]byte("x"))
	}()
	for _, w := range []string{"250 a\r\n", "250 b\r\n", big, "354 c\r\n"} {
		if _, err := c.Write([]byte(w)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if want := "250 a\r\n250 b\r\n" + big + "354 c\r\n"; <-got != want {
		t.Fatal("replies reordered or lost")
	}
}
