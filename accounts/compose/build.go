package compose

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
)

// dateLayout is the RFC 5322 section 3.3 date-time format.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// maxLineOctets is the longest line SMTP carries (RFC 5321 section
// 4.5.3.1.6, without the CRLF); a longer body line needs quoted-printable.
const maxLineOctets = 998

// Build writes d to w as an RFC 5322 message with CRLF line endings.
// It fills d.Date and d.MessageID when they are empty, so the caller learns
// the Message-ID and a second Build writes the same header. The Bcc
// recipients are not written (see Recipients for the envelope).
//
// Build checks the whole draft before writing: CR or LF in any header value
// is refused with ErrHeaderInjection, a bad address with ErrInvalidAddress,
// other problems with ErrInvalidDraft. Reading an attachment file can
// still fail after writing began, in which case w holds part of a message.
func Build(d *Draft, w io.Writer) error {
	return build(d, w, false)
}

// BuildForOutbox is Build with the Bcc header kept. It is for the copy
// queued in the Outbox, from which the sender reads the envelope and which
// it strips of Bcc before the message leaves or is filed in Sent; never
// hand its output to anything else.
func BuildForOutbox(d *Draft, w io.Writer) error {
	return build(d, w, true)
}

func build(d *Draft, w io.Writer, keepBcc bool) error {
	if d == nil {
		return fmt.Errorf("build message: nil draft: %w", ErrInvalidDraft)
	}
	fields, err := headerFields(d, keepBcc)
	if err != nil {
		return fmt.Errorf("build message: %w", err)
	}
	atts, err := prepareAttachments(d.Attachments)
	if err != nil {
		return fmt.Errorf("build message: %w", err)
	}
	body := encodeFlowed(strings.TrimSuffix(normalizeNewlines(d.Body), "\n"))
	if body != "" {
		body += "\r\n"
	}
	textType := "text/plain; charset=utf-8; format=flowed"
	textEnc := bodyEncoding(body)

	fields = append(fields, Field{"MIME-Version", "1.0"})
	if len(atts) == 0 {
		fields = append(fields, Field{"Content-Type", textType}, Field{"Content-Transfer-Encoding", textEnc})
		if err := textproto.WriteHeader(w, makeHeader(fields)); err != nil {
			return fmt.Errorf("build message: write header: %w", err)
		}
		if err := writeEncoded(w, textEnc, strings.NewReader(body)); err != nil {
			return fmt.Errorf("build message: write body: %w", err)
		}
		return nil
	}
	mw := textproto.NewMultipartWriter(w)
	boundary := "=_lb" + rand.Text()
	if err := mw.SetBoundary(boundary); err != nil {
		return fmt.Errorf("build message: %w", err)
	}
	fields = append(fields, Field{"Content-Type", `multipart/mixed; boundary="` + boundary + `"`})
	if err := textproto.WriteHeader(w, makeHeader(fields)); err != nil {
		return fmt.Errorf("build message: write header: %w", err)
	}
	text := []Field{{"Content-Type", textType}, {"Content-Transfer-Encoding", textEnc}}
	pw, err := mw.CreatePart(makeHeader(text))
	if err != nil {
		return fmt.Errorf("build message: text part: %w", err)
	}
	if err := writeEncoded(pw, textEnc, strings.NewReader(body)); err != nil {
		return fmt.Errorf("build message: text part: %w", err)
	}
	for _, a := range atts {
		if err := a.write(mw); err != nil {
			return fmt.Errorf("build message: attachment %q: %w", a.name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("build message: %w", err)
	}
	return nil
}

// writeEncoded copies r to w in the transfer encoding enc: "7bit" as is,
// "quoted-printable" or "base64" (76-character lines, RFC 2045).
func writeEncoded(w io.Writer, enc string, r io.Reader) error {
	var wc io.WriteCloser
	switch enc {
	case "quoted-printable":
		wc = quotedprintable.NewWriter(w)
	case "base64":
		wc = base64.NewEncoder(base64.StdEncoding, &lineBreaker{w: w})
	default:
		_, err := io.Copy(w, r)
		return err
	}
	if _, err := io.Copy(wc, r); err != nil {
		wc.Close()
		return err
	}
	if err := wc.Close(); err != nil {
		return err
	}
	if enc == "base64" {
		_, err := io.WriteString(w, "\r\n")
		return err
	}
	return nil
}

// lineBreaker inserts CRLF after every 76 bytes written through it.
type lineBreaker struct {
	w io.Writer
	n int // bytes on the current line
}

func (l *lineBreaker) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if l.n == 76 {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return written, err
			}
			l.n = 0
		}
		k := min(76-l.n, len(p))
		n, err := l.w.Write(p[:k])
		written += n
		l.n += n
		if err != nil {
			return written, err
		}
		p = p[k:]
	}
	return written, nil
}

// headerFields checks the draft and returns its header fields in order,
// from Date to the extra fields. It fills d.Date and d.MessageID.
func headerFields(d *Draft, keepBcc bool) ([]Field, error) {
	if d.From.Addr == "" {
		return nil, fmt.Errorf("no From address: %w", ErrInvalidDraft)
	}
	from, err := d.From.header()
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := checkHeaderText(d.Subject); err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	if d.MessageID == "" {
		d.MessageID = newMessageID(d.From.Addr)
	}
	if err := checkMsgID(d.MessageID); err != nil {
		return nil, fmt.Errorf("message-id: %w", err)
	}
	if d.InReplyTo != "" {
		if err := checkMsgID(d.InReplyTo); err != nil {
			return nil, fmt.Errorf("in-reply-to: %w", err)
		}
	}
	for _, id := range d.References {
		if err := checkMsgID(id); err != nil {
			return nil, fmt.Errorf("references: %w", err)
		}
	}
	if d.Date.IsZero() {
		d.Date = time.Now().Truncate(time.Second)
	}
	fields := []Field{{"Date", d.Date.Format(dateLayout)}, {"From", from}}
	lists := []struct {
		key  string
		list []Address
	}{{"Reply-To", d.ReplyTo}, {"To", d.To}, {"Cc", d.Cc}}
	if keepBcc {
		lists = append(lists, struct {
			key  string
			list []Address
		}{"Bcc", d.Bcc})
	} else {
		for _, a := range d.Bcc {
			if _, err := a.header(); err != nil {
				return nil, fmt.Errorf("bcc: %w", err)
			}
		}
	}
	for _, l := range lists {
		if len(l.list) == 0 {
			continue
		}
		parts := make([]string, len(l.list))
		for i, a := range l.list {
			if parts[i], err = a.header(); err != nil {
				return nil, fmt.Errorf("%s: %w", strings.ToLower(l.key), err)
			}
		}
		fields = append(fields, Field{l.key, strings.Join(parts, ", ")})
	}
	if d.Subject != "" {
		fields = append(fields, Field{"Subject", encodeWords(d.Subject, false)})
	}
	fields = append(fields, Field{"Message-ID", "<" + d.MessageID + ">"})
	if d.InReplyTo != "" {
		fields = append(fields, Field{"In-Reply-To", "<" + d.InReplyTo + ">"})
	}
	if len(d.References) > 0 {
		fields = append(fields, Field{"References", "<" + strings.Join(d.References, "> <") + ">"})
	}
	for _, f := range d.Headers {
		if err := checkFieldKey(f.Key); err != nil {
			return nil, err
		}
		if err := checkHeaderText(f.Value); err != nil {
			return nil, fmt.Errorf("header %s: %w", f.Key, err)
		}
		fields = append(fields, Field{f.Key, encodeWords(f.Value, false)})
	}
	return fields, nil
}

// newMessageID returns a fresh "random@domain" id for a message from addr.
func newMessageID(addr string) string {
	domain := "localhost"
	if at := strings.LastIndexByte(addr, '@'); at >= 0 && at < len(addr)-1 {
		domain = addr[at+1:]
	}
	return strings.ToLower(rand.Text()) + "@" + domain
}

// bodyEncoding picks the transfer encoding of the text: 7bit when it is
// ASCII in lines SMTP can carry, quoted-printable otherwise.
func bodyEncoding(body string) string {
	line := 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= 0x80 || c == 0:
			return "quoted-printable"
		case c == '\n':
			line = 0
		default:
			if line++; line > maxLineOctets {
				return "quoted-printable"
			}
		}
	}
	return "7bit"
}
