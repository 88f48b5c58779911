package mime

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// structTestNested is the message of issue 12: levels message/rfc822
// parts, each holding the next, around a text/plain one.
func structTestNested(levels int) []byte {
	var b bytes.Buffer
	b.WriteString("Subject: nest\r\nMIME-Version: 1.0\r\n")
	for i := levels - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "Content-Type: message/rfc822\r\n\r\nSubject: l%d\r\n", i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ninner\r\n")
	return b.Bytes()
}

func TestParseStructureShapes(t *testing.T) {
	msg := mimeTestMsg(
		"From: Ann <ann@example.com>",
		"Subject: =?utf-8?q?caf=C3=A9?=",
		"Date: Tue, 3 Mar 2026 09:15:00 -0500",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="b1"`,
		"Content-Language: de, fr",
		"",
		"preamble",
		"--b1",
		"Content-Type: text/plain; charset=utf-8",
		"Content-ID: <t@x>",
		"Content-Description: the text",
		"Content-Transfer-Encoding: Quoted-Printable",
		"Content-MD5: abc=",
		"Content-Location: http://x/t",
		"",
		"line one",
		"line two",
		"--b1",
		"Content-Type: message/rfc822",
		"Content-Disposition: attachment; filename=\"fwd.eml\"",
		"",
		"Subject: inner",
		"From: carl@example.net",
		"Content-Type: multipart/alternative; boundary=b2",
		"",
		"--b2",
		"Content-Type: text/plain",
		"",
		"plain",
		"--b2",
		"Content-Type: text/html",
		"",
		"<p>html</p>",
		"--b2--",
		"--b1",
		"Content-Type: multipart/mixed",
		"",
		"no boundary here",
		"--b1--",
		"epilogue",
		"")
	st, err := ParseStructure(strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if st.Envelope.Subject != "café" || len(st.Envelope.From) != 1 || st.Envelope.Date.IsZero() {
		t.Errorf("envelope %+v", st.Envelope)
	}
	b := st.Body
	if b.Type != "multipart" || b.Subtype != "mixed" || len(b.Parts) != 3 || b.Params["boundary"] != "b1" || !reflect.DeepEqual(b.Language, []string{"de", "fr"}) {
		t.Fatalf("body %+v", b)
	}
	text := *b.Parts[0]
	want := &Part{Type: "text", Subtype: "plain", Params: map[string]string{"charset": "utf-8"}, ID: "<t@x>", Description: "the text",
		Encoding: "quoted-printable", MD5: "abc=", Location: "http://x/t", Size: int64(len("line one\r\nline two")), Lines: 1}
	text.Offset, text.HeaderLen = 0, 0
	if !reflect.DeepEqual(&text, want) {
		t.Errorf("text part\n got %+v\nwant %+v", text, want)
	}
	fwd := b.Parts[1]
	if fwd.Type != "message" || fwd.Disposition != "attachment" || fwd.DispositionParams["filename"] != "fwd.eml" ||
		fwd.Envelope == nil || fwd.Envelope.Subject != "inner" || fwd.Message == nil || len(fwd.Message.Parts) != 2 {
		t.Fatalf("forwarded part %+v", fwd)
	}
	if fwd.Message.Offset != fwd.Offset+fwd.HeaderLen || fwd.Message.HeaderLen+fwd.Message.Size != fwd.Size {
		t.Errorf("enclosed message at %d+%d+%d in a part at %d+%d+%d", fwd.Message.Offset, fwd.Message.HeaderLen, fwd.Message.Size, fwd.Offset, fwd.HeaderLen, fwd.Size)
	}
	if p := b.Parts[2]; p.Type != "text" || p.Subtype != "plain" || p.Parts != nil || p.Size != int64(len("no boundary here")) {
		t.Errorf("multipart without boundary: %+v", p)
	}
	checkStructure(t, []byte(msg), st)
}

func TestParseStructureDefaults(t *testing.T) {
	tests := []struct {
		name, msg   string
		typ, sub    string
		parts, size int
	}{
		{"no Content-Type", "Subject: x\r\n\r\nbody\r\n", "text", "plain", 0, 6},
		{"invalid Content-Type", "Content-Type: text\r\n\r\nbody\r\n", "text", "plain", 0, 6},
		{"empty message", "", "text", "plain", 0, 0},
		{"header only", "Subject: x\r\n", "text", "plain", 0, 0},
		{"no header", "just a body\r\n", "text", "plain", 0, 13},
		{"digest", "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: in\r\n\r\nx\r\n--d--\r\n", "multipart", "digest", 1, 0},
		{"multipart without parts", "Content-Type: multipart/mixed; boundary=q\r\n\r\n" + strings.Repeat("no delimiter\r\n", 400), "text", "plain", 0, 14 * 400},
	}
	for _, tt := range tests {
		st, err := ParseStructure(strings.NewReader(tt.msg))
		if err != nil {
			t.Fatal(err)
		}
		b := st.Body
		if b.Type != tt.typ || b.Subtype != tt.sub || len(b.Parts) != tt.parts || (tt.parts == 0 && b.Size != int64(tt.size)) {
			t.Errorf("%s: %s/%s with %d parts, size %d; want %s/%s, %d, %d", tt.name, b.Type, b.Subtype, len(b.Parts), b.Size, tt.typ, tt.sub, tt.parts, tt.size)
		}
		checkStructure(t, []byte(tt.msg), st)
	}
	// In a digest, a part without Content-Type is a message (RFC 2046
	// section 5.1.5).
	st, _ := ParseStructure(strings.NewReader(tests[5].msg))
	if p := st.Body.Parts[0]; p.Type != "message" || p.Envelope == nil || p.Envelope.Subject != "in" {
		t.Errorf("digest part %+v", p)
	}
}

// TestParseStructureNested: the message of issue 12 is described to
// MaxNesting levels, then as an opaque part, with memory that does not
// grow with the depth.
func TestParseStructureNested(t *testing.T) {
	for _, levels := range []int{MaxNesting - 1, MaxNesting, 5000, 20000} {
		raw := structTestNested(levels)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		st, err := ParseStructure(bytes.NewReader(raw))
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("%d levels: %d KB allocated", levels, alloc>>10)
		}
		depth, p := 0, st.Body
		for p.Message != nil {
			if want := fmt.Sprintf("l%d", levels-1-depth); p.Envelope.Subject != want {
				t.Fatalf("%d levels: level %d is %q, want %q", levels, depth, p.Envelope.Subject, want)
			}
			depth++
			p = p.Message
		}
		wantDepth, wantType := levels, "text/plain"
		if levels > MaxNesting {
			wantDepth, wantType = MaxNesting, "application/octet-stream"
		}
		if depth != wantDepth || p.Type+"/"+p.Subtype != wantType {
			t.Errorf("%d levels: %d described, then %s/%s; want %d, then %s", levels, depth, p.Type, p.Subtype, wantDepth, wantType)
		}
		checkStructure(t, raw, st)
	}
}

func TestParseStructureManyParts(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=m\r\n\r\n")
	for i := 0; i < maxStructureParts+50; i++ {
		b.WriteString("--m\r\n\r\nx\r\n")
	}
	b.WriteString("--m--\r\n")
	st, err := ParseStructure(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.Body.Parts); n != maxStructureParts-1 {
		t.Errorf("%d parts listed, want %d", n, maxStructureParts-1)
	}
	checkStructure(t, []byte(b.String()), st)
}

func TestStructureMarshal(t *testing.T) {
	for _, msg := range [][]byte{structTestNested(60), []byte(mimeTestMsg("Subject: x", "Date: Tue, 3 Mar 2026 09:15:00 -0500", "", "hi"))} {
		st, _ := ParseStructure(bytes.NewReader(msg))
		data, err := st.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Structure
		if err := back.UnmarshalBinary(data); err != nil {
			t.Fatal(err)
		}
		if !sameStructure(st, &back) {
			t.Errorf("round trip of %.40q differs", msg)
		}
	}
	var s Structure
	if err := s.UnmarshalBinary([]byte(`{"v":0,"b":{"t":"text","s":"plain"}}`)); err == nil {
		t.Error("a structure of another version was accepted")
	}
}

// sameStructure compares two structures; dates by instant and offset.
func sameStructure(a, b *Structure) bool {
	ad, bd := a.Envelope.Date, b.Envelope.Date
	_, ao := ad.Zone()
	_, bo := bd.Zone()
	if !ad.Equal(bd) || ao != bo {
		return false
	}
	a2, b2 := *a, *b
	a2.Envelope.Date, b2.Envelope.Date = ad.UTC(), bd.UTC()
	return reflect.DeepEqual(a2, b2)
}

// checkStructure checks what holds for every structure of raw: each part
// lies inside its parent's body, sizes and lines are those of its bytes,
// nesting and parts are bounded, and it survives a round trip.
func checkStructure(t *testing.T, raw []byte, st *Structure) {
	t.Helper()
	parts := 0
	var walk func(p *Part, lo, hi int64, depth int)
	walk = func(p *Part, lo, hi int64, depth int) {
		parts++
		start, end := p.Offset+p.HeaderLen, p.Offset+p.HeaderLen+p.Size
		if p.Offset < lo || p.HeaderLen < 0 || p.Size < 0 || end > hi {
			t.Fatalf("part at %d+%d+%d outside [%d, %d)", p.Offset, p.HeaderLen, p.Size, lo, hi)
		}
		if n := int64(bytes.Count(raw[start:end], []byte("\n"))); n != p.Lines {
			t.Fatalf("part at %d: %d lines, counted %d", p.Offset, p.Lines, n)
		}
		if depth > MaxNesting {
			t.Fatalf("part at depth %d", depth)
		}
		if p.Type == "multipart" && len(p.Parts) == 0 || p.Type != "multipart" && len(p.Parts) > 0 {
			t.Fatalf("%s/%s with %d parts", p.Type, p.Subtype, len(p.Parts))
		}
		if (p.Message == nil) != (p.Envelope == nil) || p.Message != nil && p.Type != "message" {
			t.Fatalf("%s/%s: message %v, envelope %v", p.Type, p.Subtype, p.Message != nil, p.Envelope != nil)
		}
		last := start
		for _, c := range p.Parts {
			walk(c, last, end, depth+1)
			last = c.Offset + c.HeaderLen + c.Size
		}
		if m := p.Message; m != nil {
			if m.Offset != start || m.HeaderLen+m.Size != p.Size {
				t.Fatalf("enclosed message at %d+%d+%d, part body at %d+%d", m.Offset, m.HeaderLen, m.Size, start, p.Size)
			}
			walk(m, start, end, depth+1)
		}
	}
	walk(st.Body, 0, int64(len(raw)), 0)
	if st.Body.Offset != 0 || st.Body.HeaderLen+st.Body.Size != int64(len(raw)) {
		t.Fatalf("message at %d+%d+%d, %d bytes", st.Body.Offset, st.Body.HeaderLen, st.Body.Size, len(raw))
	}
	if parts > maxStructureParts {
		t.Fatalf("%d parts", parts)
	}
	data, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Structure
	if err := back.UnmarshalBinary(data); err != nil || !sameStructure(st, &back) {
		t.Fatalf("round trip: %v", err)
	}
}

// FuzzParseStructure builds MIME trees from the fuzzer's bytes
// (mailgen.BuildTree) and checks checkStructure on each; raw bytes are
// tried as messages too.
func FuzzParseStructure(f *testing.F) {
	for _, s := range [][]byte{
		{1, 3, 0, 1, 2, 5, 7, 1, 2, 3, 6, 3, 4, 9, 9, 9, 9, 1, 2, 3},
		{2, 6, 200, 15},
		{0x84, 3, 3, 1, 0, 5, 5, 4, 1, 2},
		{4, 3, 4, 2, 3, 1, 7, 0, 5, 2, 2, 5, 1, 3, 3, 0, 0, 1},
		[]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nhi\r\n--x--\r\n"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, shape []byte) {
		for _, raw := range [][]byte{mailgen.BuildTree(shape).Raw, shape} {
			st, err := ParseStructure(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			checkStructure(t, raw, st)
		}
	})
}

func BenchmarkParseStructureNested(b *testing.B) {
	for _, levels := range []int{5000, 20000} {
		raw := structTestNested(levels)
		b.Run(fmt.Sprint(levels), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := ParseStructure(bytes.NewReader(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
