package mime

// The MIME structure of a message as IMAP describes it in BODYSTRUCTURE
// (RFC 9051 section 7.5.2, RFC 3501 section 7.4.2), read in one streaming
// pass with the limits of this package.

import (
	"bytes"
	"io"
	"strings"
)

// Structure is the MIME structure of a message and the envelope of its
// header: what IMAP's FETCH BODYSTRUCTURE, BODY and ENVELOPE report.
type Structure struct {
	Envelope Envelope
	Body     *Part
}

// Part is one entity of a message's MIME tree (RFC 2045, RFC 2046): the
// message itself, a part of a multipart, or the message enclosed in a
// message/rfc822 part. Header values are as written, unfolded; Type,
// Subtype, Encoding, Disposition and parameter names are lower case;
// parameter values are decoded (RFC 2231, and the RFC 2047 words some
// mailers put in file names).
type Part struct {
	Type, Subtype string
	// Params are the Content-Type parameters (charset, boundary, name...).
	Params      map[string]string
	ID          string // Content-ID
	Description string // Content-Description
	// Encoding is the Content-Transfer-Encoding; "" means 7bit.
	Encoding string
	// MD5 is the Content-MD5 (RFC 1864).
	MD5               string
	Disposition       string // Content-Disposition: "inline", "attachment"
	DispositionParams map[string]string
	Language          []string // Content-Language
	Location          string   // Content-Location (RFC 2557)

	// Offset is where the entity starts in the message, HeaderLen the
	// length of its header including the blank line, Size the length of
	// its body as stored (transfer-encoded); the body is the bytes
	// [Offset+HeaderLen, Offset+HeaderLen+Size) of the message. A part of
	// a multipart ends before the line break that precedes the next
	// delimiter (RFC 2046 section 5.1.1).
	Offset, HeaderLen, Size int64
	// Lines counts the line feeds of the body.
	Lines int64

	// Parts are the parts of a multipart entity, at least one.
	Parts []*Part
	// Envelope and Message describe the message enclosed in a
	// message/rfc822 or message/global part: its envelope and the entity
	// itself (whose header is the enclosed message's header).
	Envelope *Envelope
	Message  *Part
}

// Limits of ParseStructure. A multipart or message/rfc822 entity at depth
// MaxNesting (the message is at depth 0, each multipart or enclosed
// message adds one) is not descended into: it is reported as an opaque
// application/octet-stream part with its size. So is any part past the
// first maxStructureParts entities: a multipart lists the parts read
// until then.
const maxStructureParts = mimeMaxParts

// ParseStructure reads a raw message from r to its end and returns its
// MIME structure and envelope. It streams like Parse: whatever the size or
// the shape of the message, it holds one 4 KiB buffer per nesting level
// (at most MaxNesting of them), the headers being read and the structure
// itself (at most maxStructureParts entities), and reads every byte once.
// It never fails on content: a malformed entity is described as well as
// it can be (an invalid Content-Type is text/plain, RFC 2045 section 5.2;
// a multipart without parts is read as text, as Parse reads it). The
// error is non-nil only when reading r fails; the *Structure is never nil.
func ParseStructure(r io.Reader) (*Structure, error) {
	w := &structWalker{s: mimeGetScratch()}
	defer mimePutScratch(w.s)
	cr := &mimeCounter{r: r}
	body, h := w.entity(cr, 0, 0, "")
	_, _ = io.Copy(io.Discard, cr)
	return &Structure{Envelope: mimeEnvelope(h, &w.pr), Body: body}, cr.ioErr()
}

// structWalker builds the tree of Parts. Problems are collected only
// because the shared header and multipart readers report them.
type structWalker struct {
	pr    mimeProblems
	parts int
	s     *mimeScratch // its bufio.Readers
}

// entity reads one entity from r, which ends where the entity ends, and
// describes it; offset is where it starts in the message. It also returns
// the entity's header, for the envelope of an enclosed message.
func (w *structWalker) entity(r io.Reader, offset int64, depth int, parent string) (*Part, mimeHeader) {
	w.parts++
	cnt := &lineCounter{r: r}
	br := w.s.reader(cnt)
	defer w.s.release(br)
	h := mimeReadHeader(br, &w.pr, "")
	buffered, _ := br.Peek(br.Buffered())
	headerLen := cnt.n - int64(len(buffered))
	headerLines := cnt.lines - int64(bytes.Count(buffered, []byte("\n")))

	mp := newMimePart(h, nil, parent, &w.pr)
	p := newStructPart(h, mp)
	p.Offset, p.HeaderLen = offset, headerLen
	bodyStart := offset + headerLen
	container := strings.HasPrefix(mp.mediaType, "multipart/") || isMessageType(mp.mediaType)
	switch {
	case container && (depth >= MaxNesting || w.parts >= maxStructureParts):
		p.Type, p.Subtype, p.Params = "application", "octet-stream", nil
	case strings.HasPrefix(mp.mediaType, "multipart/"):
		if mr := mimeOpenMultipart(mp, br, &w.pr); mr != nil {
			for w.parts < maxStructureParts && mr.next() {
				child, _ := w.entity(mr, bodyStart+mr.pos, depth+1, mp.mediaType)
				p.Parts = append(p.Parts, child)
			}
		}
		if len(p.Parts) == 0 {
			// No boundary, or no part: read as text, as Parse does.
			p.Type, p.Subtype, p.Params = "text", "plain", nil
		}
	case isMessageType(mp.mediaType):
		inner, ih := w.entity(br, bodyStart, depth+1, "")
		env := mimeEnvelope(ih, &w.pr)
		p.Message, p.Envelope = inner, &env
	}
	_, _ = io.Copy(io.Discard, br)
	p.Size, p.Lines = cnt.n-headerLen, cnt.lines-headerLines
	return p, h
}

// newStructPart fills in the header fields of a Part; mp holds the parsed
// Content-Type, Content-Disposition and Content-Transfer-Encoding.
func newStructPart(h mimeHeader, mp *mimePart) *Part {
	p := &Part{
		ID:          h.get("Content-Id"),
		Description: h.get("Content-Description"),
		Encoding:    mp.encoding,
		MD5:         h.get("Content-Md5"),
		Location:    h.get("Content-Location"),
	}
	p.Type, p.Subtype, _ = strings.Cut(mp.mediaType, "/")
	if len(mp.params) > 0 {
		p.Params = mp.params
	}
	if v := h.get("Content-Disposition"); v != "" {
		var ignored mimeProblems
		d, params, _ := mimeParseParams(v, &ignored, "")
		p.Disposition = d
		if len(params) > 0 {
			p.DispositionParams = params
		}
	}
	if v := h.get("Content-Language"); v != "" {
		for _, tag := range strings.Split(v, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				p.Language = append(p.Language, tag)
			}
		}
	}
	return p
}

// isMessageType reports a media type whose body is a message (RFC 2046
// section 5.2.1, RFC 6532 section 3.7).
func isMessageType(t string) bool {
	return t == "message/rfc822" || t == "message/global"
}

// lineCounter counts the bytes and line feeds read through it.
type lineCounter struct {
	r     io.Reader
	n     int64
	lines int64
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.lines += int64(bytes.Count(p[:n], []byte("\n")))
	}
	return n, err
}
