package imapsync

import (
	"bufio"
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestHostileLiteral: a server that announces a literal of 512 MiB for a
// FETCH does not make the client allocate it (a literal is only read into
// memory up to maxCollected); the fetch fails when the server stops.
func TestHostileLiteral(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		s, err := l.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		s.Write([]byte("* OK [CAPABILITY IMAP4rev1] hostile\r\n"))
		line, err := bufio.NewReader(s).ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		s.Write([]byte("* 1 FETCH (UID 1 BODY[] {536870912}\r\nFrom: a lie\r\n"))
		_ = tag // the tagged reply never comes: the connection ends
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{c: imapclient.New(nc, nil)}
	defer c.c.Close()
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = c.collect(c.c.Fetch(imap.UIDSetNum(1), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{fullSection}}))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a literal cut short was taken for a message")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("a hostile literal made the client allocate %d MB", alloc>>20)
	}
}

// TestLitPool: a released literal's buffer serves the next literal of its
// size class; classes waste at most an eighth; the pool keeps at most
// poolMax octets; a released literal gives its buffer back once.
func TestLitPool(t *testing.T) {
	for _, n := range []int{1, 4096, 4097, 5000, 27000, 65536, 65537, 1 << 20} {
		c := poolClass(n)
		if c < n || (n > poolMin && c-n > n/8) || poolClass(c) != c {
			t.Errorf("poolClass(%d) = %d", n, c)
		}
	}
	var p litPool
	budget := int64(1 << 30)
	l, err := readLiteral(strings.NewReader(strings.Repeat("x", 27000)), 27000, &budget, &p)
	if err != nil {
		t.Fatal(err)
	}
	first := &l.mem[:1][0]
	l.Release()
	l.Release() // once only
	if p.bytes != poolClass(27000) || len(p.free[poolClass(27000)]) != 1 {
		t.Fatalf("pool after one release: %d bytes, %v", p.bytes, p.free)
	}
	l2, err := readLiteral(strings.NewReader(strings.Repeat("y", 26900)), 26900, &budget, &p)
	if err != nil {
		t.Fatal(err)
	}
	if &l2.mem[:1][0] != first || string(l2.mem[:3]) != "yyy" || len(l2.mem) != 26900 {
		t.Fatal("a literal of the same class did not reuse the released buffer")
	}
	if p.bytes != 0 {
		t.Fatalf("pool holds %d bytes with its buffer out", p.bytes)
	}
	// The pool keeps no more than poolMax.
	for range 2 * poolMax / (1 << 20) {
		p.put(make([]byte, 1<<20))
	}
	if p.bytes > poolMax {
		t.Fatalf("pool holds %d bytes, at most %d", p.bytes, poolMax)
	}
	// A literal cut short gives its buffer back and fails.
	held := p.bytes
	if _, err := readLiteral(strings.NewReader("short"), 5000, &budget, &p); err == nil {
		t.Fatal("a short literal was read")
	}
	if p.bytes < held {
		t.Fatalf("pool shrank to %d from %d after a failed read", p.bytes, held)
	}
}
