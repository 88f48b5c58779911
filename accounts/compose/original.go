package compose

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode legacy charsets of originals
	gomail "github.com/emersion/go-message/mail"
)

// Limits on what is read of an original message.
const (
	// maxOriginalText caps the decoded text that is quoted or forwarded.
	maxOriginalText = 4 << 20
	// maxDepth is the deepest multipart nesting descended into.
	maxDepth = 20
	// maxParts caps the number of parts looked at.
	maxParts = 1000
)

// original is what a reply or forward needs of a received message.
type original struct {
	from, replyTo, to, cc []Address
	bcc                   []Address // read by Open only
	inReplyTo             string    // read by Open only
	subject               string
	date                  time.Time
	dateRaw               string
	messageID             string
	references            []string
	text                  string
	attachments           []Attachment
}

// readOriginal parses a raw RFC 5322 message. It is lenient: a header field
// that does not parse is left empty, and a malformed body part ends the walk
// with what was found so far. Attachments are read only when wanted.
func readOriginal(r io.Reader, wantAttachments bool) (*original, error) {
	e, rootErr := message.Read(r)
	if e == nil {
		return nil, fmt.Errorf("read original message: %w", rootErr)
	}
	h := gomail.Header{Header: e.Header}
	o := &original{
		from:       parseHeaderAddresses(h.Get("From")),
		replyTo:    parseHeaderAddresses(h.Get("Reply-To")),
		to:         parseHeaderAddresses(h.Get("To")),
		cc:         parseHeaderAddresses(h.Get("Cc")),
		bcc:        parseHeaderAddresses(h.Get("Bcc")),
		dateRaw:    cleanText(h.Get("Date")),
		references: msgIDs(h.Get("References")),
	}
	if ids := msgIDs(h.Get("Message-Id")); len(ids) > 0 {
		o.messageID = ids[0]
	}
	if irt := msgIDs(h.Get("In-Reply-To")); len(irt) > 0 {
		o.inReplyTo = irt[0]
	}
	if len(o.references) == 0 {
		// RFC 5322 section 3.6.4: a single In-Reply-To id starts the chain.
		if irt := msgIDs(h.Get("In-Reply-To")); len(irt) == 1 {
			o.references = irt
		}
	}
	subject, _ := h.Subject() // the raw text when a charset is unknown
	o.subject = cleanText(subject)
	if d, err := h.Date(); err == nil {
		o.date = d
	}
	w := partWalker{o: o, wantAttachments: wantAttachments}
	w.walk(e, rootErr)
	switch {
	case w.plain != "":
		o.text = w.plain
	case w.html != "":
		o.text = htmlToText(w.html)
	}
	return o, nil
}

// msgIDs extracts the "<id>" tokens of a header value, without brackets,
// skipping tokens that Build would refuse.
func msgIDs(v string) []string {
	var out []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return out
		}
		v = v[i+1:]
		j := strings.IndexByte(v, '>')
		if j < 0 {
			return out
		}
		id := v[:j]
		if k := strings.LastIndexByte(id, '<'); k >= 0 {
			id = id[k+1:] // "<<id>>": the innermost brackets
		}
		if checkMsgID(id) == nil {
			out = append(out, id)
		}
		v = v[j+1:]
	}
}

// partWalker walks the MIME tree of an original message without
// recursion, keeping the first plain and HTML texts and the attachments.
type partWalker struct {
	o               *original
	wantAttachments bool
	plain, html     string
	parts           int
}

func (w *partWalker) walk(root *message.Entity, rootErr error) {
	stack := []message.MultipartReader{}
	visit := func(e *message.Entity, err error) {
		w.parts++
		if mr := e.MultipartReader(); mr != nil {
			if len(stack) < maxDepth {
				stack = append(stack, mr)
			}
			return
		}
		w.leaf(e, message.IsUnknownCharset(err))
	}
	visit(root, rootErr)
	for len(stack) > 0 && w.parts < maxParts {
		p, err := stack[len(stack)-1].NextPart()
		switch {
		case err == io.EOF:
			stack = stack[:len(stack)-1]
			continue
		case p == nil:
			return // malformed: keep what was found
		case err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err):
			return
		}
		visit(p, err)
	}
}

// leaf looks at one non-multipart part; undecoded tells that its charset
// was unknown, so its text was not converted to UTF-8.
func (w *partWalker) leaf(e *message.Entity, undecoded bool) {
	mediaType, params, _ := e.Header.ContentType()
	mediaType = strings.ToLower(mediaType)
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	isText := mediaType == "text/plain" || mediaType == "text/html"
	if isText && !strings.EqualFold(disp, "attachment") && name == "" {
		text := readText(e.Body)
		switch {
		case mediaType == "text/plain" && w.plain == "":
			if strings.EqualFold(params["format"], "flowed") {
				text = decodeFlowed(text, strings.EqualFold(params["delsp"], "yes"))
			}
			w.plain = text
		case mediaType == "text/html" && w.html == "":
			w.html = text
		}
		return
	}
	if !w.wantAttachments {
		return
	}
	data, err := io.ReadAll(e.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	w.o.attachments = append(w.o.attachments, Attachment{
		Name:        attachmentName(cleanText(name), mediaType, len(w.o.attachments)+1),
		ContentType: attachmentType(mediaType, params, undecoded),
		Data:        bytes.Clone(data),
	})
}

// readText reads a decoded text part, capped, as valid UTF-8 with LF line
// ends and no NULs.
func readText(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxOriginalText))
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	return normalizeNewlines(s)
}

// attachmentName returns name, or a made-up "part-N.ext" when it is empty.
func attachmentName(name, mediaType string, n int) string {
	if name != "" {
		return name
	}
	ext := ".bin"
	switch mediaType {
	case "message/rfc822":
		ext = ".eml"
	case "text/plain":
		ext = ".txt"
	case "text/html":
		ext = ".html"
	default:
		// The system's table is sorted, not ranked: ".jpe" may come
		// before ".jpg", but any of them opens.
		if exts, _ := mime.ExtensionsByType(mediaType); len(exts) > 0 {
			ext = exts[0]
		}
	}
	return "part-" + strconv.Itoa(n) + ext
}

// attachmentType returns the content type to forward a part with. Text
// parts were converted to UTF-8 unless their charset was unknown.
func attachmentType(mediaType string, params map[string]string, undecoded bool) string {
	if mediaType == "" || strings.HasPrefix(mediaType, "multipart/") {
		mediaType = "application/octet-stream"
	}
	keep := map[string]string{}
	if cs, ok := params["charset"]; ok && strings.HasPrefix(mediaType, "text/") {
		keep["charset"] = "utf-8"
		if undecoded {
			keep["charset"] = cs
		}
	}
	if t := mime.FormatMediaType(mediaType, keep); t != "" {
		return t
	}
	return "application/octet-stream"
}
