package netlimit

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/tlsutil"
)

// serve accepts on a wrapped listener of p (implicit TLS when cfg is set)
// and returns its address and the accepted connections.
func serve(t *testing.T, p *Protocol, cfg *tls.Config) (string, <-chan net.Conn) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := p.Listen(raw, cfg)
	got := make(chan net.Conn, 100)
	done := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			got <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v", err)
		}
		for {
			select {
			case c := <-got:
				c.Close()
			default:
				return
			}
		}
	})
	return raw.Addr().String(), got
}

// dialFrom connects to addr from the loopback address src ("127.0.0.2"),
// so that tests have several client IPs.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot dial from %s (this host routes only 127.0.0.1?): %v", src, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func accepted(t *testing.T, got <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-got:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted")
		return nil
	}
}

// closedByServer reads until EOF (or a reset); it fails if the server
// keeps the connection open for 5 s, and returns what it read.
func closedByServer(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open; read %q", b)
	}
	return string(b)
}

// stillOpen reports whether the server has not closed c.
func stillOpen(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPerIPCap(t *testing.T) {
	lim := New(Options{MaxConns: 100})
	p := lim.Protocol(ProtocolOptions{Name: "test", MaxConnsPerIP: 2, Refusal: "-ERR %s\r\n"})
	addr, got := serve(t, p, nil)
	a := dialFrom(t, "127.0.0.1", addr)
	sa := accepted(t, got)
	dialFrom(t, "127.0.0.1", addr)
	accepted(t, got)
	third := dialFrom(t, "127.0.0.1", addr)
	if reply := closedByServer(t, third); reply != "-ERR "+reasonPerIP+"\r\n" {
		t.Fatalf("third connection got %q", reply)
	}
	// Another address is not affected; a closed connection frees a slot.
	dialFrom(t, "127.0.0.2", addr)
	accepted(t, got)
	a.Close()
	sa.Close()
	if n := lim.Open(); n != 2 {
		t.Fatalf("Open = %d, want 2", n)
	}
	dialFrom(t, "127.0.0.1", addr)
	accepted(t, got)
}

func TestExemptLoopback(t *testing.T) {
	lim := New(Options{MaxConns: 100})
	p := lim.Protocol(ProtocolOptions{Name: "test", MaxConnsPerIP: 1, ExemptLoopback: true})
	addr, got := serve(t, p, nil)
	for range 3 {
		dialFrom(t, "127.0.0.1", addr)
		accepted(t, got)
	}
}

// At the global cap, a new connection takes the place of the oldest one
// that has not logged in, from the address with the most of them; when
// every connection has logged in, the new one is refused.
func TestGlobalCapEvicts(t *testing.T) {
	lim := New(Options{MaxConns: 4})
	imap := lim.Protocol(ProtocolOptions{Name: "imap", Refusal: "* BYE %s\r\n"})
	pop := lim.Protocol(ProtocolOptions{Name: "pop3", Refusal: "-ERR [SYS/TEMP] %s\r\n"})
	addr, got := serve(t, imap, nil)
	paddr, pgot := serve(t, pop, nil)

	var flood []net.Conn
	for range 3 {
		flood = append(flood, dialFrom(t, "127.0.0.2", addr))
		accepted(t, got)
	}
	other := dialFrom(t, "127.0.0.3", paddr)
	sother := accepted(t, pgot)
	if lim.Open() != 4 || lim.Pending() != 4 {
		t.Fatalf("open %d, pending %d", lim.Open(), lim.Pending())
	}
	user := dialFrom(t, "127.0.0.1", addr)
	suser := accepted(t, got)
	closedByServer(t, flood[0])
	for i, c := range append(flood[1:], other) {
		if !stillOpen(c) {
			t.Fatalf("connection %d was closed too", i+1)
		}
	}
	if lim.Open() != 4 {
		t.Fatalf("open %d after eviction", lim.Open())
	}
	// Logged-in connections are never evicted: the flood's next oldest is.
	LoggedIn(suser)
	LoggedIn(sother)
	c4 := dialFrom(t, "127.0.0.4", addr)
	accepted(t, got)
	closedByServer(t, flood[1])
	for i, c := range []net.Conn{user, other, flood[2], c4} {
		if !stillOpen(c) {
			t.Fatalf("connection %d was closed", i)
		}
	}
	// With every connection logged in, a new one is refused.
	lim.mu.Lock()
	var pend []*Conn
	for _, pip := range lim.pending {
		for c := pip.head; c != nil; c = c.next {
			pend = append(pend, c)
		}
	}
	lim.mu.Unlock()
	for _, c := range pend {
		c.LoggedIn()
	}
	if lim.Pending() != 0 {
		t.Fatalf("pending %d", lim.Pending())
	}
	refused := dialFrom(t, "127.0.0.6", addr)
	if reply := closedByServer(t, refused); reply != "* BYE "+reasonBusy+"\r\n" {
		t.Fatalf("refused connection got %q", reply)
	}
	prefused := dialFrom(t, "127.0.0.6", paddr)
	if reply := closedByServer(t, prefused); reply != "-ERR [SYS/TEMP] "+reasonBusy+"\r\n" {
		t.Fatalf("refused POP3 connection got %q", reply)
	}
	if lim.Open() != 4 {
		t.Fatalf("open %d", lim.Open())
	}
}

func testTLS(t *testing.T) *tls.Config {
	t.Helper()
	cert, err := tlsutil.SelfSigned([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return tlsutil.Config(cert)
}

// A client that opens an implicit-TLS port and never finishes the
// handshake is closed at the handshake deadline and uncounted; one that
// does is handed to Accept.
func TestHandshakeDeadline(t *testing.T) {
	lim := New(Options{MaxConns: 10, HandshakeTimeout: 100 * time.Millisecond})
	p := lim.Protocol(ProtocolOptions{Name: "imaps", Refusal: "* BYE %s\r\n"})
	cfg := testTLS(t)
	addr, got := serve(t, p, cfg)
	silent := dialFrom(t, "127.0.0.1", addr)
	partial := dialFrom(t, "127.0.0.1", addr)
	partial.Write([]byte{0x16, 0x03, 0x01}) // the start of a record, then nothing
	eventually(t, "two counted", func() bool { return lim.Open() == 2 })
	good, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	sgood := accepted(t, got)
	if _, ok := sgood.(*tls.Conn); !ok {
		t.Fatalf("accepted %T, want *tls.Conn", sgood)
	}
	if From(sgood) == nil {
		t.Fatal("From does not find the counted connection under TLS")
	}
	if got := closedByServer(t, silent); got != "" {
		t.Fatalf("silent client got %q", got)
	}
	closedByServer(t, partial)
	eventually(t, "the stalled handshakes to be uncounted", func() bool { return lim.Open() == 1 })
	// The finished connection has no deadline left from its handshake.
	go func() { good.Write([]byte("hello\n")) }()
	sgood.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(sgood).ReadString('\n'); err != nil || line != "hello\n" {
		t.Fatalf("read %q, %v", line, err)
	}
}

// Closing a TLS listener closes the connections still in their handshake.
func TestTLSListenerCloseEndsHandshakes(t *testing.T) {
	lim := New(Options{MaxConns: 10, HandshakeTimeout: time.Hour})
	p := lim.Protocol(ProtocolOptions{Name: "imaps"})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := p.Listen(raw, testTLS(t))
	done := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		done <- err
	}()
	c := dialFrom(t, "127.0.0.1", raw.Addr().String())
	eventually(t, "the connection to be counted", func() bool { return lim.Open() == 1 })
	ln.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept: %v", err)
	}
	closedByServer(t, c)
	eventually(t, "uncounted", func() bool { return lim.Open() == 0 })
}

func TestIdle(t *testing.T) {
	lim := New(Options{MaxConns: 10})
	p := lim.Protocol(ProtocolOptions{Name: "test"})
	addr, got := serve(t, p, nil)
	client := dialFrom(t, "127.0.0.1", addr)
	sc := accepted(t, got)
	buf := make([]byte, 10)
	isTimeout := func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

	// No idle timeout: the caller's deadline rules.
	sc.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := sc.Read(buf); !isTimeout(err) {
		t.Fatalf("read past the caller's deadline: %v", err)
	}
	// The idle timeout ends a read the caller would let wait an hour,
	// and is renewed by each read.
	sc.SetReadDeadline(time.Now().Add(time.Hour))
	if !SetIdle(sc, 50*time.Millisecond) {
		t.Fatal("SetIdle did not find the connection")
	}
	client.Write([]byte("x"))
	if n, err := sc.Read(buf); n != 1 || err != nil {
		t.Fatalf("read: %d %v", n, err)
	}
	start := time.Now()
	if _, err := sc.Read(buf); !isTimeout(err) {
		t.Fatalf("idle read: %v", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatal("the idle timeout did not end the read")
	}
	// An earlier caller deadline still wins over the idle timeout.
	SetIdle(sc, time.Hour)
	sc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := sc.Read(buf); !isTimeout(err) {
		t.Fatalf("read past the caller's deadline with a long idle timeout: %v", err)
	}
	// SetIdle reaches a read in progress.
	sc.SetReadDeadline(time.Time{})
	SetIdle(sc, 0)
	errc := make(chan error, 1)
	go func() {
		_, err := sc.Read(buf)
		errc <- err
	}()
	eventually(t, "the read to wait", func() bool { return len(errc) == 0 })
	SetIdle(sc, 10*time.Millisecond)
	select {
	case err := <-errc:
		if !isTimeout(err) {
			t.Fatalf("read in progress: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SetIdle did not reach the read in progress")
	}
	// Not a counted connection: SetIdle says so.
	if SetIdle(client, time.Second) {
		t.Fatal("SetIdle on an uncounted connection")
	}
}

// The heaviest-IP index stays right under any mix of arrivals, logins and
// closes.
func TestPendingIndex(t *testing.T) {
	lim := New(Options{MaxConns: 1 << 20})
	p := lim.Protocol(ProtocolOptions{Name: "test"})
	rng := rand.New(rand.NewPCG(1, 2))
	var live []*Conn
	for i := range 5000 {
		switch op := rng.IntN(3); {
		case op == 0 || len(live) == 0:
			ip := "10.0.0." + string(rune('0'+rng.IntN(8)))
			c := &Conn{proto: p, ip: ip}
			lim.mu.Lock()
			lim.open++
			lim.pushPendingLocked(c)
			lim.mu.Unlock()
			live = append(live, c)
		case op == 1:
			c := live[rng.IntN(len(live))]
			lim.mu.Lock()
			lim.popPendingLocked(c)
			lim.mu.Unlock()
		default:
			k := rng.IntN(len(live))
			c := live[k]
			live = append(live[:k], live[k+1:]...)
			lim.mu.Lock()
			lim.releaseLocked(c)
			lim.mu.Unlock()
		}
		lim.mu.Lock()
		want, n := 0, 0
		for _, pip := range lim.pending {
			k := 0
			for c := pip.head; c != nil; c = c.next {
				k++
			}
			if k != pip.n {
				t.Fatalf("step %d: %s lists %d, counts %d", i, pip.ip, k, pip.n)
			}
			want, n = max(want, k), n+k
		}
		if lim.maxBucket != want || lim.nPending != n {
			t.Fatalf("step %d: maxBucket %d nPending %d, want %d %d", i, lim.maxBucket, lim.nPending, want, n)
		}
		if v := lim.victimLocked(); (v == nil) != (want == 0) || v != nil && lim.pending[v.ip].n != want {
			t.Fatalf("step %d: victim %v", i, v)
		}
		lim.mu.Unlock()
	}
	if !strings.HasPrefix(reasonBusy, "Too many") {
		t.Fatal(reasonBusy)
	}
}

func TestCapFor(t *testing.T) {
	for _, c := range []struct{ nofile, want int }{{1024, 768}, {20000, 15000}, {300, 44}, {10, 16}} {
		if got := capFor(c.nofile); got != c.want {
			t.Errorf("capFor(%d) = %d, want %d", c.nofile, got, c.want)
		}
	}
	if n := DefaultMaxConns(); n < 16 {
		t.Errorf("DefaultMaxConns = %d", n)
	}
}

// IPv6 clients are counted per /64, the allocation of one subscriber.
func TestHostIP(t *testing.T) {
	for _, c := range []struct {
		addr     net.Addr
		key      string
		loopback bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1}, "192.0.2.7", false},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 1}, "192.0.2.7", false},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:aaaa::1"), Port: 1}, "2001:db8:1:2::/64", false},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:bbbb::9"), Port: 1}, "2001:db8:1:2::/64", false},
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.2"), Port: 1}, "127.0.0.2", true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 1}, "::/64", true},
	} {
		if key, lo := hostIP(c.addr); key != c.key || lo != c.loopback {
			t.Errorf("hostIP(%v) = %q, %v; want %q, %v", c.addr, key, lo, c.key, c.loopback)
		}
	}
}
