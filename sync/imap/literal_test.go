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
