package imapd

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

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
