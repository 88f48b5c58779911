package compose

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

// parsed is a built message read back with go-message.
type parsed struct {
	header      gomail.Header
	contentType map[string]string // of the text part, with "" the media type
	text        string            // decoded text, format=flowed undone
	attachments map[string][]byte // by decoded file name
	types       map[string]string // media type by file name
}

func parseBuilt(t *testing.T, raw []byte) *parsed {
	t.Helper()
	if i := bytes.IndexByte(bytes.ReplaceAll(raw, []byte("\r\n"), nil), '\n'); i >= 0 {
		t.Fatalf("bare LF in output near %q", raw[max(i-20, 0):])
	}
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse built message: %v\n%s", err, raw)
	}
	p := &parsed{header: mr.Header, attachments: map[string][]byte{}, types: map[string]string{}}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		body, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		switch h := part.Header.(type) {
		case *gomail.InlineHeader:
			typ, params, _ := h.ContentType()
			params[""] = typ
			p.contentType = params
			p.text = decodeFlowed(string(body), false)
		case *gomail.AttachmentHeader:
			name, err := h.Filename()
			if err != nil {
				t.Fatalf("attachment file name: %v", err)
			}
			typ, _, _ := h.ContentType()
			p.attachments[name] = body
			p.types[name] = typ
		}
	}
	return p
}

func buildString(t *testing.T, d *Draft) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Build(d, &b); err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b.Bytes()
}

func testDraft() *Draft {
	return &Draft{
		From:    Address{Name: "Zoë Ångström", Addr: "zoe@example.org"},
		To:      []Address{{Name: "Ann, Lee", Addr: "ann@example.com"}, {Addr: "bob@example.net"}},
		Cc:      []Address{{Name: "Carl", Addr: "carl@example.com"}},
		Bcc:     []Address{{Name: "Secret", Addr: "hidden@example.com"}},
		Subject: "Grüße — the quarterly report, finally ready for everyone to read and comment",
		Body:    longParagraph + "\n\n> quoted line\n\n-- \nZoë\n",
		Date:    time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("", 3600)),
		Headers: []Field{{"User-Agent", "letterbox"}},
	}
}

func TestBuildHeaders(t *testing.T) {
	d := testDraft()
	raw := buildString(t, d)
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for i, c := range head {
		if c >= 0x80 {
			t.Fatalf("non-ASCII byte in header at %d: %q", i, head)
		}
	}
	for _, l := range strings.Split(string(head), "\r\n") {
		if len(l) > foldWidth {
			t.Errorf("header line of %d characters: %q", len(l), l)
		}
	}
	if bytes.Contains(bytes.ToLower(raw), []byte("bcc")) || bytes.Contains(raw, []byte("hidden@")) {
		t.Errorf("Bcc leaked into output:\n%s", raw)
	}
	p := parseBuilt(t, raw)
	if got, _ := p.header.Subject(); got != d.Subject {
		t.Errorf("Subject = %q, want %q", got, d.Subject)
	}
	from, _ := p.header.AddressList("From")
	if len(from) != 1 || from[0].Name != d.From.Name || from[0].Address != d.From.Addr {
		t.Errorf("From = %v", from)
	}
	to, _ := p.header.AddressList("To")
	if len(to) != 2 || to[0].Name != "Ann, Lee" || to[1].Address != "bob@example.net" {
		t.Errorf("To = %v", to)
	}
	if date, _ := p.header.Date(); !date.Equal(d.Date) {
		t.Errorf("Date = %v, want %v", date, d.Date)
	}
	id, _ := p.header.MessageID()
	if id == "" || id != d.MessageID || !strings.HasSuffix(id, "@example.org") {
		t.Errorf("Message-ID = %q, draft has %q", id, d.MessageID)
	}
	if p.header.Get("MIME-Version") != "1.0" || p.header.Get("User-Agent") != "letterbox" {
		t.Errorf("MIME-Version %q, User-Agent %q", p.header.Get("MIME-Version"), p.header.Get("User-Agent"))
	}
	if p.contentType[""] != "text/plain" || p.contentType["format"] != "flowed" || p.contentType["charset"] != "utf-8" {
		t.Errorf("text content type = %v", p.contentType)
	}
	if want := strings.TrimSuffix(d.Body, "\n"); p.text != want {
		t.Errorf("text =\n%q\nwant\n%q", p.text, want)
	}
	// A second build of the same draft gives the same header.
	again := buildString(t, d)
	if h2, _, _ := bytes.Cut(again, []byte("\r\n\r\n")); !bytes.Equal(h2, head) {
		t.Errorf("second Build changed the header:\n%s\n---\n%s", head, h2)
	}
}

func TestBuildOutboxKeepsBcc(t *testing.T) {
	var b bytes.Buffer
	if err := BuildForOutbox(testDraft(), &b); err != nil {
		t.Fatal(err)
	}
	p := parseBuilt(t, b.Bytes())
	bcc, _ := p.header.AddressList("Bcc")
	if len(bcc) != 1 || bcc[0].Address != "hidden@example.com" {
		t.Errorf("Bcc = %v", bcc)
	}
}

func TestBuildTransferEncoding(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "ascii", body: "plain words\n", want: "7bit"},
		{name: "non-ascii", body: "naïve café\n", want: "quoted-printable"},
		{name: "very long word", body: strings.Repeat("z", 1200), want: "quoted-printable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Draft{From: Address{Addr: "a@x.org"}, To: []Address{{Addr: "b@y.org"}}, Body: tt.body}
			raw := buildString(t, d)
			for _, c := range raw {
				if c >= 0x80 {
					t.Fatalf("8-bit byte in output:\n%s", raw)
				}
			}
			for _, l := range strings.Split(string(raw), "\r\n") {
				if len(l) > maxLineOctets {
					t.Fatalf("line of %d octets", len(l))
				}
			}
			p := parseBuilt(t, raw)
			if got := p.header.Get("Content-Transfer-Encoding"); got != tt.want {
				t.Errorf("Content-Transfer-Encoding = %q, want %q", got, tt.want)
			}
			if want := strings.TrimSuffix(tt.body, "\n"); p.text != want {
				t.Errorf("text = %q, want %q", p.text, want)
			}
		})
	}
}

func TestBuildAttachments(t *testing.T) {
	dir := t.TempDir()
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 1, 2, 0xff, '\r', '\n'}, 300)...)
	path := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	longName := strings.Repeat("Übersicht über alle Quartale ", 4) + ".txt"
	d := &Draft{
		From: Address{Addr: "a@x.org"},
		To:   []Address{{Addr: "b@y.org"}},
		Body: "see attached",
		Attachments: []Attachment{
			{Path: path},
			{Name: "résumé “final”.docx", Data: []byte("docx bytes")},
			{Name: "no-extension", Data: png},
			{Name: longName, Data: []byte("long\n")},
			{Name: "typed.bin", ContentType: "text/csv; charset=iso-8859-1", Data: []byte("a;b\n")},
		},
	}
	p := parseBuilt(t, buildString(t, d))
	if p.text != "see attached" {
		t.Errorf("text = %q", p.text)
	}
	tests := []struct {
		name, typ string
		data      []byte
	}{
		{"report.pdf", "application/pdf", pdf},
		{"résumé “final”.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", []byte("docx bytes")},
		{"no-extension", "image/png", png},
		{longName, "text/plain", []byte("long\n")},
		{"typed.bin", "text/csv", []byte("a;b\n")},
	}
	for _, tt := range tests {
		got, ok := p.attachments[tt.name]
		if !ok {
			t.Errorf("attachment %q missing; have %v", tt.name, keys(p.attachments))
			continue
		}
		if !bytes.Equal(got, tt.data) {
			t.Errorf("attachment %q: %d bytes differ from the %d sent", tt.name, len(got), len(tt.data))
		}
		if p.types[tt.name] != tt.typ && !(tt.name == "résumé “final”.docx" && p.types[tt.name] != "") {
			t.Errorf("attachment %q type = %q, want %q", tt.name, p.types[tt.name], tt.typ)
		}
	}
	if got := asciiFallback("résumé “final”.docx"); got != "resume __final__.docx" && got != "resume _final_.docx" {
		t.Errorf("asciiFallback = %q", got)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *Draft)
		want   error
	}{
		{"subject CRLF", func(d *Draft) { d.Subject = "hi\r\nBcc: victim@x.org" }, ErrHeaderInjection},
		{"subject LF", func(d *Draft) { d.Subject = "hi\nX: y" }, ErrHeaderInjection},
		{"to name CR", func(d *Draft) { d.To[0].Name = "Ann\rX: y" }, ErrHeaderInjection},
		{"bcc addr LF", func(d *Draft) { d.Bcc = []Address{{Addr: "a@x.org\nTo: b@y.org"}} }, ErrHeaderInjection},
		{"from name NUL", func(d *Draft) { d.From.Name = "A\x00" }, ErrHeaderInjection},
		{"in-reply-to", func(d *Draft) { d.InReplyTo = "a@b>\r\nX: y" }, ErrHeaderInjection},
		{"references", func(d *Draft) { d.References = []string{"ok@x", "b@x\nX: y"} }, ErrHeaderInjection},
		{"message-id", func(d *Draft) { d.MessageID = "a@b\r\n" }, ErrHeaderInjection},
		{"extra value", func(d *Draft) { d.Headers = []Field{{"X-A", "v\r\nBcc: x@y.org"}} }, ErrHeaderInjection},
		{"extra key", func(d *Draft) { d.Headers = []Field{{"X-A\r\nBcc", "v"}} }, ErrHeaderInjection},
		{"attachment name", func(d *Draft) { d.Attachments = []Attachment{{Name: "a\r\n.txt", Data: []byte("x")}} }, ErrHeaderInjection},
		{"attachment type", func(d *Draft) {
			d.Attachments = []Attachment{{Name: "a", ContentType: "text/plain\r\nX: y", Data: []byte("x")}}
		}, ErrHeaderInjection},
		{"reserved header", func(d *Draft) { d.Headers = []Field{{"Bcc", "x@y.org"}} }, ErrInvalidDraft},
		{"no from", func(d *Draft) { d.From = Address{} }, ErrInvalidDraft},
		{"bad to", func(d *Draft) { d.To = []Address{{Addr: "nobody"}} }, ErrInvalidAddress},
		{"bad message id", func(d *Draft) { d.MessageID = "no-at-sign" }, ErrInvalidDraft},
		{"attachment without content", func(d *Draft) { d.Attachments = []Attachment{{Name: "a"}} }, ErrInvalidDraft},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDraft()
			tt.change(d)
			var b bytes.Buffer
			err := Build(d, &b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Build error = %v, want %v", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("Build wrote %d bytes before refusing", b.Len())
			}
		})
	}
}
