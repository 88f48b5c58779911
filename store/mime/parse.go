package mime

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Text limits of the index (Parse).
const (
	mimeIndexHTML   = 2 << 20  // raw HTML read per part
	mimeIndexBudget = 16 << 20 // raw text read per message
)

// Parse reads a raw RFC 5322 message from r to its end and extracts
// what the index needs: the decoded envelope, whether there are attachments,
// a preview and the body text (text/plain parts, or text/html converted to
// text where there is no plain alternative).
//
// Parse streams: whatever the size of the message it holds at most a
// few MiB (the text parts, capped), and attachments are read into nothing.
// It never fails on content: what cannot be parsed is listed in Problems and
// the rest is filled in as well as possible. The error is non-nil only when
// reading r fails; the returned *Parsed is never nil, and its Size
// counts every byte read from r.
func Parse(r io.Reader) (*Parsed, error) {
	lim := mimeTextLimits{plain: MaxIndexedText, html: mimeIndexHTML, budget: mimeIndexBudget, index: true}
	a, err := mimeAnalyze(r, lim, false)
	pm := &Parsed{Size: a.size, HasAttachment: a.hasAttachment}
	pm.Envelope = mimeEnvelope(a.header, &a.pr)
	var parts []string // texts and separators, as they are joined
	n := 0
	for _, t := range mimeChooseTexts(a.texts) {
		if n >= MaxIndexedText {
			break
		}
		s := t.text
		if t.html {
			s = mimeHTMLToText(s, false, &a.pr, t.where)
		}
		if n > 0 {
			parts = append(parts, "\n\n")
			n += 2
		}
		parts = append(parts, s)
		n += len(s)
	}
	pm.BodyText = mimeJoin(parts, n, MaxIndexedText)
	pm.Preview = mimePreview(pm.BodyText, PreviewLen)
	if a.size == 0 && err == nil {
		a.pr.add("empty message")
	}
	pm.Problems = a.pr.list()
	if err != nil {
		return pm, fmt.Errorf("parse message: %w", err)
	}
	return pm, nil
}

// mimeJoin concatenates parts (of n bytes in all) and truncates the result
// like mimeTruncate(joined, max), allocating at most once: a single part is
// returned as it is (copied only when cut, so a long HTML rendering is not
// kept alive by its start), more are copied into one buffer of the final
// size. The parts are valid UTF-8, so each starts a rune.
func mimeJoin(parts []string, n, max int) string {
	switch {
	case len(parts) == 0:
		return ""
	case len(parts) == 1 && n <= max:
		return parts[0]
	case len(parts) == 1:
		return strings.Clone(mimeTruncate(parts[0], max))
	}
	var b strings.Builder
	b.Grow(min(n, max))
	for _, s := range parts {
		if room := max - b.Len(); len(s) > room {
			for room > 0 && !utf8.RuneStart(s[room]) {
				room--
			}
			b.WriteString(s[:room])
			break
		}
		b.WriteString(s)
	}
	return b.String()
}

// mimeTextLimits caps the raw (transfer-decoded) text read from text parts.
type mimeTextLimits struct {
	plain, html int  // per part
	budget      int  // per message
	index       bool // for Parse: hidden text parts not read (hidden), unused header fields not kept (mimeIndexField)
}

// mimeText is the text of one text part, charset-decoded; HTML is still
// HTML.
type mimeText struct {
	where string
	html  bool
	text  string
	alts  []mimeAltPos
}

// mimeAnalysis is what one pass over a message found.
type mimeAnalysis struct {
	header        mimeHeader
	texts         []mimeText
	attachments   []Attachment
	hasAttachment bool
	size          int64
	pr            mimeProblems
	s             *mimeScratch
}

// mimeAnalyze walks the message in r, collecting the text parts within lim
// and the other leaves as attachments (their decoded size counted when
// sizes is set). It reads r to the end. The error is r's.
func mimeAnalyze(r io.Reader, lim mimeTextLimits, sizes bool) (*mimeAnalysis, error) {
	a := &mimeAnalysis{s: mimeGetScratch()}
	defer func() { mimePutScratch(a.s); a.s = nil }()
	cr := &mimeCounter{r: r}
	used := 0
	w := &mimeWalker{pr: &a.pr, s: a.s}
	if lim.index {
		w.want = mimeIndexField // Parse: the other fields are never looked at
	}
	w.visit = func(p *mimePart) bool {
		if p.attachment() {
			a.hasAttachment = true
		}
		if p.bodyText() {
			if !lim.index || !a.hidden(p.alts) {
				a.readText(p, lim, &used)
			}
			return false
		}
		att := Attachment{Part: p.section(), Filename: p.filename, ContentType: p.mediaType, Inline: p.disp == "inline"}
		if sizes {
			n, err := io.Copy(io.Discard, p.decoded(&a.pr))
			if err != nil && cr.ioErr() == nil {
				a.pr.add("%sbody cannot be decoded: %v", p.where, err)
			}
			att.Size = n
		}
		a.attachments = append(a.attachments, att)
		return false
	}
	w.entity(cr, nil, nil, "")
	_, _ = io.Copy(io.Discard, cr) // whatever the walk left, so Size counts it
	a.header, a.size = w.top, cr.n
	return a, cr.ioErr()
}

// readText reads and decodes one text part within the limits, through the
// scratch buffers: the only copy kept is the final string.
func (a *mimeAnalysis) readText(p *mimePart, lim mimeTextLimits, used *int) {
	limit := lim.plain
	if p.mediaType == "text/html" {
		limit = lim.html
	}
	if limit = min(limit, lim.budget-*used); limit <= 0 {
		a.pr.add("%stext not read: the message has more than %d MiB of text", p.where, lim.budget>>20)
		return
	}
	raw, err := mimeReadAll(a.s.text, io.LimitReader(p.decoded(&a.pr), int64(limit)+1))
	a.s.text = raw
	if err != nil {
		a.pr.add("%stext cannot be decoded fully: %v", p.where, err)
	}
	if len(raw) > limit {
		raw = raw[:limit]
		a.pr.add("%stext longer than %d KiB; only the start is read", p.where, limit>>10)
	}
	*used += len(raw)
	text := mimeCharsetBytes(raw, p.params["charset"], &a.pr, p.where, &a.s.conv)
	var s string
	if utf8.Valid(text) {
		s = string(mimeSanitizeInPlace(text)) // text is raw or a.s.conv: ours
	} else {
		s = mimeSanitize(string(text))
	}
	a.texts = append(a.texts, mimeText{where: p.where, html: p.mediaType == "text/html", text: s, alts: p.alts})
}

// hidden reports a text part that mimeChooseTexts will drop whatever
// follows: in one of its multipart/alternative groups an earlier branch
// already has a text/plain part, and the first such branch is the one
// shown. Parse does not read such parts (the HTML alternative of a
// plain-text mail, mostly), so their content problems (charset, transfer
// encoding) are not reported and their bytes do not count against the
// text budget; what is shown is the same. Leaving them out of a.texts does
// not change the choice in any other group: a group nested in the hidden
// branch is hidden as a whole, and every group around it already has its
// plain text from the same earlier part.
func (a *mimeAnalysis) hidden(alts []mimeAltPos) bool {
	for _, alt := range alts {
		for _, t := range a.texts {
			if t.html {
				continue
			}
			for _, ta := range t.alts {
				if ta.group == alt.group && ta.branch != alt.branch {
					return true
				}
			}
		}
	}
	return false
}

// mimeChooseTexts picks the text parts to show: in each multipart/alternative
// the first branch with a text/plain part, else the last branch with any
// text; text parts outside alternatives are all shown.
func mimeChooseTexts(texts []mimeText) []mimeText {
	type choice struct {
		branch int
		plain  bool
	}
	best := map[string]choice{}
	for _, t := range texts {
		for _, alt := range t.alts {
			c, ok := best[alt.group]
			switch {
			case ok && c.plain:
			case !t.html:
				best[alt.group] = choice{branch: alt.branch, plain: true}
			default:
				best[alt.group] = choice{branch: alt.branch}
			}
		}
	}
	var out []mimeText
	for _, t := range texts {
		shown := true
		for _, alt := range t.alts {
			shown = shown && best[alt.group].branch == alt.branch
		}
		if shown {
			out = append(out, t)
		}
	}
	return out
}

// mimeCharsetText converts raw text in charset label to UTF-8 (RFC 2046
// section 4.1.2). Text that breaks its declared us-ascii is read as
// windows-1252; an unknown charset as UTF-8 if valid, else windows-1252.
func mimeCharsetText(raw []byte, label string, pr *mimeProblems, where string) string {
	var conv []byte
	return string(mimeCharsetBytes(raw, label, pr, where, &conv))
}

// mimeCharsetBytes is mimeCharsetText without the string: the result is raw
// itself (text that needs no conversion) or the bytes converted into
// *conv, whose memory it reuses.
func mimeCharsetBytes(raw []byte, label string, pr *mimeProblems, where string, conv *[]byte) []byte {
	label = strings.ToLower(strings.TrimSpace(label))
	switch label {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		if utf8.Valid(raw) {
			return raw
		}
		if label == "utf-8" || label == "utf8" {
			pr.add("%stext declared %s is not valid UTF-8; bad bytes replaced", where, label)
			return raw
		}
		if label == "" {
			label = "us-ascii"
		}
		pr.add("%s8-bit text declared %s; read as windows-1252", where, label)
		*conv = mimeAppendWindows1252((*conv)[:0], raw)
		return *conv
	}
	enc, err := mimeEncoding(label)
	if err != nil {
		as := "UTF-8"
		out := raw
		if !utf8.Valid(raw) {
			as = "windows-1252"
			*conv = mimeAppendWindows1252((*conv)[:0], raw)
			out = *conv
		}
		pr.add("%sunknown charset %q; read as %s", where, mimeShort(label), as)
		return out
	}
	out, err := mimeDecode(*conv, enc, raw)
	*conv = out
	if err != nil {
		pr.add("%scharset %q: %v", where, mimeShort(label), err)
	}
	return out
}

// mimeFallbackText reads bytes of unknown charset: UTF-8 if they are valid
// UTF-8, else windows-1252 (a superset of latin1 that every byte decodes in).
func mimeFallbackText(raw []byte) (text, as string) {
	if utf8.Valid(raw) {
		return string(raw), "UTF-8"
	}
	return mimeWindows1252(raw), "windows-1252"
}

func mimeWindows1252(raw []byte) string {
	return string(mimeAppendWindows1252(make([]byte, 0, len(raw)+len(raw)/2), raw))
}

// mimeAppendWindows1252 appends raw decoded as windows-1252 (WHATWG
// Encoding section 9, as x/text's charmap.Windows1252, which go-message's
// charset.Reader returns for the label) to dst. Every byte decodes.
func mimeAppendWindows1252(dst, raw []byte) []byte {
	for _, c := range raw {
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			continue
		}
		dst = utf8.AppendRune(dst, charmap.Windows1252.DecodeByte(c))
	}
	return dst
}

// mimeSanitize makes decoded text safe to index and to print on a terminal:
// valid UTF-8, LF line endings, no NUL or other control characters except
// tab and newline (an ESC in a message must not reach the terminal).
func mimeSanitize(s string) string {
	// Fast paths for plain ASCII text, with or without CRLF line ends.
	clean, crlf := true, false
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f || c == '\n' || c == '\t':
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			crlf = true
		default:
			clean = false
		}
	}
	if clean {
		if crlf {
			return strings.ReplaceAll(s, "\r\n", "\n")
		}
		return s
	}
	// Runs of bytes that stay as they are are copied whole; only what
	// changes (a bad byte, a CR, a control character) is written alone.
	var b strings.Builder
	b.Grow(len(s))
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size > 1 {
				if !unicode.IsControl(r) {
					i += size // valid, printable: part of the run
					continue
				}
			}
		}
		b.WriteString(s[start:i])
		switch {
		case r == utf8.RuneError:
			b.WriteRune(utf8.RuneError) // a bad byte
		case r == '\r':
			if !strings.HasPrefix(s[i+1:], "\n") {
				b.WriteByte('\n')
			}
		}
		// Any other control character is dropped.
		i += size
		start = i
	}
	b.WriteString(s[start:])
	return b.String()
}

// mimeSanitizeInPlace is mimeSanitize for valid UTF-8 in b, done in b
// (the result is never longer) and returned as its prefix.
func mimeSanitizeInPlace(b []byte) []byte {
	// Runs of bytes that stay are moved whole, and not at all until
	// something was dropped: clean text is only scanned.
	w, start := 0, 0
	keep := func(end int) {
		if w != start {
			copy(b[w:], b[start:end])
		}
		w += end - start
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' {
			i++
			continue
		}
		size := 1
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRune(b[i:])
			if !unicode.IsControl(r) {
				i += size
				continue
			}
		}
		keep(i)
		if c == '\r' && (i+1 >= len(b) || b[i+1] != '\n') {
			b[w] = '\n' // a CR alone ends a line
			w++
		}
		// Any other control character, and the CR of CRLF, is dropped.
		i += size
		start = i
	}
	keep(len(b))
	return b[:w]
}

// mimeSanitizeLine is mimeSanitize for one-line values: white space
// including newlines becomes single spaces.
func mimeSanitizeLine(s string) string {
	return strings.Join(strings.Fields(mimeSanitize(s)), " ")
}

// mimeTruncate cuts s to at most n bytes without splitting a rune.
func mimeTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// mimePreview returns the start of s, white space collapsed, at most n runes.
func mimePreview(s string, n int) string {
	var b strings.Builder
	count, space := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = count > 0
			continue
		}
		if space {
			if count >= n-1 {
				break
			}
			b.WriteByte(' ')
			count++
			space = false
		}
		if count >= n {
			break
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}

// NormalizeSubject reduces a decoded subject to what the messages of one
// thread share: leading reply and forward markers ("Re:", "RE[2]:", "Fwd:",
// "Fw:", "AW:", "SV:" and a few others) and mailing list tags ("[list]")
// removed repeatedly, white space collapsed, lower-cased.
func NormalizeSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for {
		if strings.HasPrefix(s, "[") {
			if i := strings.IndexByte(s, ']'); i > 0 {
				s = strings.TrimSpace(s[i+1:])
				continue
			}
		}
		i := strings.IndexByte(s, ':')
		if i <= 0 || i > 12 {
			break
		}
		word := strings.ToLower(strings.TrimSpace(s[:i]))
		if j := strings.IndexAny(word, "[("); j > 0 {
			word = strings.TrimSpace(word[:j]) // "Re[2]", "Re(2)"
		}
		switch word {
		case "re", "fwd", "fw", "aw", "sv", "wg", "vs", "tr", "antw", "odp", "rif", "res":
			s = strings.TrimSpace(s[i+1:])
		default:
			return strings.ToLower(s)
		}
	}
	return strings.ToLower(s)
}
