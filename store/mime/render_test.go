package mime

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// mimeTestPDF is the decoded content of the test attachment, with bytes of
// every value.
func mimeTestPDF() []byte {
	b := []byte("%PDF-1.4\n")
	for i := range 700 {
		b = append(b, byte(i))
	}
	return b
}

// mimeTestBase64Lines encodes b as base64 in 76-character lines.
func mimeTestBase64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out []string
	for len(s) > 76 {
		out, s = append(out, s[:76]), s[76:]
	}
	return strings.Join(append(out, s), "\r\n")
}

// mimeTestRich is a message with a part of most kinds:
//
//	multipart/mixed
//	  1    multipart/alternative
//	  1.1    text/plain
//	  1.2    multipart/related
//	  1.2.1    text/html
//	  1.2.2    image/png (inline)
//	  2    application/pdf (attachment, RFC 2231 name)
//	  3    message/rfc822
//	  4    text/plain attachment
func mimeTestRich() string {
	return mimeTestMsg(
		"From: Ann <ann@example.com>", "To: Bob <bob@example.com>", "Cc: carl@example.com",
		"Reply-To: list@example.com", "Subject: =?utf-8?q?Q3_r=C3=A9sum=C3=A9?=",
		"Date: Tue, 3 Mar 2026 10:04:05 +0100", "MIME-Version: 1.0",
		"Content-Type: multipart/mixed; boundary=outer", "",
		"--outer", "Content-Type: multipart/alternative; boundary=alt", "",
		"--alt", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
		"Hi Bob,=0D=0A=0D=0Athe r=C3=A9sum=C3=A9 is attached.", "--alt",
		"Content-Type: multipart/related; boundary=rel", "",
		"--rel", "Content-Type: text/html; charset=utf-8", "", "<p>Hi Bob, the <b>résumé</b></p><img src=\"cid:logo\">",
		"--rel", "Content-Type: image/png", "Content-Disposition: inline", "Content-ID: <logo>",
		"Content-Transfer-Encoding: base64", "", "iVBORw0KGgo=", "--rel--", "--alt--",
		"--outer", "Content-Type: application/pdf",
		"Content-Disposition: attachment; filename*=utf-8''%E2%82%AC%20r%C3%A9sum%C3%A9.pdf",
		"Content-Transfer-Encoding: base64", "", mimeTestBase64Lines(mimeTestPDF()),
		"--outer", "Content-Type: message/rfc822", "", "Subject: forwarded", "", "old text",
		"--outer", "Content-Type: text/plain; name=notes.txt", "Content-Disposition: attachment", "", "notes",
		"--outer--", "")
}

func TestRenderMessageRich(t *testing.T) {
	in := mimeTestRich()
	r, err := Render(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		t.Errorf("Problems = %q", r.Problems)
	}
	if r.Text != "Hi Bob,\n\nthe résumé is attached." || r.FromHTML {
		t.Errorf("Text = %q, FromHTML = %v", r.Text, r.FromHTML)
	}
	wantHeaders := []HeaderField{
		{"Date", "Tue, 3 Mar 2026 10:04:05 +0100"}, {"From", "Ann <ann@example.com>"}, {"To", "Bob <bob@example.com>"},
		{"Cc", "carl@example.com"}, {"Reply-To", "list@example.com"}, {"Subject", "Q3 résumé"},
	}
	if !mimeTestEqualSlices(r.Headers, wantHeaders) {
		t.Errorf("Headers = %q, want %q", r.Headers, wantHeaders)
	}
	wantAtts := []Attachment{
		{Part: "1.2.2", ContentType: "image/png", Size: 8, Inline: true},
		{Part: "2", Filename: "€ résumé.pdf", ContentType: "application/pdf", Size: int64(len(mimeTestPDF()))},
		{Part: "3", ContentType: "message/rfc822", Size: 30},
		{Part: "4", Filename: "notes.txt", ContentType: "text/plain", Size: 5},
	}
	if !mimeTestEqualSlices(r.Attachments, wantAtts) {
		t.Errorf("Attachments = %+v\nwant          %+v", r.Attachments, wantAtts)
	}

	for _, att := range wantAtts {
		var buf bytes.Buffer
		n, err := SavePart(strings.NewReader(in), att.Part, &buf)
		if err != nil || n != att.Size || int64(buf.Len()) != n {
			t.Errorf("SavePart(%s) = %d, %v; wrote %d, want %d", att.Part, n, err, buf.Len(), att.Size)
		}
	}
	var buf bytes.Buffer
	if _, err := SavePart(strings.NewReader(in), "2", &buf); err != nil || !bytes.Equal(buf.Bytes(), mimeTestPDF()) {
		t.Errorf("SavePart(2) bytes differ: %v", err)
	}
	buf.Reset()
	if _, err := SavePart(strings.NewReader(in), "1.1", &buf); err != nil || buf.String() != "Hi Bob,\r\n\r\nthe résumé is attached." {
		t.Errorf("SavePart(1.1) = %q, %v", buf.String(), err)
	}
	for _, part := range []string{"", "0", "1", "1.2", "5", "2.1", "1.2.3", "x"} {
		if _, err := SavePart(strings.NewReader(in), part, io.Discard); !errors.Is(err, ErrNoPart) {
			t.Errorf("SavePart(%q) error = %v, want ErrNoPart", part, err)
		}
	}
}

func mimeTestEqualSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRenderMessageCases(t *testing.T) {
	tests := []struct {
		name, in     string
		text         string // exact Text
		fromHTML     bool
		textContains string // instead of text, for long outputs
		attachments  string // "part filename type size inline;" per attachment
		problem      string
	}{
		{name: "plain", in: mimeTestMsg("Subject: hi", "", "line one", "line two", ""), text: "line one\nline two\n"},
		{name: "terminal escapes", in: mimeTestMsg("", "red \x1b[31mtext\x1b[0m\x07 \u009b2J"), text: "red [31mtext[0m 2J"},
		{name: "alternative", in: mimeTestMsg("Content-Type: multipart/alternative; boundary=a", "", "--a",
			"Content-Type: text/html", "", "<p>rich</p>", "--a", "Content-Type: text/plain", "", "plain", "--a--"), text: "plain"},
		{name: "html only", in: mimeTestMsg("Content-Type: text/html; charset=iso-8859-1", "",
			"<p>Caf\xe9 <a href=\"https://example.com/menu\">menu</a> <a href=\"mailto:x@example.com\">x@example.com</a></p>"),
			text: "Café menu ( https://example.com/menu ) x@example.com", fromHTML: true},
		{name: "alternative html last", in: mimeTestMsg("Content-Type: multipart/alternative; boundary=a", "", "--a",
			"Content-Type: text/enriched", "", "<bold>x</bold>", "--a", "Content-Type: text/html", "", "<b>html</b>", "--a--"),
			text: "*html*", fromHTML: true, attachments: "1  text/enriched 14 false;"},
		{name: "mixed texts", in: mimeTestMsg("Content-Type: multipart/mixed; boundary=m", "", "--m", "", "first", "--m", "", "footer", "--m--"),
			text: "first\n\nfooter"},
		{name: "single attachment", in: mimeTestMsg("Content-Type: application/pdf; name=\"=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=\"",
			"Content-Transfer-Encoding: base64", "", "JVBERg=="), attachments: "1 résumé.pdf application/pdf 4 false;"},
		{name: "rfc 2231 latin1", in: mimeTestMsg("Content-Type: multipart/mixed; boundary=m", "", "--m",
			"Content-Type: text/csv", "Content-Disposition: attachment; filename*=iso-8859-1'fr'caf%E9.csv", "", "a,b", "--m--"),
			attachments: "1 café.csv text/csv 3 false;"},
		{name: "rfc 2231 continuation", in: mimeTestMsg("Content-Type: multipart/mixed; boundary=m", "", "--m",
			"Content-Type: application/octet-stream", "Content-Disposition: attachment;", " filename*0*=utf-8''Gr%C3%BC;", " filename*1=sse.bin", "", "x", "--m--"),
			attachments: "1 Grüsse.bin application/octet-stream 1 false;"},
		{name: "path in filename", in: mimeTestMsg("Content-Type: multipart/mixed; boundary=m", "", "--m",
			"Content-Type: application/x-sh; name=\"../../.bashrc\"", "", "x", "--m--"),
			attachments: "1 .bashrc application/x-sh 1 false;"},
		{name: "unknown charset", in: mimeTestMsg("Content-Type: text/plain; charset=x-nonsense", "", "caf\xe9"), text: "café", problem: "unknown charset"},
		{name: "lying charset", in: mimeTestMsg("Content-Type: text/plain; charset=us-ascii", "", "caf\xe9"), text: "café", problem: "declared us-ascii"},
		{name: "truncated", in: mimeTestMsg("Content-Type: multipart/mixed; boundary=m", "", "--m", "", "text", "--m",
			"Content-Type: image/gif", "Content-Transfer-Encoding: base64", "", "R0lGOD"), text: "text",
			attachments: "2  image/gif 3 false;", problem: "closing boundary missing"},
		{name: "empty", in: "", problem: "empty message"},
		{name: "deep", in: mimeTestNested(1000, "deep"), textContains: "\ndeep\n", problem: "nested deeper than 50 levels; read as text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Render(strings.NewReader(tt.in))
			if err != nil || r == nil {
				t.Fatalf("Render: %v, %v", r, err)
			}
			if tt.textContains != "" {
				if !strings.Contains(r.Text, tt.textContains) {
					t.Errorf("Text lacks %q", tt.textContains)
				}
			} else if r.Text != tt.text || r.FromHTML != tt.fromHTML {
				t.Errorf("Text = %q, FromHTML = %v; want %q, %v", r.Text, r.FromHTML, tt.text, tt.fromHTML)
			}
			var atts strings.Builder
			for _, a := range r.Attachments {
				atts.WriteString(strings.Join([]string{a.Part, a.Filename, a.ContentType, strconv.FormatInt(a.Size, 10), strconv.FormatBool(a.Inline)}, " ") + ";")
			}
			if atts.String() != tt.attachments {
				t.Errorf("Attachments = %q, want %q", atts.String(), tt.attachments)
			}
			if tt.problem != "" {
				mimeTestHasProblem(t, r.Problems, tt.problem)
			} else if len(r.Problems) > 0 {
				t.Errorf("Problems = %q, want none", r.Problems)
			}
			if !utf8.ValidString(r.Text) {
				t.Errorf("Text is not valid UTF-8")
			}
		})
	}
}

func TestRenderMessageBig(t *testing.T) {
	r, size := mimeTestBig(50 << 20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	rm, err := Render(r)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	lines := int64(size-int64(len("--BIG--\r\n"))) / 78 // upper bound of base64 lines
	if len(rm.Attachments) != 1 || rm.Attachments[0].Size < (lines-10)*57 {
		t.Fatalf("Attachments = %+v", rm.Attachments)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("50 MB message rendered: %v, %d KiB allocated", elapsed, alloc>>10)
	if alloc > 4<<20 {
		t.Errorf("allocated %d KiB rendering a 50 MB message; it should stream", alloc>>10)
	}
	r, _ = mimeTestBig(50 << 20)
	n, err := SavePart(r, "2", io.Discard)
	if err != nil || n != rm.Attachments[0].Size {
		t.Errorf("SavePart = %d, %v; want %d", n, err, rm.Attachments[0].Size)
	}
}

// mimeTestShortWriter fails after limit bytes.
type mimeTestShortWriter struct{ limit int }

func (w *mimeTestShortWriter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n := w.limit
		w.limit = 0
		return n, errors.New("disk full")
	}
	w.limit -= len(p)
	return len(p), nil
}

func TestSaveAttachmentErrors(t *testing.T) {
	in := mimeTestRich()
	if _, err := SavePart(strings.NewReader(in), "2", &mimeTestShortWriter{limit: 10}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error = %v", err)
	}
	boom := errors.New("boom")
	half := in[:strings.Index(in, "--outer\r\nContent-Type: application/pdf")]
	if _, err := SavePart(&mimeTestFailReader{data: []byte(half), err: boom}, "2", io.Discard); !errors.Is(err, boom) {
		t.Errorf("read error = %v, want %v", err, boom)
	}
	if _, err := SavePart(strings.NewReader(half), "2", io.Discard); !errors.Is(err, ErrNoPart) {
		t.Errorf("part missing from truncated message: %v", err)
	}
	bad := mimeTestMsg("Content-Transfer-Encoding: base64", "", "SGVsbG8gd29ybGQ")
	if n, err := SavePart(strings.NewReader(bad), "1", io.Discard); err == nil || n == 0 {
		t.Errorf("truncated base64: %d, %v; want partial data and an error", n, err)
	}
	plain := mimeTestMsg("Subject: x", "", "body")
	var buf bytes.Buffer
	if n, err := SavePart(strings.NewReader(plain), " 1 ", &buf); err != nil || n != 4 || buf.String() != "body" {
		t.Errorf("SavePart(1) of a single-part message = %d, %v, %q", n, err, buf.String())
	}
}

// TestRenderMessageHostile feeds inputs built to make a naive parser slow,
// deep or big; each must finish quickly (the test timeout is the guard).
func TestRenderMessageHostile(t *testing.T) {
	html := "Content-Type: text/html\r\n\r\n"
	tests := map[string]string{
		"nested divs":       html + strings.Repeat("<div>", 200000),
		"nested formatting": html + strings.Repeat("<b><i><u><font>", 50000),
		"nested tables":     html + strings.Repeat("<table><tr><td>x", 50000),
		"nested quotes":     html + strings.Repeat("<blockquote>x ", 50000),
		"many parts":        "Content-Type: multipart/mixed; boundary=B\r\n\r\n" + strings.Repeat("--B\r\n\r\nx\r\n", 200000),
		"many headers":      strings.Repeat("To: a@b.c\r\n", 200000) + "\r\nbody",
		"many references":   "References: " + strings.Repeat("<a@b> ", 20000) + "\r\n\r\nx",
		"long body line":    "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\n" + strings.Repeat("x", 4<<20) + "\r\n--B--",
		"qp equals":         "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + strings.Repeat("=", 4<<20),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			pm, err := Parse(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			mimeTestCheckParsed(t, pm, int64(len(in)))
			r, err := Render(strings.NewReader(in))
			if err != nil || !utf8.ValidString(r.Text) {
				t.Fatalf("Render: %v", err)
			}
			t.Logf("%d KiB in %v; problems %q", len(in)>>10, time.Since(start), r.Problems)
		})
	}
}

func TestMimeFlattenHTML(t *testing.T) {
	deep := strings.Repeat("<div>", mimeMaxHTMLDepth+50) + "text" + strings.Repeat("</div>", mimeMaxHTMLDepth+50)
	got := mimeFlattenHTML(deep)
	if strings.Count(got, "<div>") != mimeMaxHTMLDepth || strings.Count(got, "</div>") != mimeMaxHTMLDepth || !strings.Contains(got, "text") {
		t.Errorf("flattened: %d <div>, %d </div>", strings.Count(got, "<div>"), strings.Count(got, "</div>"))
	}
	same := `<!DOCTYPE html><p>a<br>b<style>p{x:"<div>"}</style><ul><li>1<li>2</ul><!-- c --></p>`
	if got := mimeFlattenHTML(same); got != same {
		t.Errorf("mimeFlattenHTML(%q) = %q, want it unchanged", same, got)
	}
}
