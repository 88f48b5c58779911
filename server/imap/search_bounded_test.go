package imapd

import (
	"runtime"
	"strings"
	"testing"
)

// TestSearchHeaderBounded: SEARCH HEADER on a field the index does not
// hold reads each message's header from its file, at most
// maxSearchHeader of it, so a message with a header of many megabytes
// costs no more than a normal one.
func TestSearchHeaderBounded(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	e.add("INBOX", "X-Tag: needle\r\nSubject: small\r\n\r\nbody\r\n")
	huge := "X-Tag: hay\r\n" + strings.Repeat("X-Filler: "+strings.Repeat("f", 990)+"\r\n", 16<<10) + "Subject: huge\r\n\r\nbody\r\n"
	e.add("INBOX", huge)
	r := e.raw()
	r.send("a LOGIN " + testUser + " " + testPass + "\r\n")
	r.expect("a OK")
	r.send("b SELECT INBOX\r\n")
	r.expect("b OK")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r.send("c SEARCH HEADER X-Tag needle\r\n")
	lines := r.expect("c ")
	runtime.ReadMemStats(&after)
	if len(lines) != 2 || lines[0] != "* SEARCH 1" || !strings.HasPrefix(lines[1], "c OK") {
		t.Fatalf("SEARCH HEADER X-Tag needle: %q", lines)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("SEARCH HEADER allocated %d MB for a header of %d MB", alloc>>20, len(huge)>>20)
	}
}

// TestSearchHeaderCharset: SEARCH HEADER decodes an encoded word in a
// legacy charset before it compares (RFC 9051 section 6.4.4 compares
// text after decoding), whatever else the binary imports: the server
// registers go-message's charsets itself.
func TestSearchHeaderCharset(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	e.add("INBOX", "X-Tag: =?koi8-r?B?8MzBztkgzsEgz9TQ1dPL?=\r\nSubject: koi8\r\n\r\nbody\r\n")
	e.add("INBOX", "X-Tag: other\r\nSubject: plain\r\n\r\nbody\r\n")
	r := e.raw()
	r.send("a LOGIN " + testUser + " " + testPass + "\r\n")
	r.expect("a OK")
	r.send("b SELECT INBOX\r\n")
	r.expect("b OK")
	r.send("c SEARCH CHARSET UTF-8 HEADER X-Tag {12}\r\n")
	r.expect("+")
	r.send("отпуск\r\n")
	if lines := r.expect("c "); len(lines) != 2 || lines[0] != "* SEARCH 1" {
		t.Fatalf("SEARCH HEADER X-Tag отпуск: %q", lines)
	}
}
