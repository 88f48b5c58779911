package compose

import (
	"fmt"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// makeHeader turns fields into a header that writes them in order, each
// folded by foldField (textproto writes the most recently added field
// first).
func makeHeader(fields []Field) textproto.Header {
	var h textproto.Header
	for i := len(fields) - 1; i >= 0; i-- {
		h.AddRaw([]byte(foldField(fields[i].Key, fields[i].Value)))
	}
	return h
}

// foldWidth is the line length header folding aims at (RFC 5322 section
// 2.1.1 recommends 78).
const foldWidth = 78

// foldField formats "Key: value\r\n", folding the value (RFC 5322 section
// 2.2.3) before single spaces between words so that lines stay within
// foldWidth where the words allow. Words, encoded words (RFC 2047) among
// them, are never split, and runs of spaces are never folded, because
// unfolding keeps only one space.
func foldField(key, value string) string {
	var b strings.Builder
	b.Grow(len(key) + len(value) + 8)
	b.WriteString(key + ":")
	line := b.Len()
	words := strings.Split(value, " ")
	for i, w := range words {
		fold := i > 0 && w != "" && words[i-1] != "" && line+1+len(w) > foldWidth
		if fold {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteByte(' ')
		b.WriteString(w)
		line += 1 + len(w)
	}
	b.WriteString("\r\n")
	return b.String()
}

// needsEncoding reports text that cannot stand in a header as it is: not
// ASCII, control characters, or something a reader would take for an
// encoded word.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x7f || c < ' ' && c != '\t' {
			return true
		}
	}
	return strings.Contains(s, "=?")
}

// encodedPayload caps the encoded text of one encoded word, so that a word
// ("=?utf-8?q?" + payload + "?=") after the longest field name we write
// still fits the 76-character line of RFC 2047 section 2.
const encodedPayload = 45

// encodeWords encodes s, if it needs it, as RFC 2047 Q encoded words of
// UTF-8, splitting between characters so that each word is short. In a
// phrase (display names) only the characters section 5(3) allows stay
// literal; in unstructured text (Subject) every printable but "=?_" does.
func encodeWords(s string, phrase bool) string {
	if !needsEncoding(s) {
		return s
	}
	var words []string
	var cur strings.Builder
	var buf [4]byte
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		var enc strings.Builder
		n := copy(buf[:], string(r))
		for _, c := range buf[:n] {
			switch {
			case c == ' ':
				enc.WriteByte('_')
			case qLiteral(c, phrase):
				enc.WriteByte(c)
			default:
				fmt.Fprintf(&enc, "=%02X", c)
			}
		}
		if cur.Len() > 0 && cur.Len()+enc.Len() > encodedPayload {
			words = append(words, "=?utf-8?q?"+cur.String()+"?=")
			cur.Reset()
		}
		cur.WriteString(enc.String())
	}
	if cur.Len() > 0 {
		words = append(words, "=?utf-8?q?"+cur.String()+"?=")
	}
	return strings.Join(words, " ")
}

// qLiteral reports bytes that Q encoding may leave as they are.
func qLiteral(c byte, phrase bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case phrase:
		return strings.IndexByte("!*+-/", c) >= 0
	default:
		return c > ' ' && c < 0x7f && c != '=' && c != '?' && c != '_'
	}
}

// reservedHeader reports fields that Build writes and that cannot be given
// in Draft.Headers.
func reservedHeader(k string) bool {
	switch strings.ToLower(k) {
	case "date", "from", "sender", "reply-to", "to", "cc", "bcc", "subject",
		"message-id", "in-reply-to", "references", "mime-version",
		"content-type", "content-transfer-encoding", "content-disposition", "content-id":
		return true
	}
	return false
}

// checkHeaderText refuses text that would break out of a header field.
func checkHeaderText(s string) error {
	if strings.ContainsAny(s, "\r\n\x00") {
		return ErrHeaderInjection
	}
	return nil
}

// checkFieldKey accepts an RFC 5322 field name (printable ASCII, no colon)
// that Build does not write itself.
func checkFieldKey(k string) error {
	if k == "" {
		return fmt.Errorf("empty header name: %w", ErrInvalidDraft)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f || c == ':' {
			if c == '\r' || c == '\n' {
				return fmt.Errorf("header name %q: %w", k, ErrHeaderInjection)
			}
			return fmt.Errorf("header name %q: not a field name: %w", k, ErrInvalidDraft)
		}
	}
	if reservedHeader(k) {
		return fmt.Errorf("header %q is written by Build: %w", k, ErrInvalidDraft)
	}
	return nil
}

// checkMsgID accepts a message id without angle brackets: no whitespace,
// no brackets, no control characters, an "@" somewhere.
func checkMsgID(id string) error {
	if err := checkHeaderText(id); err != nil {
		return err
	}
	if id == "" || !strings.Contains(id, "@") {
		return fmt.Errorf("message id %q: want left@right: %w", id, ErrInvalidDraft)
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' {
			return fmt.Errorf("message id %q: %w", id, ErrInvalidDraft)
		}
	}
	return nil
}

// cleanText makes text taken from a received header safe for a header of
// ours: control characters become spaces, runs of spaces collapse.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
