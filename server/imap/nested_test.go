package imapd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mime"
)

// nestedMessage is the message of issue 12 item 1: levels message/rfc822
// parts, each holding the next, around a text/plain one. At 5,000 levels
// it is 239 KB; go-imap's ExtractBodyStructure read the rest of the body
// into memory at every level (645 MB and 2.6 s at 5,000 levels, past 7 GB
// at 20,000).
func nestedMessage(levels int) []byte {
	var b bytes.Buffer
	b.WriteString("Subject: nest\r\nMIME-Version: 1.0\r\n")
	for i := levels - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "Content-Type: message/rfc822\r\n\r\nSubject: l%d\r\n", i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ninner\r\n")
	return b.Bytes()
}

// TestFetchNestedMessage fetches BODYSTRUCTURE, BODY and ENVELOPE of the
// 5,000-level message through the server: the answer describes
// mime.MaxNesting levels, then an opaque application/octet-stream part,
// and the server allocates a bounded amount to give it, the first time
// (parsing the file) and the second (from the index).
func TestFetchNestedMessage(t *testing.T) {
	const levels = 5000
	e := newEnv(t, Options{InsecureAuth: true})
	raw := nestedMessage(levels)
	res := e.add("INBOX", string(raw))
	// On the wire, as aerc and Thunderbird ask.
	r := e.raw()
	r.send("a LOGIN " + testUser + " " + testPass + "\r\n")
	r.expect("a OK")
	r.send("b SELECT INBOX\r\n")
	r.expect("b OK")
	for try := 0; try < 2; try++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r.send("c UID FETCH * (BODYSTRUCTURE ENVELOPE)\r\n")
		lines := r.expect("c ")
		runtime.ReadMemStats(&after)
		if !strings.HasPrefix(lines[len(lines)-1], "c OK") {
			t.Fatalf("UID FETCH: %.200q", lines)
		}
		size := 0
		for _, l := range lines {
			size += len(l)
		}
		if size > 32<<10 {
			t.Errorf("raw fetch %d: answer of %d KB, want a bounded one", try+1, size>>10)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Errorf("raw fetch %d allocated %d MB for a %d KB message", try+1, alloc>>20, len(raw)>>10)
		}
	}
	c := e.client(nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for try := 0; try < 2; try++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		// imapclient matches answers to the UIDs asked for: not "*".
		msgs, err := c.Fetch(imap.UIDSetNum(imap.UID(res.UID)), &imap.FetchOptions{
			Envelope:      true,
			BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		}).Collect()
		runtime.ReadMemStats(&after)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("UID FETCH (ENVELOPE BODYSTRUCTURE): %d messages, %v", len(msgs), err)
		}
		// The client parses the answer in this process too; both are
		// small when the answer is bounded. Unbounded, this is gigabytes.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Errorf("fetch %d allocated %d MB for a %d KB message", try+1, alloc>>20, len(raw)>>10)
		}
		m := msgs[0]
		if m.Envelope == nil || m.Envelope.Subject != "nest" {
			t.Fatalf("ENVELOPE = %+v", m.Envelope)
		}
		depth, bs := 0, m.BodyStructure
		for {
			sp, ok := bs.(*imap.BodyStructureSinglePart)
			if !ok {
				t.Fatalf("level %d: %T", depth, bs)
			}
			if sp.MessageRFC822 == nil {
				if sp.MediaType() != "application/octet-stream" || int(sp.Size) < len(raw)/2 {
					t.Errorf("level %d: %s of %d bytes, want the opaque rest of the message", depth, sp.MediaType(), sp.Size)
				}
				break
			}
			want := fmt.Sprintf("l%d", levels-1-depth)
			if env := sp.MessageRFC822.Envelope; env == nil || env.Subject != want {
				t.Fatalf("level %d: envelope %+v, want subject %s", depth, env, want)
			}
			depth++
			bs = sp.MessageRFC822.BodyStructure
		}
		if depth != mime.MaxNesting {
			t.Errorf("%d message/rfc822 levels described, want %d", depth, mime.MaxNesting)
		}
	}
}

// BenchmarkFetchNested fetches BODYSTRUCTURE and ENVELOPE of the nested
// message through the server, the first time (a new copy each op: the
// structure is computed) and again (read from the index). Allocations
// are the whole process's: server and raw client. The same figures with
// the server's RSS: bench/nested.sh.
func BenchmarkFetchNested(b *testing.B) {
	be := &fakeBackend{t: b, dir: b.TempDir(), stores: map[string]*store.Store{}}
	b.Cleanup(func() {
		for _, s := range be.stores {
			s.Close()
		}
	})
	srv := New(be, Options{InsecureAuth: true, Location: time.UTC})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	st, err := be.Store(context.Background(), testUser)
	if err != nil {
		b.Fatal(err)
	}
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	// do sends cmd and reads to its tagged reply; it returns whether a
	// BODYSTRUCTURE came.
	do := func(cmd string) bool {
		fmt.Fprintf(c, "t %s\r\n", cmd)
		got := false
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				b.Fatalf("%s: %v", cmd, err)
			}
			got = got || strings.Contains(line, "BODYSTRUCTURE")
			if strings.HasPrefix(line, "t ") {
				if !strings.HasPrefix(line, "t OK") {
					b.Fatalf("%s: %s", cmd, line)
				}
				return got
			}
		}
	}
	fetch := func(b *testing.B, uid uint32) {
		if !do(fmt.Sprintf("UID FETCH %d (BODYSTRUCTURE ENVELOPE)", uid)) {
			b.Fatalf("UID FETCH %d: no BODYSTRUCTURE", uid)
		}
	}
	do("LOGIN " + testUser + " " + testPass)
	do("SELECT INBOX")
	for _, levels := range []int{5000, 20000} {
		raw := nestedMessage(levels)
		add := func() uint32 {
			res, err := st.Append(context.Background(), "INBOX", bytes.NewReader(raw), store.AppendOptions{})
			if err != nil {
				b.Fatal(err)
			}
			do("NOOP") // the session learns of the message
			return res.UID
		}
		b.Run(fmt.Sprintf("%d/first", levels), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				uid := add()
				b.StartTimer()
				fetch(b, uid)
			}
		})
		uid := add()
		fetch(b, uid)
		b.Run(fmt.Sprintf("%d/again", levels), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				fetch(b, uid)
			}
		})
	}
}
