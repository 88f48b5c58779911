package mime

import (
	"bufio"
	"bytes"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/emersion/go-message/charset"
	"unicode/utf8"
)

// mimeTestSamples returns the sample messages of testdata/mime by file name.
func mimeTestSamples(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples in testdata: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestParseMessageSamples(t *testing.T) {
	tests := map[string]struct {
		subject, from, body string
		refs                int
		attachment          bool
	}{
		"mailing-list.eml":   {"Re: [go-nuts] Re: streaming MIME parsing without loading the body", "Ian Example <ian@example.com>", "costs you 4 KiB", 2, false},
		"newsletter.eml":     {"This week: 🚀 Go 1.26 and more", "Example Weekly <news@weekly.example.com>", "Go 1.26 is out", 0, false},
		"pdf-attachment.eml": {"Q1 invoice", "Bob Accountant <bob@example.com>", "the Q1 invoice is attached", 0, true},
		"japanese.eml":       {"会議の件", "田中 <tanaka@example.jp>", "来週の会議の件でご連絡しました。", 0, false},
		"latin1.eml":         {"Réunion de l'équipe", "François Müller <francois@example.fr>", "salle Émile-Zola", 0, false},
	}
	samples := mimeTestSamples(t)
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			in, ok := samples[name]
			if !ok {
				t.Fatalf("sample %s missing", name)
			}
			pm, err := Parse(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			mimeTestCheckParsed(t, pm, int64(len(in)))
			if len(pm.Problems) > 0 {
				t.Errorf("Problems = %q", pm.Problems)
			}
			env := pm.Envelope
			if env.Subject != tt.subject || FormatAddresses(env.From) != tt.from {
				t.Errorf("Subject, From = %q, %q; want %q, %q", env.Subject, FormatAddresses(env.From), tt.subject, tt.from)
			}
			if !strings.Contains(pm.BodyText, tt.body) || len(env.References) != tt.refs || pm.HasAttachment != tt.attachment {
				t.Errorf("BodyText = %q, References = %q, HasAttachment = %v", pm.BodyText, env.References, pm.HasAttachment)
			}
			if env.MessageID == "" || env.Date.IsZero() || pm.Preview == "" {
				t.Errorf("MessageID = %q, Date = %v, Preview = %q", env.MessageID, env.Date, pm.Preview)
			}
		})
	}
}

// mimeTestAddSeeds seeds f with the samples and a few broken messages.
func mimeTestAddSeeds(f *testing.F) {
	for _, b := range mimeTestSamples(f) {
		f.Add(b)
	}
	f.Add([]byte(""))
	f.Add([]byte(mimeTestNested(60, "deep")))
	f.Add([]byte(mimeTestMsg("Content-Type: multipart/mixed", "", "--x", "", "a", "--x--")))
	f.Add([]byte(mimeTestMsg("Content-Type: text/plain; charset=x-nonsense", "Content-Transfer-Encoding: quoted-printable", "", "a=\x00=4")))
	f.Add([]byte(mimeTestRich()))
}

func FuzzParseMessage(f *testing.F) {
	mimeTestAddSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		pm, err := Parse(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		mimeTestCheckParsed(t, pm, int64(len(in)))
		for _, p := range pm.Problems {
			if !utf8.ValidString(p) {
				t.Errorf("problem %q is not valid UTF-8", p)
			}
		}
	})
}

func FuzzRenderMessage(f *testing.F) {
	mimeTestAddSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := Render(bytes.NewReader(in))
		if err != nil || r == nil {
			t.Fatalf("Render: %v, %v", r, err)
		}
		if !utf8.ValidString(r.Text) {
			t.Errorf("Text is not valid UTF-8")
		}
		for _, h := range r.Headers {
			if !utf8.ValidString(h.Value) || strings.ContainsAny(h.Value, "\r\n\x1b") {
				t.Errorf("header %s = %q", h.Key, h.Value)
			}
		}
		seen := map[string]bool{}
		for _, a := range r.Attachments {
			if seen[a.Part] {
				t.Errorf("part %s listed twice", a.Part)
			}
			seen[a.Part] = true
			n, _ := SavePart(bytes.NewReader(in), a.Part, &bytes.Buffer{})
			if n != a.Size {
				t.Errorf("part %s: SavePart wrote %d bytes, Size is %d", a.Part, n, a.Size)
			}
		}
	})
}

// sanitizeRef is mimeSanitize as first written, rune by rune: the
// reference the faster one must agree with.
func sanitizeRef(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteRune(utf8.RuneError)
		case r == '\r':
			if !strings.HasPrefix(s[i+1:], "\n") {
				b.WriteByte('\n')
			}
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FuzzSanitize: mimeSanitize (and mimeSanitizeInPlace on valid UTF-8) agrees with the rune-by-rune reference on
// any bytes (bad UTF-8, CR alone and in CRLF, C0 and C1 controls, ESC).
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "plain", "a\r\nb\rc\n", "\x1b[31mred\x00", "caf\xe9 \xff\xfe", "日本語\u0085\u009b", "\uFFFD ok", "tab\there", "\r", "x\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := mimeSanitize(s), sanitizeRef(s); got != want {
			t.Fatalf("mimeSanitize(%q) = %q, want %q", s, got, want)
		}
		if utf8.ValidString(s) {
			if got, want := string(mimeSanitizeInPlace([]byte(s))), sanitizeRef(s); got != want {
				t.Fatalf("mimeSanitizeInPlace(%q) = %q, want %q", s, got, want)
			}
		}
	})
}

// FuzzDateLayout: where mimeDateLayout claims a value and time.Parse with
// its layout succeeds, net/mail.ParseDate gives exactly the same time.
func FuzzDateLayout(f *testing.F) {
	for _, s := range []string{"Mon, 2 Jan 2006 15:04:05 -0700", "Tue, 21 Oct 2025 09:05:00 +0200", "3 Mar 2025 23:59:60 +0000",
		"Thu, 31 Feb 2025 10:00:00 -0000", "Sun, 09 Nov 2025 01:02:03 +1400", "xyz, 1 Foo 2025 10:00:00 +0100", "1 Jan 0000 00:00:00 -2359"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		layout, ok := mimeDateLayout(s)
		if !ok {
			return
		}
		got, err := time.Parse(layout, s)
		if err != nil {
			return // mimeParseDate goes on to net/mail
		}
		want, werr := mail.ParseDate(s)
		if werr != nil {
			t.Fatalf("%q: time.Parse(%q) = %v, mail.ParseDate error %v", s, layout, got, werr)
		}
		if !got.Equal(want) || got.Location().String() != want.Location().String() || got.String() != want.String() {
			t.Fatalf("%q: %v, mail.ParseDate %v", s, got, want)
		}
	})
}

// qpRef is the byte-at-a-time quoted-printable reader that mimeQPReader
// replaced; FuzzQuotedPrintable holds the faster one to it.
type qpRef struct{ q mimeQPReader }

func (r *qpRef) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := r.q.br.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if c == '=' {
			if la, _ := r.q.br.Peek(2); len(la) == 2 && mimeIsHex(la[0]) && mimeIsHex(la[1]) {
				c = mimeUnhex(la[0])<<4 | mimeUnhex(la[1])
				_, _ = r.q.br.Discard(2)
			} else if r.q.softBreak() {
				continue
			}
		}
		p[n] = c
		n++
	}
	return n, nil
}

// FuzzQuotedPrintable: mimeQPReader decodes as the byte-at-a-time reader
// did, through small bufio buffers and small reads.
func FuzzQuotedPrintable(f *testing.F) {
	for _, s := range []string{"", "a=3Db", "soft=\r\nbreak", "soft= \t\nx", "bad=zz=4", "=", "end=", "=\r", "caf=C3=A9\r\n"} {
		f.Add(s, uint8(16), uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, bufSize, readSize uint8) {
		size := 16 + int(bufSize)
		chunk := 1 + int(readSize)%64
		read := func(r io.Reader) string {
			var out []byte
			p := make([]byte, chunk)
			for {
				n, err := r.Read(p)
				out = append(out, p[:n]...)
				if err != nil {
					return string(out)
				}
			}
		}
		got := read(&mimeQPReader{br: bufio.NewReaderSize(strings.NewReader(s), size)})
		want := read(&qpRef{mimeQPReader{br: bufio.NewReaderSize(strings.NewReader(s), size)}})
		if got != want {
			t.Fatalf("%q: got %q, want %q", s, got, want)
		}
	})
}

// FuzzCharsetDecode: mimeEncoding and mimeDecode give what go-message's
// charset.Reader read to its end gives: the same labels known, the same
// text, an error in the same cases.
func FuzzCharsetDecode(f *testing.F) {
	labels := []string{"iso-8859-1", "windows-1252", "koi8-r", "iso-2022-jp", "shift_jis", "euc-jp", "euc-kr", "gb2312",
		"gbk", "gb18030", "big5", "utf-16", "utf-16le", "utf-16be", "windows-1251", "iso-8859-15", "latin1", "cp1252",
		"ansi_x3.110-1983", "x-utf_8j", "ibm437", "macintosh", "x-nonsense", "", "unicode-1-1-utf-7", "iso-8859-8-i", "tis-620"}
	for i := range labels {
		f.Add(uint8(i), []byte("caf\xe9 \x1b$B$3$s\x1b(B \x82\xa0 \xff\xfe\x00"))
	}
	f.Fuzz(func(t *testing.T, li uint8, raw []byte) {
		label := labels[int(li)%len(labels)]
		rd, rerr := charset.Reader(label, bytes.NewReader(raw))
		enc, err := mimeEncoding(label)
		if (rerr == nil) != (err == nil) {
			t.Fatalf("%s: charset.Reader error %v, mimeEncoding error %v", label, rerr, err)
		}
		if err != nil {
			return
		}
		want, werr := io.ReadAll(rd)
		got, gerr := mimeDecode([]byte("stale"), enc, raw)
		if !bytes.Equal(got, want) || (werr == nil) != (gerr == nil) {
			t.Fatalf("%s %q: got %q, %v; want %q, %v", label, raw, got, gerr, want, werr)
		}
	})
}
