package mime

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	stdmime "mime"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// mimeTestMsg joins lines with CRLF, as messages travel.
func mimeTestMsg(lines ...string) string { return strings.Join(lines, "\r\n") }

// mimeTestWord encodes s in charset label as one RFC 2047 B encoded word.
func mimeTestWord(t testing.TB, label string, enc encoding.Encoding, s string) string {
	t.Helper()
	b, err := enc.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode %q as %s: %v", s, label, err)
	}
	return stdmime.BEncoding.Encode(label, b)
}

// mimeTestNested builds a message of depth nested multipart/mixed levels around
// one text part.
func mimeTestNested(depth int, text string) string {
	var b strings.Builder
	b.WriteString("Subject: nested\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"b" + strconv.Itoa(i) + "\"\r\n\r\n--b" + strconv.Itoa(i) + "\r\n")
	}
	b.WriteString("Content-Type: text/plain\r\n\r\n" + text + "\r\n")
	for i := depth - 1; i >= 0; i-- {
		b.WriteString("--b" + strconv.Itoa(i) + "--\r\n")
	}
	return b.String()
}

// mimeTestRepeat is a reader of count copies of line, for big messages that are
// never held in memory.
type mimeTestRepeat struct {
	line  []byte
	count int
	off   int
}

func (r *mimeTestRepeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && r.count > 0 {
		k := copy(p[n:], r.line[r.off:])
		n += k
		if r.off += k; r.off == len(r.line) {
			r.off, r.count = 0, r.count-1
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// mimeTestBig returns a message of about size bytes with a base64 attachment,
// as a stream, and its exact length.
func mimeTestBig(size int) (io.Reader, int64) {
	head := mimeTestMsg("From: a@example.com", "Subject: big", "Content-Type: multipart/mixed; boundary=BIG", "",
		"--BIG", "Content-Type: text/plain", "", "see attachment", "--BIG",
		"Content-Type: application/octet-stream; name=big.bin", "Content-Transfer-Encoding: base64", "", "")
	tail := "--BIG--\r\n"
	line := []byte(strings.Repeat("QUJD", 19) + "\r\n")
	count := size / len(line)
	return io.MultiReader(strings.NewReader(head), &mimeTestRepeat{line: line, count: count}, strings.NewReader(tail)),
		int64(len(head) + count*len(line) + len(tail))
}

// mimeTestCheckParsed checks the invariants every parse must keep.
func mimeTestCheckParsed(t *testing.T, pm *Parsed, size int64) {
	t.Helper()
	if pm == nil {
		t.Fatal("nil *Parsed")
	}
	if pm.Size != size {
		t.Errorf("Size = %d, want %d", pm.Size, size)
	}
	if n := utf8.RuneCountInString(pm.Preview); n > PreviewLen {
		t.Errorf("Preview has %d runes, more than %d", n, PreviewLen)
	}
	if !utf8.ValidString(pm.Preview) || !utf8.ValidString(pm.BodyText) || !utf8.ValidString(pm.Envelope.Subject) {
		t.Errorf("invalid UTF-8 in Preview, BodyText or Subject")
	}
	if len(pm.BodyText) > MaxIndexedText {
		t.Errorf("BodyText is %d bytes, more than %d", len(pm.BodyText), MaxIndexedText)
	}
	if strings.ContainsRune(pm.BodyText, 0) {
		t.Errorf("NUL in BodyText")
	}
}

func mimeTestHasProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem containing %q in %q", want, problems)
}

func TestParseMessageEnvelope(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		subject string
		from    string
		to      string
	}{
		{"ascii", "Subject: Quarterly report", "Quarterly report", "", ""},
		{"utf-8 B", "Subject: =?utf-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "Grüße aus Köln", "", ""},
		{"utf-8 Q", "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=", "Grüße aus Köln", "", ""},
		{"iso-8859-1", "Subject: =?iso-8859-1?q?Caf=E9_cr=E8me?=", "Café crème", "", ""},
		{"windows-1252", "Subject: =?windows-1252?Q?=93quoted=94_=80?=", "“quoted” €", "", ""},
		{"koi8-r", "Subject: " + mimeTestWord(t, "koi8-r", charmap.KOI8R, "Привет мир"), "Привет мир", "", ""},
		{"iso-2022-jp", "Subject: " + mimeTestWord(t, "iso-2022-jp", japanese.ISO2022JP, "こんにちは世界"), "こんにちは世界", "", ""},
		{"shift_jis", "Subject: " + mimeTestWord(t, "shift_jis", japanese.ShiftJIS, "日本語の件名"), "日本語の件名", "", ""},
		{"adjacent words", "Subject: =?utf-8?q?a?= =?utf-8?q?b?= c", "ab c", "", ""},
		{"folded", "Subject: one\r\n two\r\n\tthree", "one two three", "", ""},
		{"raw latin1", "Subject: caf\xe9", "café", "", ""},
		{"raw utf-8", "Subject: café", "café", "", ""},
		{"nul", "Subject: a\x00b", "ab", "", ""},
		{"escape", "Subject: a\x1b[31mred", "a[31mred", "", ""},
		{"names", "From: =?utf-8?q?J=C3=B6rg?= <j@example.de>\r\nTo: \"Ann, A\" <ann@example.com>, bob@example.com",
			"", "Jörg <j@example.de>", "Ann, A <ann@example.com>, bob@example.com"},
		{"lenient", "From: Ann Example <ann@example.com\r\nTo: bob@example.com (Bob), , Carl <carl@x",
			"", "Ann Example <ann@example.com>", "Bob <bob@example.com>, Carl <carl@x>"},
		{"group", "To: undisclosed-recipients:;", "", "", ""},
		{"bare local", "From: root", "", "root", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mimeTestMsg(tt.header, "", "body")
			pm, err := Parse(strings.NewReader(in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			mimeTestCheckParsed(t, pm, int64(len(in)))
			env := pm.Envelope
			if env.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", env.Subject, tt.subject)
			}
			if got := FormatAddresses(env.From); got != tt.from {
				t.Errorf("From = %q, want %q", got, tt.from)
			}
			if got := FormatAddresses(env.To); got != tt.to {
				t.Errorf("To = %q, want %q", got, tt.to)
			}
		})
	}
}

func TestParseMessageIDsAndDate(t *testing.T) {
	in := mimeTestMsg(
		"Message-ID: < abc@example.com >",
		"In-Reply-To: <p1@x.org> (Ann's message of Monday)",
		"References: <r1@x.org>",
		" <r2@x.org>\t<r1@x.org>",
		"Date: Tue, 3 Mar 2026 10:04:05 +0100 (CET)",
		"", "hi")
	pm, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	env := pm.Envelope
	if env.MessageID != "abc@example.com" {
		t.Errorf("MessageID = %q", env.MessageID)
	}
	if strings.Join(env.InReplyTo, " ") != "p1@x.org" {
		t.Errorf("InReplyTo = %q", env.InReplyTo)
	}
	if strings.Join(env.References, " ") != "r1@x.org r2@x.org" {
		t.Errorf("References = %q", env.References)
	}
	if want := time.Date(2026, 3, 3, 9, 4, 5, 0, time.UTC); !env.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", env.Date, want)
	}

	dates := map[string]string{
		"3 Mar 2026 10:04:05 +0100":     "2026-03-03T09:04:05Z",
		"Tue, 3 Mar 2026 10:04 +0100":   "2026-03-03T09:04:00Z",
		"2026-03-03 10:04:05 +0100":     "2026-03-03T09:04:05Z",
		"Tue Mar  3 10:04:05 2026":      "2026-03-03T10:04:05Z",
		"Tuesday, 3 Mar 2026 10:04:05":  "2026-03-03T10:04:05Z",
		"3 March 2026 10:04:05 +0100":   "2026-03-03T09:04:05Z",
		"yesterday around noon":         "0001-01-01T00:00:00Z",
		"Tue, 3 Mar 2026 10:04:05 +01!": "0001-01-01T00:00:00Z",
	}
	for v, want := range dates {
		pm, _ := Parse(strings.NewReader("Date: " + v + "\r\n\r\n"))
		if got := pm.Envelope.Date.UTC().Format(time.RFC3339); got != want {
			t.Errorf("Date %q = %s, want %s", v, got, want)
		}
		if want[0] == '0' {
			mimeTestHasProblem(t, pm.Problems, "unparseable Date")
		}
	}

	pm, _ = Parse(strings.NewReader("In-Reply-To: p2@x.org\r\nMessage-Id: naked@id\r\n\r\n"))
	if strings.Join(pm.Envelope.InReplyTo, "") != "p2@x.org" || pm.Envelope.MessageID != "naked@id" {
		t.Errorf("ids without brackets: %q %q", pm.Envelope.InReplyTo, pm.Envelope.MessageID)
	}
}

func TestParseMessageBody(t *testing.T) {
	latinQP := mimeTestMsg("Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: quoted-printable", "",
		"Caf=E9 cr=E8me=", "br=FBl=E9e, 1+1=3D2, a =ZZ b", "")
	b64 := mimeTestMsg("Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "",
		"R3LDvMOfZSBhdXMg", "S8O2bG4h", "")
	alt := mimeTestMsg("Content-Type: multipart/alternative; boundary=\"=_alt\"", "", "preamble", "--=_alt",
		"Content-Type: text/plain; charset=utf-8", "", "Plain version", "--=_alt",
		"Content-Type: text/html; charset=utf-8", "", "<p>HTML <b>version</b></p>", "--=_alt--", "")
	htmlOnly := mimeTestMsg("Content-Type: text/html; charset=utf-8", "",
		"<html><head><style>p{color:red}</style></head><body><p>Hello <a href=\"https://example.com/x\">there</a></p></body></html>")
	mixed := mimeTestMsg("Content-Type: multipart/mixed; boundary=MIX", "", "--MIX", "Content-Type: text/plain", "",
		"See the report.", "--MIX", "Content-Type: application/pdf; name=\"report.pdf\"",
		"Content-Disposition: attachment; filename=\"report.pdf\"", "Content-Transfer-Encoding: base64", "",
		"JVBERi0xLjQKJcOkw7zDtsOfCg==", "--MIX--", "")
	deep := mimeTestNested(1000, "deep inside")
	shallow := mimeTestNested(MaxNesting-1, "found inside")
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name, in      string
		body          string // substring of BodyText
		notBody       string // must not be in BodyText
		preview       string // exact, when set
		attachment    bool
		problem       string
		noProblems    bool
		subjectBefore string
	}{
		{name: "plain", in: mimeTestMsg("Subject: hi", "", "Hello,", "", "  how   are\tyou?"), body: "Hello,\n\n  how   are\tyou?", preview: "Hello, how are you?", noProblems: true},
		{name: "lf only", in: "Subject: hi\n\nline one\nline two\n", body: "line one\nline two", noProblems: true},
		{name: "cr cr lf", in: "Subject: hi\r\r\nContent-Type: text/plain\r\r\n\r\r\nbody\r\r\n", body: "body", noProblems: true},
		{name: "mbox from line", in: mimeTestMsg("From ann@example.com Mon Jan  2 15:04:05 2006", "Subject: hi", "", "text"), body: "text", noProblems: true},
		{name: "quoted-printable", in: latinQP, body: "Café crèmebrûlée, 1+1=2, a =ZZ b", noProblems: true},
		{name: "base64", in: b64, body: "Grüße aus Köln!", noProblems: true},
		{name: "alternative", in: alt, body: "Plain version", notBody: "HTML", noProblems: true},
		{name: "html only", in: htmlOnly, body: "Hello there", notBody: "example.com", preview: "Hello there", noProblems: true},
		{name: "mixed", in: mixed, body: "See the report.", notBody: "JVBER", attachment: true, noProblems: true},
		{name: "unknown charset", in: mimeTestMsg("Content-Type: text/plain; charset=x-nonsense", "", "caf\xe9"), body: "café", problem: `unknown charset "x-nonsense"; read as windows-1252`},
		{name: "unknown charset utf-8", in: mimeTestMsg("Content-Type: text/plain; charset=x-nonsense", "", "café"), body: "café", problem: `read as UTF-8`},
		{name: "lying us-ascii", in: mimeTestMsg("Content-Type: text/plain; charset=us-ascii", "", "na\xefve caf\xe9 \x93q\x94"), body: "naïve café “q”", problem: "8-bit text declared us-ascii"},
		{name: "lying utf-8", in: mimeTestMsg("Content-Type: text/plain; charset=utf-8", "", "bad \xff byte"), body: "bad \uFFFD byte", problem: "not valid UTF-8"},
		{name: "koi8-r body", in: mimeTestMsg("Content-Type: text/plain; charset=koi8-r", "", "\xf0\xd2\xc9\xd7\xc5\xd4"), body: "Привет", noProblems: true},
		{name: "nul bytes", in: mimeTestMsg("Subject: x", "", "a\x00b\x00\x00c"), body: "abc", noProblems: true},
		{name: "1 MB header line", in: mimeTestMsg("X-Long: "+strings.Repeat("a", 1<<20), "Subject: after", "", "body"), body: "body", problem: "longer than 64 KiB", subjectBefore: "after"},
		{name: "1 MB subject", in: mimeTestMsg("Subject: "+strings.Repeat("s", 1<<20), "", "body"), body: "body", problem: "longer than 64 KiB"},
		{name: "1000-deep nesting", in: deep, body: "deep inside", problem: "nested deeper than 50 levels; read as text"},
		{name: "49-deep nesting", in: shallow, body: "found inside", noProblems: true},
		{name: "empty", in: "", problem: "empty message"},
		{name: "only header", in: "Subject: x", noProblems: true},
		{name: "random bytes", in: string(random)},
		{name: "headerless text", in: "Just some text\nwith lines\n", body: "Just some text\nwith lines", problem: "no header"},
		{name: "missing boundary guessed", in: mimeTestMsg("Content-Type: multipart/mixed", "", "--frontier", "Content-Type: text/plain", "", "first part", "--frontier--"), body: "first part", notBody: "frontier", problem: "guessed"},
		{name: "missing boundary", in: mimeTestMsg("Content-Type: multipart/mixed", "", "no delimiters here"), body: "no delimiters here", problem: "without boundary; read as text"},
		{name: "wrong boundary", in: mimeTestMsg("Content-Type: multipart/mixed; boundary=nope", "", "--other", "", "text", "--other--"), body: "text", notBody: "--other", problem: `boundary "nope" not found; guessed "other"`},
		{name: "wrong boundary, no delimiters", in: mimeTestMsg("Content-Type: multipart/mixed; boundary=nope", "", "plain words"), body: "plain words", problem: `boundary "nope" not found; read as text`},
		{name: "truncated multipart", in: mixed[:strings.Index(mixed, "JVBER")+8], body: "See the report.", attachment: true, problem: "closing boundary missing"},
		{name: "truncated base64", in: mimeTestMsg("Content-Transfer-Encoding: base64", "", "SGVsbG8gd29ybGQ"), body: "Hello wor", problem: "cannot be decoded"},
		{name: "garbage base64", in: mimeTestMsg("Content-Transfer-Encoding: base64", "", "SGVs!!bG8=\r\n"), body: "Hello", noProblems: true},
		{name: "unknown encoding", in: mimeTestMsg("Content-Transfer-Encoding: x-uuencode", "", "abc"), body: "abc", problem: "unknown Content-Transfer-Encoding"},
		{name: "boundary with spaces", in: mimeTestMsg("Content-Type: multipart/mixed; boundary=\"a  b\"", "", "--a  b", "", "spaced", "--a  b--"), body: "spaced", noProblems: true},
		{name: "control in type", in: mimeTestMsg("Content-Type: multipart/mi\x01xed; boundary=b", "", "--b", "", "x", "--b--"), body: "--b", problem: "invalid Content-Type"},
		{name: "bad content type", in: mimeTestMsg("Content-Type: text", "", "abc"), body: "abc", problem: "invalid Content-Type"},
		{name: "part without header", in: mimeTestMsg("Content-Type: multipart/mixed; boundary=B", "", "--B", "Hello directly", "--B--"), body: "Hello directly", problem: "part 1: no header"},
		{name: "digest", in: mimeTestMsg("Content-Type: multipart/digest; boundary=D", "", "--D", "", "Subject: inner", "", "inner text", "--D--"), attachment: false, notBody: "inner text", noProblems: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pm, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			mimeTestCheckParsed(t, pm, int64(len(tt.in)))
			if !strings.Contains(pm.BodyText, tt.body) {
				t.Errorf("BodyText = %q, want it to contain %q", pm.BodyText, tt.body)
			}
			if tt.notBody != "" && strings.Contains(pm.BodyText, tt.notBody) {
				t.Errorf("BodyText = %q, want it without %q", pm.BodyText, tt.notBody)
			}
			if tt.preview != "" && pm.Preview != tt.preview {
				t.Errorf("Preview = %q, want %q", pm.Preview, tt.preview)
			}
			if pm.HasAttachment != tt.attachment {
				t.Errorf("HasAttachment = %v, want %v", pm.HasAttachment, tt.attachment)
			}
			if tt.problem != "" {
				mimeTestHasProblem(t, pm.Problems, tt.problem)
			}
			if tt.noProblems && len(pm.Problems) > 0 {
				t.Errorf("Problems = %q, want none", pm.Problems)
			}
			if tt.subjectBefore != "" && pm.Envelope.Subject != tt.subjectBefore {
				t.Errorf("Subject = %q, want %q", pm.Envelope.Subject, tt.subjectBefore)
			}
		})
	}
}

func TestParseMessageLimits(t *testing.T) {
	long := mimeTestMsg("Subject: long", "", strings.Repeat("word ", MaxIndexedText))
	pm, err := Parse(strings.NewReader(long))
	if err != nil {
		t.Fatal(err)
	}
	mimeTestCheckParsed(t, pm, int64(len(long)))
	if len(pm.BodyText) < MaxIndexedText-8 {
		t.Errorf("BodyText is %d bytes, want about %d", len(pm.BodyText), MaxIndexedText)
	}
	mimeTestHasProblem(t, pm.Problems, "only the start is read")
	if n := utf8.RuneCountInString(pm.Preview); n < PreviewLen-1 {
		t.Errorf("Preview has %d runes, want about %d", n, PreviewLen)
	}

	// Multi-byte text cut at the cap stays valid UTF-8.
	wide := mimeTestMsg("", strings.Repeat("é日", MaxIndexedText))
	pm, _ = Parse(strings.NewReader(wide))
	mimeTestCheckParsed(t, pm, int64(len(wide)))

	var parts strings.Builder
	parts.WriteString("Content-Type: multipart/mixed; boundary=P\r\n\r\n")
	for range mimeMaxProblems * 2 {
		parts.WriteString("--P\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\nx\r\n")
	}
	parts.WriteString("--P--\r\n")
	pm, _ = Parse(strings.NewReader(parts.String()))
	if len(pm.Problems) > mimeMaxProblems+1 {
		t.Errorf("%d problems, want at most %d", len(pm.Problems), mimeMaxProblems+1)
	}
}

func TestParseMessageBig(t *testing.T) {
	r, size := mimeTestBig(50 << 20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	pm, err := Parse(r)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	mimeTestCheckParsed(t, pm, size)
	if !pm.HasAttachment || pm.BodyText != "see attachment" {
		t.Errorf("HasAttachment = %v, BodyText = %q", pm.HasAttachment, pm.BodyText)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("50 MB message: %v, %d KiB allocated", elapsed, alloc>>10)
	if alloc > 4<<20 {
		t.Errorf("allocated %d KiB parsing a 50 MB message; it should stream", alloc>>10)
	}

	// 50 MB of plain text: only the indexed start is kept.
	text := &mimeTestRepeat{line: []byte("all work and no play makes jack a dull boy\r\n"), count: (50 << 20) / 44}
	pm, err = Parse(io.MultiReader(strings.NewReader("Subject: text\r\n\r\n"), text))
	if err != nil {
		t.Fatal(err)
	}
	mimeTestCheckParsed(t, pm, int64(17+44*((50<<20)/44)))
}

// mimeTestFailReader returns data, then err.
type mimeTestFailReader struct {
	data []byte
	err  error
}

func (r *mimeTestFailReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// mimeTestBadReader breaks the io.Reader contract.
type mimeTestBadReader struct{ n int }

func (r mimeTestBadReader) Read(p []byte) (int, error) { return r.n, nil }

func TestParseMessageReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	in := mimeTestMsg("Subject: partial", "Content-Type: multipart/mixed; boundary=B", "", "--B", "", "text")
	pm, err := Parse(&mimeTestFailReader{data: []byte(in), err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if pm == nil || pm.Envelope.Subject != "partial" || pm.Size != int64(len(in)) {
		t.Fatalf("best effort result = %+v", pm)
	}
	for _, n := range []int{-1, 1 << 30, 0} {
		pm, err := Parse(mimeTestBadReader{n: n})
		if err == nil || pm == nil {
			t.Errorf("bad reader returning %d: err = %v, pm = %v", n, err, pm)
		}
	}
}

func TestNormalizeSubject(t *testing.T) {
	tests := map[string]string{
		"Quarterly Report":                       "quarterly report",
		"Re: Quarterly Report":                   "quarterly report",
		"RE: re: Fwd: Quarterly  Report ":        "quarterly report",
		"[team] Re: [team] Quarterly Report":     "quarterly report",
		"AW: SV: Fw: WG: hello":                  "hello",
		"Re[2]: hello":                           "hello",
		"Re(3) : hello":                          "hello",
		"Reply: hello":                           "reply: hello",
		"Meeting: 10:00":                         "meeting: 10:00",
		"":                                       "",
		"Re:":                                    "",
		"[unterminated list prefix re: x":        "[unterminated list prefix re: x",
		"Re: Ärger mit der Übersetzung":          "ärger mit der übersetzung",
		"\tRe:\r\n  Fwd:   spaced\tout  subject": "spaced out subject",
	}
	for in, want := range tests {
		if got := NormalizeSubject(in); got != want {
			t.Errorf("NormalizeSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMimeQuotedPrintable checks the lenient decoder on edge cases of
// RFC 2045 section 6.7.
func TestMimeQuotedPrintable(t *testing.T) {
	tests := map[string]string{
		"a=3Db":                    "a=b",
		"soft=\r\nbreak":           "softbreak",
		"soft=  \r\nspace":         "softspace",
		"lf=\nonly":                "lfonly",
		"end=":                     "end",
		"bad=G1 =4":                "bad=G1 =4",
		"lower=e9":                 "lower\xe9",
		strings.Repeat("x", 10000): strings.Repeat("x", 10000),
	}
	for in, want := range tests {
		got, err := io.ReadAll(&mimeQPReader{br: bufio.NewReaderSize(strings.NewReader(in), mimeBufSize)})
		if err != nil || string(got) != want {
			t.Errorf("qp(%.20q) = %.20q, %v; want %.20q", in, got, err, want)
		}
	}
}

func TestMimeSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain":           "plain",
		"a\r\nb\r\n":      "a\nb\n",
		"a\rb":            "a\nb",
		"a\r\r\nb":        "a\n\nb",
		"tab\tok\n":       "tab\tok\n",
		"bell\x07gone":    "bellgone",
		"caf\xc3\xa9\r\n": "café\n",
		"bad\xffbyte":     "bad\uFFFDbyte",
		"\r":              "\n",
	} {
		if got := mimeSanitize(in); got != want {
			t.Errorf("mimeSanitize(%q) = %q, want %q", in, got, want)
		}
	}
}
