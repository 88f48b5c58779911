package mime

// MIME reading shared by Parse (index), Render and
// SavePart (readers). Everything streams: one bufio.Reader of
// mimeBufSize per multipart level, text parts read up to a cap, every other
// body decoded into io.Discard. Content problems never fail a parse; they are
// collected in mimeProblems. Only errors of the caller's reader are returned.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Limits of the MIME reader that are not part of the API.
const (
	mimeBufSize     = 4096     // bufio size per level; longer lines are read in pieces
	mimeMaxField    = 64 << 10 // longest header field kept; the rest is dropped
	mimeMaxHeader   = 1 << 20  // header bytes kept per entity
	mimeMaxParts    = 10000    // leaf parts visited per message
	mimeMaxProblems = 32       // problems listed per message
	mimeMaxBoundary = 200      // longest boundary accepted when guessing one
	mimeEmptyReads  = 100      // empty reads in a row before a reader is declared stuck
	mimeShortValue  = 60       // bytes of a bad value quoted in a problem
	mimeDefaultType = "text/plain"
)

// mimeCounter counts the bytes read from the caller's reader and remembers
// its first error, which is the only error the MIME functions return. It
// also protects bufio from readers that misbehave (negative or oversized
// counts, endless empty reads), so a bad reader cannot cause a panic or a
// hang.
type mimeCounter struct {
	r     io.Reader
	n     int64
	err   error
	empty int
}

func (c *mimeCounter) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if n < 0 || n > len(p) {
		n, err = 0, fmt.Errorf("reader returned invalid count %d", n)
	}
	c.n += int64(n)
	if n == 0 && err == nil && len(p) > 0 {
		if c.empty++; c.empty >= mimeEmptyReads {
			err = io.ErrNoProgress
		}
	} else {
		c.empty = 0
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

// ioErr returns the reader's error, nil for a clean end of input.
func (c *mimeCounter) ioErr() error {
	if errors.Is(c.err, io.EOF) {
		return nil
	}
	return c.err
}

// mimeProblems collects distinct human-readable problems, at most
// mimeMaxProblems of them plus a count of the rest.
type mimeProblems struct {
	items []string
	more  int
}

func (p *mimeProblems) add(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	switch {
	case slices.Contains(p.items, s):
	case len(p.items) >= mimeMaxProblems:
		p.more++
	default:
		p.items = append(p.items, s)
	}
}

func (p *mimeProblems) list() []string {
	out := slices.Clone(p.items)
	if p.more > 0 {
		out = append(out, fmt.Sprintf("%d more problems not listed", p.more))
	}
	return out
}

// mimeShort shortens a bad value for quoting in a problem (%q escapes it).
func mimeShort(s string) string {
	if len(s) > mimeShortValue {
		return mimeTruncate(s, mimeShortValue) + "..."
	}
	return s
}

// mimeAltPos places a part in one branch of a multipart/alternative.
type mimeAltPos struct {
	group  string // mimePathKey of the multipart/alternative
	branch int
}

// mimePart is one leaf entity met by the walker. body is the raw
// (transfer-encoded) body; it is drained by the walker after the visit.
type mimePart struct {
	path      []int
	where     string
	mediaType string
	params    map[string]string
	disp      string
	filename  string
	encoding  string
	body      io.Reader
	alts      []mimeAltPos
}

// section is the part's IMAP section number (RFC 9051 section 6.4.5); the
// body of a non-multipart message is "1".
func (p *mimePart) section() string {
	if len(p.path) == 0 {
		return "1"
	}
	return mimePathKey(p.path)
}

func mimePathKey(path []int) string {
	parts := make([]string, len(path))
	for i, n := range path {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}

// bodyText reports a text/plain or text/html part that is message text rather
// than an attached file.
func (p *mimePart) bodyText() bool {
	if p.mediaType != "text/plain" && p.mediaType != "text/html" {
		return false
	}
	return len(p.path) == 0 || (p.disp != "attachment" && p.filename == "")
}

// attachment applies the rule of Parsed.HasAttachment.
func (p *mimePart) attachment() bool {
	return p.disp == "attachment" || (!strings.HasPrefix(p.mediaType, "text/") && p.filename != "")
}

// decoded returns the body with its Content-Transfer-Encoding undone
// (RFC 2045 section 6); decoding errors surface from Read.
func (p *mimePart) decoded(pr *mimeProblems) io.Reader {
	switch p.encoding {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &mimeBase64Filter{r: p.body})
	case "quoted-printable":
		return &mimeQPReader{br: bufio.NewReaderSize(p.body, mimeBufSize)}
	case "", "7bit", "8bit", "binary":
		return p.body
	}
	pr.add("%sunknown Content-Transfer-Encoding %q; read as is", p.where, mimeShort(p.encoding))
	return p.body
}

// newMimePart reads the MIME fields of h (RFC 2045, RFC 2183).
func newMimePart(h mimeHeader, path []int, parent string, pr *mimeProblems) *mimePart {
	p := &mimePart{path: path, mediaType: mimeDefaultType, params: map[string]string{}}
	if len(path) > 0 {
		p.where = "part " + mimePathKey(path) + ": "
	}
	if parent == "multipart/digest" {
		p.mediaType = "message/rfc822"
	}
	if v := h.get("Content-Type"); v != "" {
		t, params, ok := mimeParseParams(v, pr, p.where)
		if ok {
			p.mediaType, p.params = t, params
		} else {
			pr.add("%sinvalid Content-Type %q; read as %s", p.where, mimeShort(v), p.mediaType)
		}
	}
	if v := h.get("Content-Disposition"); v != "" {
		d, params, _ := mimeParseParams(v, pr, p.where)
		p.disp = d
		p.filename = params["filename"]
	}
	if p.filename == "" {
		p.filename = p.params["name"]
	}
	if i := strings.LastIndexAny(p.filename, `/\`); i >= 0 {
		p.filename = p.filename[i+1:]
	}
	p.filename = mimeSanitizeLine(p.filename)
	p.encoding = strings.ToLower(strings.TrimSpace(h.get("Content-Transfer-Encoding")))
	return p
}

// mimeWalker walks the entity tree of a message depth first, calling visit
// for each leaf part in order. visit returns true to stop the walk.
type mimeWalker struct {
	pr     *mimeProblems
	s      *mimeScratch          // its bufio.Readers
	want   func(key []byte) bool // header fields kept; nil for all
	visit  func(*mimePart) bool
	top    mimeHeader
	leaves int
	full   bool // mimeMaxParts leaves were visited: the walk stops
}

// entity reads one entity (header and body) from r and walks it. It returns
// true when visit asked to stop.
func (w *mimeWalker) entity(r io.Reader, path []int, alts []mimeAltPos, parent string) bool {
	br := w.s.reader(r)
	defer w.s.release(br) // visit does not keep p.body
	where := ""
	if len(path) > 0 {
		where = "part " + mimePathKey(path) + ": "
	}
	h := mimeReadHeaderOf(br, w.pr, where, w.want)
	if len(path) == 0 {
		w.top = h
	}
	p := newMimePart(h, path, parent, w.pr)
	if strings.HasPrefix(p.mediaType, "multipart/") {
		if stop, done := w.multipart(p, br, alts); done {
			return stop
		}
	}
	if w.leaves >= mimeMaxParts {
		w.full = true
		w.pr.add("more than %d parts; the rest are not read", mimeMaxParts)
		return false
	}
	w.leaves++
	p.body, p.alts = br, alts
	stop := w.visit(p)
	if !stop {
		_, _ = io.Copy(io.Discard, br) // read errors are the counter's
	}
	return stop
}

// multipart walks the parts of a multipart entity (RFC 2046 section 5.1).
// done is false when the entity is to be read as a leaf instead.
func (w *mimeWalker) multipart(p *mimePart, br *bufio.Reader, alts []mimeAltPos) (stop, done bool) {
	if len(p.path) >= MaxNesting {
		w.pr.add("%smultipart nested deeper than %d levels; read as text", p.where, MaxNesting)
		p.mediaType = mimeDefaultType
		return false, false
	}
	mr := mimeOpenMultipart(p, br, w.pr)
	if mr == nil {
		return false, false
	}
	n := 0
	for !w.full && mr.next() {
		n++
		childAlts := alts
		if p.mediaType == "multipart/alternative" {
			childAlts = append(slices.Clip(alts), mimeAltPos{group: mimePathKey(p.path), branch: n})
		}
		if w.entity(mr, append(slices.Clip(p.path), n), childAlts, p.mediaType) {
			return true, true
		}
	}
	switch {
	case mr.failed:
		// a read error of the caller's reader; reported by the counter
	case n == 0:
		w.pr.add("%s%s has no parts (boundary %q not found)", p.where, p.mediaType, mimeShort(string(mr.dash[2:])))
	case !mr.final && !w.full:
		w.pr.add("%s%s truncated: closing boundary missing", p.where, p.mediaType)
	}
	_, _ = io.Copy(io.Discard, br) // epilogue
	return false, true
}

// mimeOpenMultipart finds the boundary of the multipart entity p whose
// body br holds, guessing it when it is missing or not in the body, and
// returns the reader of its parts. nil means the entity is to be read as
// text: p.mediaType is then the default type.
func mimeOpenMultipart(p *mimePart, br *bufio.Reader, pr *mimeProblems) *mimeMultipartReader {
	boundary := p.params["boundary"]
	if boundary == "" {
		if boundary = mimeGuessBoundary(br); boundary == "" {
			pr.add("%s%s without boundary; read as text", p.where, p.mediaType)
			p.mediaType = mimeDefaultType
			return nil
		}
		pr.add("%s%s without boundary; guessed %q", p.where, p.mediaType, mimeShort(boundary))
	} else if head, _ := br.Peek(mimeBufSize); len(head) < mimeBufSize && !bytes.Contains(head, []byte("--"+boundary)) {
		// The whole body is in view and the boundary is not in it: a
		// mislabelled boundary, or not multipart at all.
		if guess := mimeGuessBoundary(br); guess != "" {
			pr.add("%s%s boundary %q not found; guessed %q", p.where, p.mediaType, mimeShort(boundary), mimeShort(guess))
			boundary = guess
		} else {
			pr.add("%s%s boundary %q not found; read as text", p.where, p.mediaType, mimeShort(boundary))
			p.mediaType = mimeDefaultType
			return nil
		}
	}
	return &mimeMultipartReader{br: br, dash: []byte("--" + boundary), lineStart: true}
}

// mimeGuessBoundary looks for a "--boundary" line at the start of a
// multipart body whose Content-Type lacks the boundary parameter.
func mimeGuessBoundary(br *bufio.Reader) string {
	head, _ := br.Peek(mimeBufSize)
	for _, line := range bytes.Split(head, []byte("\n")) {
		line = bytes.TrimRight(line, " \t\r")
		if b, ok := bytes.CutPrefix(line, []byte("--")); ok && len(b) > 0 && len(b) <= mimeMaxBoundary {
			return string(b)
		}
	}
	return ""
}

// mimeMultipartReader splits a multipart body into parts (RFC 2046 section
// 5.1.1) and reads the current part. It works on lines of at most the bufio
// size; longer lines are handled in pieces and are never boundaries. The
// line ending before a delimiter belongs to the delimiter, so each line's
// ending is held back until the next line is known not to be one.
type mimeMultipartReader struct {
	br        *bufio.Reader
	dash      []byte // "--" + boundary
	lineStart bool   // the next read starts a line
	inPart    bool   // a part is being read
	ready     bool   // a delimiter was seen: the next part can start
	ended     bool   // no more parts
	final     bool   // the closing delimiter was seen
	failed    bool   // input ended with an error other than EOF
	pos       int64  // bytes consumed from br: where the next line starts
	pending   []byte // line ending held back from the current part
	out       []byte // data of the current part not yet returned
	scratch   []byte
}

// next skips the rest of the current part (or the preamble) and reports
// whether another part follows.
func (m *mimeMultipartReader) next() bool {
	for m.inPart {
		m.out = nil
		m.advance()
	}
	for !m.ended && !m.ready {
		start := m.lineStart
		line, err := m.br.ReadSlice('\n')
		m.pos += int64(len(line))
		m.lineStart = len(line) > 0 && line[len(line)-1] == '\n'
		if !(start && m.delimiter(line)) {
			m.endOnError(err)
		}
	}
	if !m.ready {
		return false
	}
	m.ready, m.inPart, m.pending = false, true, m.pending[:0]
	return true
}

// delimiter reports whether line is a delimiter line; if so the current part
// ends, and another is ready unless it is the closing delimiter.
func (m *mimeMultipartReader) delimiter(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, m.dash)
	if !ok {
		return false
	}
	if bytes.HasPrefix(rest, []byte("--")) {
		m.inPart, m.ended, m.final = false, true, true
		return true
	}
	if len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return false
	}
	m.inPart, m.ready = false, true
	return true
}

func (m *mimeMultipartReader) endOnError(err error) {
	if err == nil || err == bufio.ErrBufferFull {
		return
	}
	m.inPart, m.ready, m.ended, m.failed = false, false, true, !errors.Is(err, io.EOF)
}

// advance moves the next line (or piece) of the current part into m.out, or
// ends the part at a delimiter or the end of input.
func (m *mimeMultipartReader) advance() {
	start := m.lineStart
	line, err := m.br.ReadSlice('\n')
	m.pos += int64(len(line))
	m.lineStart = len(line) > 0 && line[len(line)-1] == '\n'
	if start && m.delimiter(line) {
		return
	}
	body := line
	var nl []byte
	if m.lineStart {
		body, nl = line[:len(line)-1], line[len(line)-1:]
		if len(body) > 0 && body[len(body)-1] == '\r' {
			body, nl = body[:len(body)-1], []byte("\r\n")
		}
	}
	m.scratch = append(append(m.scratch[:0], m.pending...), body...)
	m.pending = append(m.pending[:0], nl...)
	if err != nil && err != bufio.ErrBufferFull {
		m.scratch = append(m.scratch, m.pending...) // input ended inside the part
	}
	m.out = m.scratch
	m.endOnError(err)
}

// Read reads the current part.
func (m *mimeMultipartReader) Read(p []byte) (int, error) {
	for len(m.out) == 0 {
		if !m.inPart {
			return 0, io.EOF
		}
		m.advance()
	}
	n := copy(p, m.out)
	m.out = m.out[n:]
	return n, nil
}

// mimeBase64Filter drops everything but the base64 alphabet, so line
// endings, spaces and stray garbage do not stop decoding.
type mimeBase64Filter struct{ r io.Reader }

func (f *mimeBase64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil || n == 0 {
			return k, err
		}
	}
}

// mimeQPReader decodes quoted-printable (RFC 2045 section 6.7) leniently: an
// "=" that starts neither an escape nor a soft line break is kept as is, and
// lines may be of any length.
type mimeQPReader struct{ br *bufio.Reader }

func (q *mimeQPReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if q.br.Buffered() == 0 {
			if _, err := q.br.Peek(1); err != nil {
				if n > 0 {
					return n, nil
				}
				return 0, err
			}
		}
		// Runs without "=" are copied as they are, straight from the
		// buffer.
		buf, _ := q.br.Peek(q.br.Buffered())
		if i := bytes.IndexByte(buf, '='); i != 0 {
			if i < 0 {
				i = len(buf)
			}
			k := copy(p[n:], buf[:i])
			_, _ = q.br.Discard(k)
			n += k
			continue
		}
		_, _ = q.br.Discard(1)
		c := byte('=')
		if la, _ := q.br.Peek(2); len(la) == 2 && mimeIsHex(la[0]) && mimeIsHex(la[1]) {
			c = mimeUnhex(la[0])<<4 | mimeUnhex(la[1])
			_, _ = q.br.Discard(2)
		} else if q.softBreak() {
			continue
		}
		p[n] = c
		n++
	}
	return n, nil
}

// softBreak consumes optional white space and a line ending (or the end of
// input) after an "=", and reports whether it found them.
func (q *mimeQPReader) softBreak() bool {
	const look = 80
	la, err := q.br.Peek(look)
	i := 0
	for i < len(la) && (la[i] == ' ' || la[i] == '\t') {
		i++
	}
	switch {
	case i == len(la) && err != nil:
	case i < len(la) && la[i] == '\n':
		i++
	case i+1 < len(la) && la[i] == '\r' && la[i+1] == '\n':
		i += 2
	default:
		return false
	}
	_, _ = q.br.Discard(i)
	return true
}

func mimeIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

func mimeUnhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
