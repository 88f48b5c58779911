package mime

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/charset"
	"github.com/inbucket/html2text"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// mimeUpdateGolden rewrites testdata/parse.golden.json from the current
// Parse: go test ./store/mime -run TestParseGolden -update
var mimeUpdateGolden = flag.Bool("update", false, "rewrite testdata/parse.golden.json")

// mimeGoldenCorpusSize is how many mailgen messages join the testdata
// samples in the golden test and BenchmarkParseCorpus.
const mimeGoldenCorpusSize = 300

// mimeTestCorpusMsg is one message of the golden/benchmark mix.
type mimeTestCorpusMsg struct {
	name string
	raw  []byte
}

// mimeTestCorpus returns the testdata samples (sorted by name) and the
// first mimeGoldenCorpusSize messages of the mailgen corpus of seed 1 (the
// corpus bench/run.sh syncs): 60% text/plain, 30% multipart/alternative
// plain + HTML, 5% with base64 attachments, the rest HTML only, in several
// charsets and transfer encodings.
func mimeTestCorpus(t testing.TB) []mimeTestCorpusMsg {
	t.Helper()
	samples := mimeTestSamples(t)
	var out []mimeTestCorpusMsg
	for name, raw := range samples {
		out = append(out, mimeTestCorpusMsg{name: name, raw: raw})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	for i, raw := range mimeTestAltCases() {
		out = append(out, mimeTestCorpusMsg{name: "alt-case-" + strconv.Itoa(i), raw: []byte(raw)})
	}
	g := mailgen.New(mailgen.Options{Seed: 1, Count: mimeGoldenCorpusSize})
	for {
		m, ok := g.Next()
		if !ok {
			break
		}
		out = append(out, mimeTestCorpusMsg{name: "mailgen:" + m.MessageID, raw: m.Raw})
	}
	return out
}

// mimeTestAltCases are multipart/alternative shapes whose later branches
// are or are not shown, some with problems in the branch that is not.
func mimeTestAltCases() []string {
	hdr := "From: a@example.com\r\nSubject: alt\r\nMIME-Version: 1.0\r\n"
	plain := "Content-Type: text/plain; charset=utf-8\r\n\r\nplain text body\r\n"
	htmlBad := "Content-Type: text/html; charset=x-nonsense\r\nContent-Transfer-Encoding: x-weird\r\n\r\n<p>html \xe9 body</p>\r\n"
	html := "Content-Type: text/html; charset=utf-8\r\n\r\n<p>html <b>body</b></p>\r\n"
	alt := func(b string, parts ...string) string {
		s := "Content-Type: multipart/alternative; boundary=\"" + b + "\"\r\n\r\n"
		for _, p := range parts {
			s += "--" + b + "\r\n" + p
		}
		return s + "--" + b + "--\r\n"
	}
	mixed := func(b string, parts ...string) string {
		return strings.Replace(alt(b, parts...), "multipart/alternative", "multipart/mixed", 1)
	}
	return []string{
		hdr + alt("a", plain, htmlBad),                       // the HTML is never shown
		hdr + alt("a", htmlBad, plain),                       // HTML first: read, then dropped
		hdr + alt("a", html, htmlBad),                        // no plain: the last branch
		hdr + alt("a", plain, mixed("m", htmlBad, plain)),    // a whole later branch unseen
		hdr + mixed("m", alt("a", plain, htmlBad), htmlBad),  // the second HTML is outside
		hdr + alt("a", alt("b", plain, htmlBad), htmlBad),    // nested alternatives
		hdr + alt("a", alt("b", htmlBad, html), plain, html), // plain only in a later branch
	}
}

// mimeGolden is what Parse returned for one message; BodyText is kept as
// its length and SHA-256 so the file stays small.
type mimeGolden struct {
	Name          string
	Subject       string
	From          []Address
	Sender        []Address
	ReplyTo       []Address
	To            []Address
	Cc            []Address
	Bcc           []Address
	Date          string
	MessageID     string
	InReplyTo     []string
	References    []string
	HasAttachment bool
	Size          int64
	Preview       string
	BodyLen       int
	BodySHA256    string
	Problems      []string
}

func mimeGoldenOf(name string, pm *Parsed) mimeGolden {
	sum := sha256.Sum256([]byte(pm.BodyText))
	e := pm.Envelope
	return mimeGolden{
		Name: name, Subject: e.Subject, From: e.From, Sender: e.Sender, ReplyTo: e.ReplyTo,
		To: e.To, Cc: e.Cc, Bcc: e.Bcc, Date: e.Date.Format(time.RFC3339Nano), MessageID: e.MessageID,
		InReplyTo: e.InReplyTo, References: e.References, HasAttachment: pm.HasAttachment, Size: pm.Size,
		Preview: pm.Preview, BodyLen: len(pm.BodyText), BodySHA256: hex.EncodeToString(sum[:]), Problems: pm.Problems,
	}
}

// TestParseGolden holds Parse to the outputs recorded in
// testdata/parse.golden.json for the testdata samples and the mailgen mix,
// so that speed work cannot change what is indexed.
func TestParseGolden(t *testing.T) {
	var got []mimeGolden
	for _, m := range mimeTestCorpus(t) {
		pm, err := Parse(bytes.NewReader(m.raw))
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		got = append(got, mimeGoldenOf(m.name, pm))
	}
	path := filepath.Join("testdata", "parse.golden.json")
	if *mimeUpdateGolden {
		var b bytes.Buffer // one message per line, for readable diffs
		for i, g := range got {
			line, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(map[bool]string{true: "[\n", false: ",\n"}[i == 0])
			b.Write(line)
		}
		b.WriteString("\n]\n")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var want []mimeGolden
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("golden has %d messages, the corpus %d", len(want), len(got))
	}
	for i := range got {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if !bytes.Equal(g, w) {
			t.Errorf("%s differs:\n got %s\nwant %s", got[i].Name, g, w)
		}
	}
}

// BenchmarkParseCorpus parses the golden mix (testdata samples and 300
// mailgen messages) once per op.
func BenchmarkParseCorpus(b *testing.B) {
	corpus := mimeTestCorpus(b)
	var total int64
	for _, m := range corpus {
		total += int64(len(m.raw))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, m := range corpus {
			if _, err := Parse(bytes.NewReader(m.raw)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(corpus)), "ns/msg")
}

// TestWindows1252Table: the table decoder used for text that breaks its
// declared charset gives what go-message's charset.Reader gave, on every
// byte.
func TestWindows1252Table(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	rd, err := charset.Reader("windows-1252", bytes.NewReader(all))
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	if got := mimeAppendWindows1252(nil, all); !bytes.Equal(got, want) {
		t.Errorf("mimeAppendWindows1252 = %q\nwant %q", got, want)
	}
}

// TestHTMLToTextAsFromString: rendering through html.Parse and
// FromHTMLNode gives what html2text.FromString gave, byte order marks
// included.
func TestHTMLToTextAsFromString(t *testing.T) {
	for _, in := range []string{"", "<p>a <b>b</b></p>", "\uFEFF<p>bom</p>", "\uFEFF\uFEFF<p>two</p>", "\uFEFF\uFEFF\uFEFF<p>three</p>",
		`<a href="http://example.com/x">link</a> and <img src="i.png" alt="pic">`, "<table><tr><td>1</td><td>2</td></tr></table>", "<ul><li>x<li>y</ul>"} {
		for _, links := range []bool{false, true} {
			var pr mimeProblems
			got := mimeHTMLToText(in, links, &pr, "")
			want, err := html2text.FromString(mimeFlattenHTML(in), html2text.Options{OmitLinks: !links, TextOnly: !links})
			if err != nil {
				t.Fatal(err)
			}
			if want = mimeSanitize(want); got != want {
				t.Errorf("mimeHTMLToText(%q, %v) = %q, want %q", in, links, got, want)
			}
		}
	}
}

// TestMimeKeyNoAlloc: a common field name costs no allocation, any other
// is returned as it is.
func TestMimeKeyNoAlloc(t *testing.T) {
	k := []byte("Content-Type")
	if n := testing.AllocsPerRun(100, func() { _ = mimeKey(k) }); n != 0 {
		t.Errorf("mimeKey(%q) allocates %v times", k, n)
	}
	if got := mimeKey([]byte("X-Odd")); got != "X-Odd" {
		t.Errorf("mimeKey(X-Odd) = %q", got)
	}
}

// TestMimeIndexField: the fields Parse keeps, in any case, and no others.
func TestMimeIndexField(t *testing.T) {
	for k, want := range map[string]bool{"Subject": true, "subject": true, "CONTENT-TYPE": true, "Message-ID": true,
		"Received": false, "X-Subject": false, "": false, "Content-Typ": false} {
		if got := mimeIndexField([]byte(k)); got != want {
			t.Errorf("mimeIndexField(%q) = %v", k, got)
		}
	}
	k := []byte("Received")
	if n := testing.AllocsPerRun(100, func() { _ = mimeIndexField(k) }); n != 0 {
		t.Errorf("mimeIndexField allocates %v times", n)
	}
}

// TestParseConcurrent: Parses sharing the scratch pool from several
// goroutines give what one at a time gives, and no result changes after
// its Parse returned (a string aliasing a pooled buffer would).
func TestParseConcurrent(t *testing.T) {
	corpus := mimeTestCorpus(t)
	want := make([]mimeGolden, len(corpus))
	for i, m := range corpus {
		pm, _ := Parse(bytes.NewReader(m.raw))
		want[i] = mimeGoldenOf(m.name, pm)
	}
	const workers = 4
	got := make([][]*Parsed, workers)
	done := make(chan int)
	for w := range workers {
		go func() {
			for i := range corpus {
				m := corpus[(i+w*37)%len(corpus)]
				pm, _ := Parse(bytes.NewReader(m.raw))
				got[w] = append(got[w], pm)
			}
			done <- w
		}()
	}
	for range workers {
		<-done
	}
	for w := range workers {
		for i, pm := range got[w] {
			j := (i + w*37) % len(corpus)
			if g := mimeGoldenOf(corpus[j].name, pm); !reflect.DeepEqual(g, want[j]) {
				t.Errorf("worker %d, %s: %+v, want %+v", w, corpus[j].name, g, want[j])
			}
		}
	}
}
