package imapsync

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// loopConn serves data over and over: a server that never stops sending.
type loopConn struct {
	net.Conn
	data []byte
	off  int
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}
func (c *loopConn) SetReadDeadline(time.Time) error  { return nil }
func (c *loopConn) SetWriteDeadline(time.Time) error { return nil }

// fetchTraffic is n FETCH responses with a body literal of size octets.
func fetchTraffic(n, size int) []byte {
	var b bytes.Buffer
	body := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\r\n"), size/45+1)[:size]
	for i := range n {
		fmt.Fprintf(&b, "* %d FETCH (UID %d FLAGS (\\Seen) BODY[] {%d}\r\n", i+1, i+1, size)
		b.Write(body)
		b.WriteString(")\r\n")
	}
	return b.Bytes()
}

// BenchmarkGuard measures what the guard adds to reading FETCH traffic
// (10 KB messages, in the 4 KiB reads of the library's bufio.Reader):
// "raw" reads the same bytes without it.
func BenchmarkGuard(b *testing.B) {
	data := fetchTraffic(100, 10<<10)
	for _, guarded := range []bool{false, true} {
		b.Run(fmt.Sprintf("guarded=%v", guarded), func(b *testing.B) {
			var r io.Reader = &loopConn{data: data}
			if guarded {
				g := newGuard(&loopConn{data: data}, guardLimits{maxLine: DefaultMaxLine, maxLiteral: DefaultMaxLiteral}, time.Minute, time.Minute)
				g.greeted = true
				g.pending["T1"] = true // a reply is due: the deadline path runs
				g.exists = 1 << 40     // the loop answers for ever more messages
				r = g
			}
			buf := make([]byte, 4096)
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for range b.N {
				if _, err := r.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
