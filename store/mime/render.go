package mime

import (
	"fmt"
	"io"
	"strings"

	"github.com/inbucket/html2text"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Render reads a raw RFC 5322 message from r to its end and prepares
// it for a reader: the decoded envelope and display headers, the text (the
// text/plain part; in a multipart/alternative plain is preferred over HTML,
// and HTML alone is rendered as text with its links kept, FromHTML set), and
// every other part as an Attachment with its decoded size.
//
// Like Parse it streams, never fails on content (Problems lists what
// could not be decoded), and returns an error only when reading r fails;
// the returned *Rendered is never nil. Text is capped at 8 MiB, HTML read
// at 4 MiB per part.
func Render(r io.Reader) (*Rendered, error) {
	lim := mimeTextLimits{plain: mimeRenderText, html: mimeRenderHTML, budget: mimeRenderTotal}
	a, err := mimeAnalyze(r, lim, true)
	out := &Rendered{Envelope: mimeEnvelope(a.header, &a.pr), Attachments: a.attachments}
	out.Headers = mimeDisplayHeaders(a.header, out.Envelope, &a.pr)
	var b strings.Builder
	for _, t := range mimeChooseTexts(a.texts) {
		if b.Len() >= mimeRenderText {
			break
		}
		s := t.text
		if t.html {
			s = mimeHTMLToText(s, true, &a.pr, t.where)
			out.FromHTML = true
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s)
	}
	out.Text = mimeTruncate(b.String(), mimeRenderText)
	if a.size == 0 && err == nil {
		a.pr.add("empty message")
	}
	out.Problems = a.pr.list()
	if err != nil {
		return out, fmt.Errorf("render message: %w", err)
	}
	return out, nil
}

// Limits of Render.
const (
	mimeRenderText  = 8 << 20  // raw text read per plain part, and Text returned
	mimeRenderHTML  = 4 << 20  // raw HTML read per part
	mimeRenderTotal = 32 << 20 // raw text read per message
)

// mimeDisplayHeaders lists the header fields a reader sees, decoded, in
// display order; absent fields are left out.
func mimeDisplayHeaders(h mimeHeader, env Envelope, pr *mimeProblems) []HeaderField {
	wd := mimeWordDecoder(pr, "")
	var out []HeaderField
	add := func(key, value string) {
		if value != "" {
			out = append(out, HeaderField{Key: key, Value: value})
		}
	}
	addrs := func(key string, list []Address) {
		if len(list) > 0 {
			add(key, FormatAddresses(list))
		} else {
			add(key, mimeHeaderText(h.get(key), wd))
		}
	}
	add("Date", mimeHeaderText(h.get("Date"), wd))
	addrs("From", env.From)
	addrs("To", env.To)
	addrs("Cc", env.Cc)
	addrs("Reply-To", env.ReplyTo)
	add("Subject", env.Subject)
	return out
}

// mimeHTMLToText renders HTML as text with html2text: links kept for
// readers, left out for the index. The HTML is flattened first (see
// mimeFlattenHTML). html2text is third-party code run on hostile input, so a
// panic in it is recovered and reported as a problem rather than taking the
// process down.
func mimeHTMLToText(s string, links bool, pr *mimeProblems, where string) (text string) {
	defer func() {
		if v := recover(); v != nil {
			pr.add("%sHTML cannot be rendered: %v", where, v)
			text = ""
		}
	}()
	// What html2text.FromString does, without its two copies of the
	// input (a []byte conversion and a read of it into another): a UTF-8
	// byte order mark stripped twice, the HTML parsed, the tree rendered.
	flat := strings.TrimPrefix(strings.TrimPrefix(mimeFlattenHTML(s), "\uFEFF"), "\uFEFF")
	doc, err := html.Parse(strings.NewReader(flat))
	if err == nil {
		text, err = html2text.FromHTMLNode(doc, html2text.Options{OmitLinks: !links, TextOnly: !links})
	}
	if err != nil {
		pr.add("%sHTML cannot be rendered: %v", where, err)
		return ""
	}
	return mimeSanitize(text)
}

// mimeMaxHTMLDepth caps the element nesting kept by mimeFlattenHTML.
const mimeMaxHTMLDepth = 100

// mimeFlattenHTML copies HTML token by token, dropping the tags of elements
// that would nest deeper than mimeMaxHTMLDepth (their text is kept).
// x/net/html checks scopes by scanning the stack of open elements and
// html2text recurses over the tree, so deeply nested input would take
// quadratic time or overflow the stack, which cannot be recovered. Void,
// self-closing-by-sibling (p, li, td...) and raw-text elements never nest
// deeply and are always kept.
func mimeFlattenHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s))
	var open []atom.Atom
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return b.String() // io.EOF: the tokenizer reads from a string
		}
		name, _ := z.TagName()
		a := atom.Lookup(name)
		switch {
		case tt != html.StartTagToken && tt != html.EndTagToken, mimeHTMLFlat(a):
		case tt == html.StartTagToken:
			if len(open) >= mimeMaxHTMLDepth {
				continue
			}
			open = append(open, a)
		default:
			i := len(open) - 1
			for i >= 0 && open[i] != a {
				i--
			}
			if i < 0 {
				continue // closes a dropped element, or nothing
			}
			open = open[:i]
		}
		b.Write(z.Raw())
	}
}

// mimeHTMLFlat reports elements that do not nest: void elements, elements a
// sibling closes implicitly, raw-text elements (HTML Living Standard 13.1.2,
// 13.1.2.4) and unknown ones.
func mimeHTMLFlat(a atom.Atom) bool {
	switch a {
	case 0, atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr,
		atom.P, atom.Li, atom.Dt, atom.Dd, atom.Tr, atom.Td, atom.Th, atom.Option,
		atom.Script, atom.Style, atom.Title, atom.Textarea, atom.Xmp, atom.Noscript,
		atom.Iframe, atom.Noembed, atom.Noframes, atom.Plaintext:
		return true
	}
	return false
}

// SavePart reads a raw message from r and writes the decoded body
// (Content-Transfer-Encoding undone, no charset conversion) of the leaf part
// with IMAP section number part ("1", "2.1", as in Attachment.Part) to w. It
// returns the number of bytes written. It stops reading r after the part.
//
// The error wraps ErrNoPart when the message has no such leaf part (a
// multipart has no body of its own), and is also non-nil when reading r,
// decoding the part or writing to w fails, in which case w holds only part
// of the body.
func SavePart(r io.Reader, part string, w io.Writer) (int64, error) {
	part = strings.TrimSpace(part)
	var pr mimeProblems
	cr := &mimeCounter{r: r}
	ww := &mimeErrWriter{w: w}
	var (
		n       int64
		found   bool
		copyErr error
	)
	scratch := mimeGetScratch()
	defer mimePutScratch(scratch)
	walker := &mimeWalker{pr: &pr, s: scratch, visit: func(p *mimePart) bool {
		if p.section() != part {
			return false
		}
		found = true
		n, copyErr = io.Copy(ww, p.decoded(&pr))
		return true
	}}
	walker.entity(cr, nil, nil, "")
	switch {
	case ww.err != nil:
		return n, fmt.Errorf("save attachment part %s: write: %w", part, ww.err)
	case cr.ioErr() != nil:
		return n, fmt.Errorf("save attachment part %s: read message: %w", part, cr.ioErr())
	case !found:
		return 0, fmt.Errorf("save attachment part %q: %w", part, ErrNoPart)
	case copyErr != nil:
		return n, fmt.Errorf("save attachment part %s: decode: %w", part, copyErr)
	}
	return n, nil
}

// mimeErrWriter remembers a write error, to tell it from a decoding error.
type mimeErrWriter struct {
	w   io.Writer
	err error
}

func (e *mimeErrWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}
