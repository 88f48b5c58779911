package compose

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/unicode/norm"
)

// paramChunk is the longest RFC 2231 value piece written on its own, so
// that the header can be folded between pieces.
const paramChunk = 48

// preparedAttachment is an attachment whose name and type were checked.
type preparedAttachment struct {
	name        string
	contentType string // "" when it is to be sniffed from the content
	path        string
	data        []byte
}

// prepareAttachments checks names and content types before any output.
func prepareAttachments(list []Attachment) ([]preparedAttachment, error) {
	out := make([]preparedAttachment, 0, len(list))
	for i, a := range list {
		p := preparedAttachment{name: a.Name, contentType: a.ContentType, path: a.Path, data: a.Data}
		if p.name == "" && p.path != "" {
			p.name = filepath.Base(p.path)
		}
		if p.name == "" {
			p.name = "attachment"
		}
		if a.Data == nil && a.Path == "" {
			return nil, fmt.Errorf("attachment %d %q: neither Data nor Path: %w", i+1, p.name, ErrInvalidDraft)
		}
		if err := checkHeaderText(p.name); err != nil {
			return nil, fmt.Errorf("attachment %d name: %w", i+1, err)
		}
		if err := checkHeaderText(p.contentType); err != nil {
			return nil, fmt.Errorf("attachment %d content type: %w", i+1, err)
		}
		if p.contentType == "" {
			p.contentType = mime.TypeByExtension(filepath.Ext(p.name))
		}
		if p.contentType != "" {
			if _, _, err := mime.ParseMediaType(p.contentType); err != nil {
				return nil, fmt.Errorf("attachment %d content type %q: %v: %w", i+1, p.contentType, err, ErrInvalidDraft)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// write adds the attachment as a base64 part of mw.
func (a preparedAttachment) write(mw *textproto.MultipartWriter) error {
	var src io.Reader = bytes.NewReader(a.data)
	if a.data == nil {
		f, err := os.Open(a.path)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	br := bufio.NewReaderSize(src, 4096)
	ct := a.contentType
	if ct == "" {
		head, err := br.Peek(512)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return fmt.Errorf("read: %w", err)
		}
		ct = http.DetectContentType(head)
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	delete(params, "name")
	typ := mime.FormatMediaType(mediaType, params)
	if typ == "" {
		return fmt.Errorf("content type %q: %w", ct, ErrInvalidDraft)
	}
	pw, err := mw.CreatePart(makeHeader([]Field{
		{"Content-Type", typ + "; " + nameParam("name", a.name)},
		{"Content-Disposition", "attachment; " + nameParam("filename", a.name)},
		{"Content-Transfer-Encoding", "base64"},
	}))
	if err != nil {
		return err
	}
	return writeEncoded(pw, "base64", br)
}

// nameParam formats a file name parameter: attr="ASCII fallback",
// followed, when the name is not plain ASCII, by its exact UTF-8 form in
// RFC 2231 extended notation, split into continuations so that no piece is
// long (readers that know RFC 2231 prefer the extended form):
//
//	filename="resume.pdf"; filename*=utf-8''r%C3%A9sum%C3%A9.pdf
//	filename="..."; filename*0*=utf-8''...; filename*1*=...
func nameParam(attr, name string) string {
	fallback := asciiFallback(name)
	s := attr + "=" + quoteParam(fallback)
	if fallback == name {
		return s
	}
	enc := percentEncode(name)
	if len(enc) <= paramChunk {
		return s + "; " + attr + "*=utf-8''" + enc
	}
	var pieces []string
	for len(enc) > 0 {
		n := min(paramChunk, len(enc))
		// Do not cut inside a %XX escape.
		if i := strings.LastIndexByte(enc[:n], '%'); i >= 0 && i > n-3 && n < len(enc) {
			n = i
		}
		pieces = append(pieces, enc[:n])
		enc = enc[n:]
	}
	for i, p := range pieces {
		if i == 0 {
			p = "utf-8''" + p
		}
		s += fmt.Sprintf("; %s*%d*=%s", attr, i, p)
	}
	return s
}

// asciiFallback makes a printable ASCII file name from name for readers
// that do not know RFC 2231: accents are dropped ("é" becomes "e"), other
// characters become "_", quotes become "'".
func asciiFallback(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == '"':
			b.WriteByte('\'')
		case r == '\\' || r < ' ' || r > '~':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "attachment"
	}
	return b.String()
}

// quoteParam writes a MIME parameter value as a quoted string.
func quoteParam(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// percentEncode encodes s for an RFC 2231 extended value: attribute
// characters stay, every other octet becomes %XX.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
