package imapd

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSectionsLikeGoIMAP answers BODY[section] and BINARY[section] of
// normal mail exactly as go-imap's ExtractBodySection, ExtractBinarySection
// and ExtractBinarySectionSize did (see TestStructureLikeGoIMAP).
func TestSectionsLikeGoIMAP(t *testing.T) {
	corpus := structureCorpus(t)
	e := newEnv(t, Options{InsecureAuth: true})
	for _, raw := range corpus {
		e.add("INBOX", string(raw))
	}
	memAddr := startMemServer(t, corpus)
	for _, items := range []string{
		"BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[3]",
		"BODY.PEEK[1.1] BODY.PEEK[1.2] BODY.PEEK[2.1] BODY.PEEK[3.1] BODY.PEEK[3.2] BODY.PEEK[1.1.1] BODY.PEEK[4.2.1]",
		"BODY.PEEK[1.MIME] BODY.PEEK[2.MIME] BODY.PEEK[3.MIME] BODY.PEEK[1.1.MIME] BODY.PEEK[3.2.MIME]",
		"BODY.PEEK[1.HEADER] BODY.PEEK[2.HEADER] BODY.PEEK[3.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[3.TEXT] BODY.PEEK[1.TEXT]",
		"BODY.PEEK[HEADER.FIELDS (From Subject X-Nothing)] BODY.PEEK[HEADER.FIELDS.NOT (From Received)] BODY.PEEK[3.HEADER.FIELDS (Subject)]",
		"BODY.PEEK[]<0.10> BODY.PEEK[TEXT]<5.100> BODY.PEEK[1]<3.1000000> BODY.PEEK[2]<100000.10> BODY.PEEK[HEADER]<10.20>",
		"BODY.PEEK[0] BODY.PEEK[9] BODY.PEEK[1.9] BODY.PEEK[2.0.1]",
		"BINARY.PEEK[1] BINARY.PEEK[2] BINARY.PEEK[3] BINARY.PEEK[1.1] BINARY.PEEK[2.1] BINARY.PEEK[]",
		"BINARY.PEEK[1]<2.50> BINARY.PEEK[2]<0.0> BINARY.PEEK[3.2]<100.100> BINARY.PEEK[9]",
		"BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[3] BINARY.SIZE[1.2] BINARY.SIZE[]",
	} {
		cmd := "FETCH 1:* (" + items + ")"
		want := fetchAll(t, memAddr, cmd)
		got := fetchAll(t, e.addr, cmd)
		if len(got) != len(corpus) || len(want) != len(corpus) {
			t.Fatalf("%s: %d answers from letterbox, %d from go-imap, for %d messages", cmd, len(got), len(want), len(corpus))
		}
		for i := range got {
			if got[i] != want[i] {
				at := diffAt(got[i], want[i])
				t.Errorf("%s: message %d: answers differ at byte %d:\n letterbox: %s\n go-imap:   %s", items, i+1, at, around(got[i], at), around(want[i], at))
			}
		}
	}
}

// TestFetchSectionsBounded: sections are streamed from the message file;
// the server's memory does not grow with the size of the part fetched,
// nor with the depth of the part path.
func TestFetchSectionsBounded(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true, AppendLimit: 64 << 20})
	const attach = 8 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), attach/16)
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	b.WriteString("Subject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n")
	b.WriteString("--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	e.add("INBOX", b.String())
	e.add("INBOX", string(nestedMessage(5000)))
	deep := "1" + strings.Repeat(".1", 4999)
	r := e.raw()
	r.send("a LOGIN " + testUser + " " + testPass + "\r\n")
	r.expect("a OK")
	r.send("b SELECT INBOX\r\n")
	r.expect("b OK")
	for _, tt := range []struct {
		cmd  string
		size int // of the literal when checked, else -1
	}{
		{"FETCH 1 (BODY.PEEK[2])", -1},
		{"FETCH 1 (BINARY.PEEK[2])", attach},
		{"FETCH 1 (BINARY.SIZE[2])", -1},
		{"FETCH 1 (BODY.PEEK[TEXT])", -1},
		{"FETCH 2 (BODY.PEEK[" + deep + "])", -1},
		{"FETCH 2 (BODY.PEEK[" + deep + ".HEADER])", -1},
		{"FETCH 2 (BINARY.PEEK[" + deep + "])", -1},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		r.send("c " + tt.cmd + "\r\n")
		n, err := discardResponse(r)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%.60s: %v", tt.cmd, err)
		}
		if tt.size >= 0 && n != tt.size {
			t.Errorf("%.60s: %d bytes, want %d", tt.cmd, n, tt.size)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("%.60s: %d MB allocated for a literal of %d KB (%v)", tt.cmd, alloc>>20, n>>10, time.Since(start))
		}
	}
}

// discardResponse reads the answer to the command tagged "c", discarding
// literals as they come, and returns the bytes of literals read.
func discardResponse(r *raw) (int, error) {
	total := 0
	for {
		r.c.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := r.r.ReadString('\n')
		if err != nil {
			return total, err
		}
		if strings.HasPrefix(line, "c ") {
			if !strings.HasPrefix(line, "c OK") {
				return total, fmt.Errorf("%s", line)
			}
			return total, nil
		}
		if m := literalTail.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			if _, err := io.CopyN(io.Discard, r.r, int64(n)); err != nil {
				return total, err
			}
			total += n
		}
	}
}
