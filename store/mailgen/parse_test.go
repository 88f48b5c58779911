package mailgen

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/htmlindex"
)

// wordDecoder decodes RFC 2047 words in every charset the generator uses.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
	e, err := htmlindex.Get(cs)
	if err != nil {
		return nil, err
	}
	return e.NewDecoder().Reader(r), nil
}}

// encodedWord matches an RFC 2047 encoded-word.
var encodedWord = regexp.MustCompile(`=\?[^?]+\?[bBqQ]\?[^?]*\?=`)

// part is one leaf of a parsed message.
type part struct {
	ctype, charset, cte string
	disposition         string
	filename            string
	text                string // decoded, for text/* parts
}

// parse checks m against net/mail and mime/multipart and returns its
// header and leaves.
func parse(t *testing.T, m Message) (mail.Header, []part) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		t.Fatalf("%s: ReadMessage: %v", m.MessageID, err)
	}
	var parts []part
	walk(t, m.MessageID, textproto.MIMEHeader(msg.Header), msg.Body, 0, &parts)
	return msg.Header, parts
}

// walk appends the leaves of the entity with header h and body to parts,
// decoding transfer encodings and charsets and checking each step.
func walk(t *testing.T, id string, h textproto.MIMEHeader, body io.Reader, depth int, parts *[]part) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("%s: Content-Type %q: %v", id, h.Get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth > 2 || params["boundary"] == "" {
			t.Fatalf("%s: bad multipart %q at depth %d", id, h.Get("Content-Type"), depth)
		}
		r := multipart.NewReader(body, params["boundary"])
		n := 0
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %s part %d: %v", id, mt, n, err)
			}
			walk(t, id, p.Header, p, depth+1, parts)
			n++
		}
		if n < 2 {
			t.Errorf("%s: %s with %d parts", id, mt, n)
		}
		return
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	p := part{ctype: mt, charset: strings.ToLower(params["charset"]),
		cte: strings.ToLower(h.Get("Content-Transfer-Encoding"))}
	if p.cte == "" {
		p.cte = cte7bit
	}
	if p.cte != cte8bit && !isASCII(raw) {
		t.Errorf("%s: 8-bit data in a %s part", id, p.cte)
	}
	var data []byte
	switch p.cte {
	case cteQP:
		data, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
	case cteBase64:
		data, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(raw)))
	default:
		data = raw
	}
	if err != nil {
		t.Fatalf("%s: %s body: %v", id, p.cte, err)
	}
	if cd := h.Get("Content-Disposition"); cd != "" {
		disp, dp, err := mime.ParseMediaType(cd)
		if err != nil {
			t.Fatalf("%s: Content-Disposition %q: %v", id, cd, err)
		}
		p.disposition, p.filename = disp, dp["filename"]
	}
	if strings.HasPrefix(mt, "text/") {
		enc, err := htmlindex.Get(p.charset)
		if err != nil {
			t.Fatalf("%s: charset %q: %v", id, p.charset, err)
		}
		text, err := enc.NewDecoder().Bytes(data)
		if err != nil {
			t.Fatalf("%s: decoding %s: %v", id, p.charset, err)
		}
		p.text = string(text)
	}
	*parts = append(*parts, p)
}

// checkWire checks CRLF line ends and line lengths (RFC 5322 section 2.1.1).
func checkWire(t *testing.T, m Message) {
	t.Helper()
	for i, line := range bytes.Split(m.Raw, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("%s: bare CR or LF in line %d", m.MessageID, i)
		}
		if len(line) > 998 {
			t.Fatalf("%s: line %d is %d bytes long", m.MessageID, i, len(line))
		}
	}
}
