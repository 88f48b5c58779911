package mime

import (
	"bytes"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
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
	a, err := mimeAnalyze(r, mimeTextLimits{plain: MaxIndexedText, html: mimeIndexHTML, budget: mimeIndexBudget}, false)
	pm := &Parsed{Size: a.size, HasAttachment: a.hasAttachment}
	pm.Envelope = mimeEnvelope(a.header, &a.pr)
	var b strings.Builder
	for _, t := range mimeChooseTexts(a.texts) {
		if b.Len() >= MaxIndexedText {
			break
		}
		s := t.text
		if t.html {
			s = mimeHTMLToText(s, false, &a.pr, t.where)
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s)
	}
	pm.BodyText = mimeTruncate(b.String(), MaxIndexedText)
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

// mimeTextLimits caps the raw (transfer-decoded) text read from text parts.
type mimeTextLimits struct {
	plain, html int // per part
	budget      int // per message
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
}

// mimeAnalyze walks the message in r, collecting the text parts within lim
// and the other leaves as attachments (their decoded size counted when
// sizes is set). It reads r to the end. The error is r's.
func mimeAnalyze(r io.Reader, lim mimeTextLimits, sizes bool) (*mimeAnalysis, error) {
	a := &mimeAnalysis{}
	cr := &mimeCounter{r: r}
	used := 0
	w := &mimeWalker{pr: &a.pr}
	w.visit = func(p *mimePart) bool {
		if p.attachment() {
			a.hasAttachment = true
		}
		if p.bodyText() {
			a.readText(p, lim, &used)
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

// readText reads and decodes one text part within the limits.
func (a *mimeAnalysis) readText(p *mimePart, lim mimeTextLimits, used *int) {
	limit := lim.plain
	if p.mediaType == "text/html" {
		limit = lim.html
	}
	if limit = min(limit, lim.budget-*used); limit <= 0 {
		a.pr.add("%stext not read: the message has more than %d MiB of text", p.where, lim.budget>>20)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(p.decoded(&a.pr), int64(limit)+1))
	if err != nil {
		a.pr.add("%stext cannot be decoded fully: %v", p.where, err)
	}
	if len(raw) > limit {
		raw = raw[:limit]
		a.pr.add("%stext longer than %d KiB; only the start is read", p.where, limit>>10)
	}
	*used += len(raw)
	s := mimeCharsetText(raw, p.params["charset"], &a.pr, p.where)
	a.texts = append(a.texts, mimeText{where: p.where, html: p.mediaType == "text/html", text: mimeSanitize(s), alts: p.alts})
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
	label = strings.ToLower(strings.TrimSpace(label))
	switch label {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		if utf8.Valid(raw) {
			return string(raw)
		}
		if label == "utf-8" || label == "utf8" {
			pr.add("%stext declared %s is not valid UTF-8; bad bytes replaced", where, label)
			return string(raw)
		}
		if label == "" {
			label = "us-ascii"
		}
		pr.add("%s8-bit text declared %s; read as windows-1252", where, label)
		return mimeWindows1252(raw)
	}
	rd, err := charset.Reader(label, bytes.NewReader(raw))
	if err != nil {
		s, as := mimeFallbackText(raw)
		pr.add("%sunknown charset %q; read as %s", where, mimeShort(label), as)
		return s
	}
	out, err := io.ReadAll(rd)
	if err != nil {
		pr.add("%scharset %q: %v", where, mimeShort(label), err)
	}
	return string(out)
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
	if rd, err := charset.Reader("windows-1252", bytes.NewReader(raw)); err == nil {
		if out, err := io.ReadAll(rd); err == nil {
			return string(out)
		}
	}
	runes := make([]rune, len(raw)) // latin1
	for i, c := range raw {
		runes[i] = rune(c)
	}
	return string(runes)
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

// mimeDateLayouts are tried after net/mail.ParseDate, on a value whose
// comments and day name were removed.
func mimeDateLayouts() []string {
	return []string{
		"2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 MST",
		"2 Jan 2006 15:04 -0700",
		"2 Jan 2006 15:04:05",
		"2 Jan 06 15:04:05 -0700",
		"2 January 2006 15:04:05 -0700",
		"2-Jan-2006 15:04:05 -0700",
		"Jan 2 15:04:05 2006",
		"Jan 2 15:04:05 -0700 2006",
		"Jan 2 2006 15:04:05 -0700",
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05",
	}
}

// mimeParseDate parses a Date field (RFC 5322 section 3.3) leniently; it
// returns the zero time and false when nothing fits.
func mimeParseDate(v string) (time.Time, bool) {
	if t, err := mail.ParseDate(v); err == nil {
		return t, true
	}
	var b strings.Builder
	depth := 0
	for _, r := range v {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if i := strings.IndexByte(s, ','); i >= 0 && i <= 10 {
		s = strings.TrimSpace(s[i+1:])
	} else if f := strings.Fields(s); len(f) > 0 && len(f[0]) == 3 && strings.Contains("MonTueWedThuFriSatSun", f[0]) {
		s = strings.TrimSpace(s[3:])
	}
	for _, layout := range mimeDateLayouts() {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
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
