package smtpd

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// The DATA reader is go-smtp's (third_party/go-smtp, which scans blocks
// instead of bytes: LETTERBOX.md patch 1). These tests send data through
// a real server and check what the Deliverer got against refUnstuff, the
// byte-at-a-time reading upstream go-smtp does, followed by the CRLF
// normalisation of normalize.go.

// refUnstuff reads SMTP data from in as upstream go-smtp v0.25.1 does
// (RFC 5321 section 4.5.2 transparency: a leading dot is removed; the data
// ends at <CRLF>.<CRLF>, where a CR counts only if it is not the second
// of a pair); it returns the data, how much of in it consumed, and
// whether the end was found.
func refUnstuff(in []byte) (data []byte, used int, end bool) {
	const (
		beginLine = iota
		dot
		dotCR
		cr
		inData
	)
	state := beginLine
	for i, c := range in {
		switch state {
		case beginLine:
			if c == '.' {
				state = dot
				continue
			}
			if c == '\r' {
				state = cr
				break
			}
			state = inData
		case dot:
			if c == '\r' {
				state = dotCR
				continue
			}
			state = inData
		case dotCR:
			if c == '\n' {
				return data, i + 1, true
			}
			state = inData
		case cr:
			if c == '\n' {
				state = beginLine
				break
			}
			state = inData
		case inData:
			if c == '\r' {
				state = cr
			}
		}
		data = append(data, c)
	}
	return data, len(in), false
}

// dataServer serves ModeMX on a loopback port with a message size limit
// of maxBytes and returns the Deliverer and the address.
func dataServer(tb testing.TB, maxBytes int64) (*fakeDeliverer, string) {
	dl := &fakeDeliverer{}
	s := New(fakeBackend{}, dl, Options{Mode: ModeMX, MaxMessageBytes: maxBytes})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go s.Serve(l)
	tb.Cleanup(func() { s.Close() })
	return dl, l.Addr().String()
}

// sendData runs one transaction on a new connection, writing raw (the
// data after DATA's 354, with its end) in writes of the given sizes, and
// returns the reply to the data.
func sendData(t *testing.T, addr string, raw []byte, sizes []int) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	reply := func() string {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("read reply: %v", err)
			}
			if len(line) < 4 || line[3] != '-' {
				return strings.TrimRight(line, "\r\n")
			}
		}
	}
	if r := reply(); !strings.HasPrefix(r, "220 ") {
		t.Fatalf("greeting %q", r)
	}
	for _, cmd := range []string{"HELO client.test", "MAIL FROM:<x@elsewhere.test>", "RCPT TO:<bob@a.test>", "DATA"} {
		fmt.Fprintf(c, "%s\r\n", cmd)
		if r := reply(); r[0] != '2' && r[0] != '3' {
			t.Fatalf("%s: %q", cmd, r)
		}
	}
	for i := 0; len(raw) > 0; i++ {
		k := len(raw)
		if len(sizes) > 0 {
			k = min(max(sizes[i%len(sizes)], 1), len(raw))
		}
		if _, err := c.Write(raw[:k]); err != nil {
			t.Fatal(err)
		}
		raw = raw[k:]
	}
	r := reply()
	fmt.Fprintf(c, "QUIT\r\n")
	reply()
	return r
}

// checkData sends body followed by the end of data and checks the
// reply and what was delivered.
func checkData(t *testing.T, dl *fakeDeliverer, addr string, maxBytes int, body []byte, sizes []int) {
	t.Helper()
	// A client ends its data with CRLF.CRLF; after an odd CR that takes
	// two (see refUnstuff).
	raw := append(append([]byte(nil), body...), "\r\n.\r\n"...)
	data, used, end := refUnstuff(raw)
	if !end {
		raw = append(raw, "\r\n.\r\n"...)
		data, used, end = refUnstuff(raw)
	}
	if !end {
		t.Fatalf("%q: no end of data", raw)
	}
	raw = raw[:used] // the rest would be commands
	dl.mu.Lock()
	before := len(dl.data)
	dl.mu.Unlock()
	r := sendData(t, addr, raw, sizes)
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if len(data) >= maxBytes {
		if !strings.HasPrefix(r, "552 5.3.4") || len(dl.data) != before {
			t.Fatalf("%d bytes of data, limit %d: reply %q, %d delivered", len(data), maxBytes, r, len(dl.data)-before)
		}
		return
	}
	if !strings.HasPrefix(r, "250 ") || len(dl.data) != before+1 {
		t.Fatalf("%q: reply %q, %d delivered", raw, r, len(dl.data)-before)
	}
	if want := string(refCRLF(data)); dl.data[before] != want {
		t.Fatalf("%q: delivered %q, want %q", raw, dl.data[before], want)
	}
}

func TestDataReader(t *testing.T) {
	const max = 4096
	dl, addr := dataServer(t, max)
	long := strings.Repeat("0123456789", 500)
	bodies := []string{
		"Subject: a\r\n\r\nbody",
		"..stuffed\r\n.\r\n..\r\n... three",     // ".\r\n" inside is the end
		"bare\nLF\n.\nnot the end\r\n.. x",      // a bare LF ends no line
		"bare\rCR\r.\rnot the end either",       // nor does a bare CR
		"\r\r\n.\r\nnot the end: odd CR before", // "\r\r\n" is CR, then data
		".\rX", "", "\r\n", ".", "..", "\n.",
		long + "\r\n" + long[:1000], // near the limit
		long + long,                 // over it
		long[:max-2],                // the data (with its CRLF) is exactly the limit: refused, as upstream
		long[:max-3],                // one under
	}
	for _, b := range bodies {
		for _, sizes := range [][]int{nil, {1}, {2, 3}, {5}, {1000, 1}} {
			checkData(t, dl, addr, max, []byte(b), sizes)
		}
	}
}

// FuzzDataReader sends fuzzed data in fuzzed pieces (so that lines, CRLFs
// and the final dot are split across reads) under a 1 KiB size limit.
func FuzzDataReader(f *testing.F) {
	f.Add([]byte("Subject: a\r\n\r\n..x\r\n"), []byte{1, 2, 3})
	f.Add([]byte("a\n.\nb\r.\r"), []byte{0})
	f.Add([]byte("\r\r\n..\r\n.x\r\n"), []byte{2})
	f.Add(bytes.Repeat([]byte("x"), 1100), []byte{100})
	const max = 1024
	dl, addr := dataServer(f, max)
	f.Fuzz(func(t *testing.T, body, sizeSeed []byte) {
		if len(body) > 4*max {
			return
		}
		var sizes []int
		for _, s := range sizeSeed {
			sizes = append(sizes, int(s)+1)
		}
		checkData(t, dl, addr, max, body, sizes)
	})
}
