package mailgen

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// encoder returns the x/text encoder of charset cs, or nil for UTF-8.
func encoder(cs string) *encoding.Encoder {
	switch cs {
	case csLatin1:
		return charmap.ISO8859_1.NewEncoder()
	case csCP1252:
		return charmap.Windows1252.NewEncoder()
	case csKOI8R:
		return charmap.KOI8R.NewEncoder()
	case csISO2022:
		return japanese.ISO2022JP.NewEncoder()
	case csShiftJIS:
		return japanese.ShiftJIS.NewEncoder()
	}
	return nil
}

// encodeCharset converts UTF-8 s to charset cs; ok is false if s holds a
// rune cs cannot represent. UTF-8 comes back as s itself.
func encodeCharset(cs string, s []byte) (b []byte, ok bool) {
	enc := encoder(cs)
	if enc == nil {
		return s, true
	}
	b, err := enc.Bytes(s)
	return b, err == nil
}

// isASCII reports whether b holds only 7-bit bytes.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// Content-Transfer-Encodings (RFC 2045 section 6).
const (
	cte7bit   = "7bit"
	cte8bit   = "8bit"
	cteQP     = "quoted-printable"
	cteBase64 = "base64"
)

// chooseCTE picks a transfer encoding a real mailer might use for data in
// charset cs. ASCII data (including ISO-2022-JP) is mostly sent as 7bit.
func (g *Generator) chooseCTE(cs string, data []byte, isHTML bool) string {
	if isASCII(data) {
		if cs == csISO2022 || !g.rng.pct(10) {
			return cte7bit
		}
		return cteQP
	}
	switch {
	case isHTML:
		return g.rng.weighted([]weighted{{cteQP, 70}, {cteBase64, 30}})
	case cs == csShiftJIS:
		return cteBase64
	case cs == csLatin1 || cs == csCP1252:
		return g.rng.weighted([]weighted{{cteQP, 70}, {cte8bit, 30}})
	case cs == csKOI8R:
		return g.rng.weighted([]weighted{{cte8bit, 50}, {cteBase64, 25}, {cteQP, 25}})
	}
	return g.rng.weighted([]weighted{{cteQP, 50}, {cteBase64, 25}, {cte8bit, 25}})
}

// writeCRLF appends data converting its "\n" line ends to CRLF.
func writeCRLF(buf *bytes.Buffer, data []byte) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			buf.Write(data)
			return
		}
		buf.Write(data[:i])
		buf.WriteString("\r\n")
		data = data[i+1:]
	}
}

// writeEncoded appends text data, whose lines end in "\n", in transfer
// encoding cte with CRLF line ends (base64 encodes the CRLF form, RFC 2045
// section 6.8), and ends with CRLF.
func writeEncoded(buf *bytes.Buffer, cte string, data []byte) {
	switch cte {
	case cteQP:
		w := quotedprintable.NewWriter(buf) // writes "\n" as CRLF
		w.Write(data)
		w.Close()
	case cteBase64:
		writeBase64(buf, bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")))
		return
	default:
		writeCRLF(buf, data)
	}
	if b := buf.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
		buf.WriteString("\r\n")
	}
}

// writeBase64 appends data in base64 lines of 76 characters (RFC 2045
// section 6.8).
func writeBase64(buf *bytes.Buffer, data []byte) {
	const in = 57
	buf.Grow((len(data)+in-1)/in*78 + 2)
	var line [76]byte
	for len(data) > 0 {
		n := min(in, len(data))
		m := base64.StdEncoding.EncodedLen(n)
		base64.StdEncoding.Encode(line[:m], data[:n])
		buf.Write(line[:m])
		buf.WriteString("\r\n")
		data = data[n:]
	}
}

// field appends a header field, folding at spaces so lines stay near 78
// columns (RFC 5322 section 2.2.3). value must not contain CR or LF.
func field(buf *bytes.Buffer, name, value string) {
	buf.WriteString(name)
	buf.WriteString(":")
	col := len(name) + 1
	for i, w := range strings.Split(value, " ") {
		if i > 0 && col+1+len(w) > 78 && col > len(name)+2 && w != "" {
			buf.WriteString("\r\n")
			col = 0
		}
		buf.WriteByte(' ')
		buf.WriteString(w)
		col += 1 + len(w)
	}
	buf.WriteString("\r\n")
}

// encodeText returns s as an unstructured header value: unchanged if ASCII,
// else RFC 2047 encoded-words in charset cs (falling back to UTF-8 where cs
// cannot hold s), B or Q as a mailer for that script would choose.
func (g *Generator) encodeText(s, cs string) string {
	if isASCII([]byte(s)) {
		return s
	}
	q := g.rng.pct(60)
	switch cs {
	case csISO2022:
		return encodeISO2022(s)
	case csLatin1, csCP1252, csKOI8R:
		if b, ok := encodeCharset(cs, []byte(s)); ok {
			return encodeWords(cs, b, q && cs != csKOI8R)
		}
	}
	label := "utf-8"
	if g.rng.pct(30) {
		label = "UTF-8"
	}
	if q && !hasCJK(s) {
		return mime.QEncoding.Encode(label, s)
	}
	return mime.BEncoding.Encode(label, s)
}

// encodeWords encodes b, text in the single-byte charset cs, as B or Q
// encoded-words of at most 75 characters (RFC 2047 section 2), every chunk
// encoded so that no space between them is lost on decoding.
func encodeWords(cs string, b []byte, q bool) string {
	const upper = "0123456789ABCDEF"
	var sb strings.Builder
	for len(b) > 0 {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		if !q {
			n := min(42, len(b))
			sb.WriteString("=?" + cs + "?B?" + base64.StdEncoding.EncodeToString(b[:n]) + "?=")
			b = b[n:]
			continue
		}
		sb.WriteString("=?" + cs + "?Q?")
		for n := 0; len(b) > 0 && n < 54; b = b[1:] {
			switch c := b[0]; {
			case c == ' ':
				sb.WriteByte('_')
				n++
			case c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				strings.IndexByte("!*+-/", c) >= 0):
				sb.WriteByte(c)
				n++
			default:
				sb.WriteByte('=')
				sb.WriteByte(upper[c>>4])
				sb.WriteByte(upper[c&15])
				n += 3
			}
		}
		sb.WriteString("?=")
	}
	return sb.String()
}

// encodeISO2022 encodes s as ISO-2022-JP B encoded-words of at most eight
// runes each, every one ending in ASCII state, as Japanese mailers do.
func encodeISO2022(s string) string {
	var words []string
	for s != "" {
		n, i := 0, 0
		for i < len(s) && n < 8 {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			n++
		}
		b, ok := encodeCharset(csISO2022, []byte(s[:i]))
		if !ok {
			return mime.BEncoding.Encode("utf-8", s)
		}
		words = append(words, "=?ISO-2022-JP?B?"+base64.StdEncoding.EncodeToString(b)+"?=")
		s = s[i:]
	}
	return strings.Join(words, " ")
}

// hasCJK reports whether s holds CJK characters (or other runes from
// U+3000 up), which mailers encode with B rather than Q.
func hasCJK(s string) bool {
	for _, r := range s {
		if r >= 0x3000 {
			return true
		}
	}
	return false
}

// param returns "; name=value" for a MIME parameter: quoted if ASCII, else
// RFC 2231 encoded as UTF-8, split into continuations when long.
func param(name, value string) string {
	if isASCII([]byte(value)) {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		return "; " + name + `="` + r.Replace(value) + `"`
	}
	const attrChars = "!#$&+-.^_`|~"
	var enc strings.Builder
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte(attrChars, c) >= 0) {
			enc.WriteByte(c)
		} else {
			fmt.Fprintf(&enc, "%%%02X", c)
		}
	}
	e := enc.String()
	if len(e) <= 60 {
		return "; " + name + "*=utf-8''" + e
	}
	var sb strings.Builder
	for i := 0; e != ""; i++ {
		n := min(45, len(e))
		for n < len(e) && n >= 2 && (e[n-1] == '%' || e[n-2] == '%') {
			n-- // never split a %XX escape
		}
		prefix := ""
		if i == 0 {
			prefix = "utf-8''"
		}
		fmt.Fprintf(&sb, "; %s*%d*=%s%s", name, i, prefix, e[:n])
		e = e[n:]
	}
	return sb.String()
}

// boundary returns a multipart boundary in the style of one of the common
// mailers, chosen by style; level keeps nested boundaries distinct.
func (g *Generator) boundary(level, style int) string {
	switch style % 4 {
	case 0:
		return fmt.Sprintf("----=_Part_%d_%d.%d", level, g.rng.r.Int31(), g.seq)
	case 1:
		return fmt.Sprintf("0000000000%d%016x", level, g.rng.r.Uint64())
	case 2:
		return fmt.Sprintf("Apple-Mail=_%d%08X-%04X-%04X", level, g.rng.r.Uint32(), g.rng.intn(1<<16), g.rng.intn(1<<16))
	}
	return fmt.Sprintf("=_%d_%x", level, g.rng.r.Int63())
}

// entity is a prepared single-part body: its Content-Type, transfer
// encoding and data, converted to the charset, with "\n" line ends.
type entity struct {
	ctype, cte string
	omitCTE    bool // 7bit by default: leave the header out
	data       []byte
}

// textEntity prepares a text/subtype entity holding UTF-8 text in charset
// cs, choosing a transfer encoding. If cs cannot hold text, UTF-8 is used.
// The entity may share text's memory.
func (g *Generator) textEntity(subtype, cs string, text []byte) entity {
	data, ok := encodeCharset(cs, text)
	if !ok {
		cs, data = csUTF8, text
	}
	e := entity{cte: g.chooseCTE(cs, data, subtype == "html"), data: data}
	label := cs
	if g.rng.pct(25) {
		label = strings.ToUpper(cs)
	}
	e.ctype = "text/" + subtype + "; charset=" + label
	if g.rng.pct(30) {
		e.ctype = "text/" + subtype + "; charset=\"" + label + "\""
	}
	e.omitCTE = e.cte == cte7bit && g.rng.pct(15)
	return e
}

// header appends the entity's Content-Type and Content-Transfer-Encoding.
func (e entity) header(buf *bytes.Buffer) {
	field(buf, "Content-Type", e.ctype)
	if !e.omitCTE {
		field(buf, "Content-Transfer-Encoding", e.cte)
	}
}

// body appends the encoded data.
func (e entity) body(buf *bytes.Buffer) { writeEncoded(buf, e.cte, e.data) }

// part appends the entity as a body part: header, blank line, body.
func (e entity) part(buf *bytes.Buffer) {
	e.header(buf)
	buf.WriteString("\r\n")
	e.body(buf)
}
