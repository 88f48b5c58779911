package imapd

// BODY[section] and BINARY[section] (RFC 9051 section 6.4.5, RFC 3516),
// streamed from the message file: the part is found on the message's
// mime.Structure, whose parts know where their header and body lie in
// the file. go-imap's ExtractBodySection, ExtractBinarySection and
// ExtractBinarySectionSize read the section into memory (three times the
// size of an attachment) and opened a reader per level of the part path
// (8 MB for a path 5,000 levels deep). Here a body is copied from the
// file in place, a BINARY body is decoded twice (once to count, once to
// send), and only a header is ever held in memory. The answers are those
// of go-imap for well-formed mail (TestSectionsLikeGoIMAP): the same part
// numbering, header fields written by go-message's textproto, decoding by
// go-message.

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"github.com/letterbox-mail/letterbox/store/mime"
)

// findEntity finds the entity a section's part path names, as go-imap's
// findMessagePart does: part 1 of a message that is not multipart is the
// message itself; a message/rfc822 part is opened into its message
// before a number applies to it; a number other than 1 into a part that is
// not multipart names nothing. It returns nil when the message has no such
// part, also past the depth the structure describes.
func findEntity(root *mime.Part, path []int) *mime.Part {
	e := root
	if !isMultipart(e) && len(path) > 0 && path[0] == 1 {
		path = path[1:]
	}
	for _, n := range path {
		e = openMessage(e)
		if !isMultipart(e) {
			if n != 1 {
				return nil
			}
			continue
		}
		if n < 1 || n > len(e.Parts) {
			return nil
		}
		e = e.Parts[n-1]
	}
	return e
}

func isMultipart(p *mime.Part) bool { return p.Type == "multipart" && len(p.Parts) > 0 }

// openMessage returns the message a message/rfc822 part holds, or p.
func openMessage(p *mime.Part) *mime.Part {
	if p.Message != nil {
		return p.Message
	}
	return p
}

// section is what a BODY or BINARY item sends: header bytes followed by
// the body, a part of the file or a decoded stream.
type section struct {
	header []byte
	body   func() (io.Reader, error) // nil: no body
	size   int64                     // of the body
}

// bodySection resolves BODY[section] on the structure (go-imap's
// ExtractBodySection). ok is false when the answer is empty.
func bodySection(f *os.File, st *mime.Structure, bs *imap.FetchItemBodySection) (sec section, ok bool) {
	e := findEntity(st.Body, bs.Part)
	if e == nil {
		return section{}, false
	}
	if len(bs.Part) > 0 && (bs.Specifier == imap.PartSpecifierHeader || bs.Specifier == imap.PartSpecifierText) {
		e = openMessage(e)
	}
	writeHeader := true
	switch bs.Specifier {
	case imap.PartSpecifierNone:
		writeHeader = len(bs.Part) == 0
	case imap.PartSpecifierText:
		writeHeader = false
	}
	if writeHeader {
		h, err := readEntityHeader(f, e)
		if err != nil {
			return section{}, false
		}
		filterHeader(&h, bs)
		var b bytes.Buffer
		if err := textproto.WriteHeader(&b, h); err != nil {
			return section{}, false
		}
		sec.header = b.Bytes()
	}
	if bs.Specifier == imap.PartSpecifierNone || bs.Specifier == imap.PartSpecifierText {
		off, n := e.Offset+e.HeaderLen, e.Size
		sec.size = n
		sec.body = func() (io.Reader, error) { return io.NewSectionReader(f, off, n), nil }
	}
	return sec, true
}

// filterHeader keeps or drops the fields HEADER.FIELDS and
// HEADER.FIELDS.NOT name, as ExtractBodySection does.
func filterHeader(h *textproto.Header, bs *imap.FetchItemBodySection) {
	if len(bs.HeaderFields) > 0 {
		keep := make(map[string]struct{})
		for _, k := range bs.HeaderFields {
			keep[strings.ToLower(k)] = struct{}{}
		}
		for field := h.Fields(); field.Next(); {
			if _, ok := keep[strings.ToLower(field.Key())]; !ok {
				field.Del()
			}
		}
	}
	for _, k := range bs.HeaderFieldsNot {
		h.Del(k)
	}
}

// binarySection resolves BINARY[section] (go-imap's ExtractBinarySection):
// the body with its Content-Transfer-Encoding undone, as go-message's
// Entity decodes it, after the header when the section is the whole
// message. The decoded size is counted by decoding once; an encoding or
// charset go-message does not know, or a body that does not decode, is
// an empty answer.
func binarySection(f *os.File, st *mime.Structure, part []int) (sec section, ok bool) {
	e := findEntity(st.Body, part)
	if e == nil {
		return section{}, false
	}
	h, err := readEntityHeader(f, e)
	if err != nil {
		return section{}, false
	}
	decoded := func() (io.Reader, error) {
		ent, err := gomessage.New(gomessage.Header{Header: h}, io.NewSectionReader(f, e.Offset+e.HeaderLen, e.Size))
		if err != nil {
			return nil, err
		}
		return ent.Body, nil
	}
	body, err := decoded()
	if err != nil {
		return section{}, false
	}
	n, err := io.Copy(io.Discard, body)
	if err != nil {
		return section{}, false
	}
	if len(part) == 0 {
		var b bytes.Buffer
		if err := textproto.WriteHeader(&b, h); err != nil {
			return section{}, false
		}
		sec.header = b.Bytes()
	}
	sec.body, sec.size = decoded, n
	return sec, true
}

// readEntityHeader parses the header of an entity from the file, as
// go-message reads it (header fields keep their raw bytes).
func readEntityHeader(f *os.File, e *mime.Part) (textproto.Header, error) {
	return textproto.ReadHeader(bufio.NewReader(io.NewSectionReader(f, e.Offset, e.HeaderLen)))
}

// length is the section's length after partial (RFC 9051 section 6.4.5:
// an origin past the end gives an empty string).
func (sec section) length(partial *imap.SectionPartial) int64 {
	start, end := sec.bounds(partial)
	return end - start
}

func (sec section) bounds(partial *imap.SectionPartial) (start, end int64) {
	total := int64(len(sec.header)) + sec.size
	if partial == nil {
		return 0, total
	}
	if partial.Offset > total {
		return 0, 0
	}
	return partial.Offset, min(partial.Offset+partial.Size, total)
}

// writeTo writes the section, cut by partial, to w and closes w.
func (sec section) writeTo(w io.WriteCloser, partial *imap.SectionPartial) error {
	err := sec.copy(w, partial)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

func (sec section) copy(w io.Writer, partial *imap.SectionPartial) error {
	start, end := sec.bounds(partial)
	hl := int64(len(sec.header))
	if start < hl {
		if _, err := w.Write(sec.header[start:min(end, hl)]); err != nil {
			return err
		}
	}
	if end <= hl || sec.body == nil {
		return nil
	}
	r, err := sec.body()
	if err != nil {
		return err
	}
	skip := max(start-hl, 0)
	if _, err := io.CopyN(io.Discard, r, skip); err != nil {
		return err
	}
	_, err = io.CopyN(w, r, end-hl-skip)
	return err
}

// writeBodySectionOf writes BODY[section] of a message.
func writeBodySectionOf(rw *imapserver.FetchResponseWriter, f *os.File, st *mime.Structure, bs *imap.FetchItemBodySection) error {
	sec, _ := bodySection(f, st, bs)
	return sec.writeTo(rw.WriteBodySection(bs, sec.length(bs.Partial)), bs.Partial)
}

// writeBinarySectionOf writes BINARY[section] of a message.
func writeBinarySectionOf(rw *imapserver.FetchResponseWriter, f *os.File, st *mime.Structure, bs *imap.FetchItemBinarySection) error {
	sec, _ := binarySection(f, st, bs.Part)
	return sec.writeTo(rw.WriteBinarySection(bs, sec.length(bs.Partial)), bs.Partial)
}

// binarySize is BINARY.SIZE[section] of a message.
func binarySize(f *os.File, st *mime.Structure, bss *imap.FetchItemBinarySectionSize) uint32 {
	sec, _ := binarySection(f, st, bss.Part)
	return clampUint32(sec.length(nil))
}
