package mailgen

// MIME trees for fuzz targets: BuildTree makes a message whose shape is
// read from a byte string, so that a fuzz target of a MIME parser
// (store/mime, server/imap) explores multiparts, messages in messages,
// deep chains and odd headers instead of random bytes that rarely parse
// as MIME. Unlike the corpus of New it is not realistic mail.
//
// BuildTree is deterministic: the same bytes give the same message. A
// well-formed message (Tree.WellFormed) follows RFC 5322 and RFC
// 2045-2049 to the letter, with CRLF line ends, unique boundaries that no
// body contains, and every part's Content-Type written out, so that every
// correct parser must describe it the same way; the others break one rule
// or another (missing boundaries, LF line ends, unclosed multiparts,
// invalid Content-Types).

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
)

// Limits of BuildTree, so that one fuzz input stays cheap.
const (
	maxTreeParts = 300       // entities per message
	maxTreeBytes = 256 << 10 // body bytes per message, about
	maxTreeChain = 2000      // message/rfc822 levels of one deep chain
)

// Tree is a built message.
type Tree struct {
	Raw []byte
	// WellFormed reports a message without any deliberate defect.
	WellFormed bool
	// Depth is the deepest nesting level of an entity (the message is at
	// depth 0; each multipart and each enclosed message adds one).
	Depth int
}

// BuildTree makes the message that shape describes. The first byte chooses
// well-formed or not; each later byte is an instruction or an argument;
// when they run out, the tree is closed with text leaves.
func BuildTree(shape []byte) Tree {
	b := &treeBuilder{in: shape}
	b.wellFormed = b.next()%4 != 0
	var out bytes.Buffer
	out.WriteString("From: Ann Example <ann@example.com>\r\nTo: bob@example.org\r\n")
	out.WriteString("Subject: " + b.words(3) + "\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\nMessage-ID: <top@example.com>\r\nMIME-Version: 1.0\r\n")
	b.entity(&out, 0, "")
	raw := out.Bytes()
	if !b.crlf {
		raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	}
	return Tree{Raw: raw, WellFormed: b.wellFormed, Depth: b.depth}
}

type treeBuilder struct {
	in         []byte
	pos        int
	wellFormed bool
	crlf       bool
	parts      int
	size       int
	depth      int
	boundaries int
}

// next returns the next byte of the shape, 0 when it has run out.
func (b *treeBuilder) next() byte {
	if b.pos >= len(b.in) {
		b.pos++
		return 0
	}
	c := b.in[b.pos]
	b.pos++
	if b.pos == 1 {
		b.crlf = c&0x80 == 0 || c%4 != 0 // LF line ends only when malformed
	}
	return c
}

func (b *treeBuilder) exhausted() bool { return b.pos >= len(b.in) }

var treeWords = []string{"alpha", "report", "meeting", "budget", "café", "naïve", "q3", "--", "From", "=3D", "line", "x"}

// words returns n words of the vocabulary chosen by the shape; only ASCII
// ones when the message is to be well-formed.
func (b *treeBuilder) words(n int) string {
	var w []string
	for i := 0; i < n; i++ {
		v := treeWords[int(b.next())%len(treeWords)]
		if b.wellFormed && (v == "café" || v == "naïve" || v == "--") {
			v = "word"
		}
		w = append(w, v)
	}
	return strings.Join(w, " ")
}

// entity writes the header fields of one entity that are not common to
// all (the caller writes those), the blank line and the body.
func (b *treeBuilder) entity(out *bytes.Buffer, depth int, parent string) {
	b.parts++
	b.depth = max(b.depth, depth)
	op := b.next() % 8
	if b.exhausted() || b.parts >= maxTreeParts || b.size >= maxTreeBytes {
		op = 0
	}
	switch op {
	case 0, 1:
		b.text(out, op == 1)
	case 2:
		b.binary(out)
	case 3, 4:
		b.multipart(out, depth, parent)
	case 5:
		b.message(out, depth)
	case 6:
		b.chain(out, depth)
	default:
		b.extras(out)
	}
}

// text writes a text/plain or text/html leaf.
func (b *treeBuilder) text(out *bytes.Buffer, html bool) {
	sub := "plain"
	if html {
		sub = "html"
	}
	switch c := b.next() % 5; {
	case c == 0 && !b.wellFormed:
		out.WriteString("Content-Type: text/" + sub + "; charset\r\n") // invalid parameter
	case c == 1:
		out.WriteString("Content-Type: text/" + sub + "; charset=\"iso-8859-1\"; format=flowed\r\nContent-Transfer-Encoding: quoted-printable\r\n")
	default:
		out.WriteString("Content-Type: text/" + sub + "; charset=utf-8\r\n")
	}
	out.WriteString("\r\n")
	b.lines(out, int(b.next()%9))
}

// lines writes n lines of words, each ended by CRLF.
func (b *treeBuilder) lines(out *bytes.Buffer, n int) {
	for i := 0; i < n; i++ {
		l := b.words(int(b.next()%6)) + "\r\n"
		if b.wellFormed && strings.HasPrefix(l, "From ") {
			l = ">" + l
		}
		out.WriteString(l)
		b.size += len(l)
	}
}

// binary writes a base64 attachment.
func (b *treeBuilder) binary(out *bytes.Buffer) {
	n := int(b.next()) * 31
	data := bytes.Repeat([]byte{b.next()}, n)
	types := []string{"application/pdf", "image/png", "application/octet-stream", "application/zip"}
	t := types[int(b.next())%len(types)]
	fmt.Fprintf(out, "Content-Type: %s; name=\"file %d.bin\"\r\nContent-Transfer-Encoding: base64\r\n", t, n)
	if b.next()%2 == 0 {
		fmt.Fprintf(out, "Content-Disposition: attachment; filename=\"file %d.bin\"\r\n", n)
	} else {
		fmt.Fprintf(out, "Content-Disposition: attachment; filename*=utf-8''r%%C3%%A9sum%%C3%%A9%d.pdf\r\n", n)
	}
	out.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		out.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc + "\r\n")
	b.size += n * 4 / 3
}

// extras writes a leaf with every optional MIME field.
func (b *treeBuilder) extras(out *bytes.Buffer) {
	out.WriteString("Content-Type: text/plain; charset=us-ascii\r\nContent-ID: <part@example.com>\r\nContent-Description: " + b.words(2) + "\r\n")
	out.WriteString("Content-Transfer-Encoding: 7bit\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\nContent-Language: en, de\r\n")
	out.WriteString("Content-Location: http://example.com/x\r\nContent-Disposition: inline; size=42\r\n\r\n")
	b.lines(out, int(b.next()%4))
}

// multipart writes a multipart with 1 to 4 parts.
func (b *treeBuilder) multipart(out *bytes.Buffer, depth int, parent string) {
	subs := []string{"mixed", "alternative", "related", "parallel", "digest"}
	sub := subs[int(b.next())%len(subs)]
	b.boundaries++
	boundary := fmt.Sprintf("=_b%d_%d", depth, b.boundaries)
	defect := !b.wellFormed && b.next()%3 == 0
	switch {
	case defect && b.next()%2 == 0:
		out.WriteString("Content-Type: multipart/" + sub + "\r\n") // no boundary
	default:
		out.WriteString("Content-Type: multipart/" + sub + "; boundary=\"" + boundary + "\"\r\n")
	}
	if b.next()%3 == 0 {
		out.WriteString("Content-Disposition: inline\r\nContent-Language: fr\r\n")
	}
	out.WriteString("\r\n")
	if b.next()%2 == 0 {
		out.WriteString("This is a multi-part message in MIME format.\r\n")
	}
	n := 1 + int(b.next()%4)
	for i := 0; i < n; i++ {
		out.WriteString("\r\n--" + boundary + "\r\n")
		if sub == "digest" && b.wellFormed {
			// Every part's Content-Type is written out (a digest's default
			// is message/rfc822, RFC 2046 section 5.1.5).
			b.message(out, depth+1)
			continue
		}
		b.entity(out, depth+1, "multipart/"+sub)
	}
	if !(defect && b.next()%2 == 0) {
		out.WriteString("\r\n--" + boundary + "--\r\n")
	}
	if b.next()%2 == 0 {
		out.WriteString("epilogue\r\n")
	}
}

// message writes a message/rfc822 part holding one more message.
func (b *treeBuilder) message(out *bytes.Buffer, depth int) {
	out.WriteString("Content-Type: message/rfc822\r\n\r\n")
	b.depth = max(b.depth, depth+1)
	fmt.Fprintf(out, "From: Carl <carl%d@example.net>\r\nSubject: %s\r\nDate: Tue, 3 Mar 2026 09:00:00 -0500\r\n", depth, b.words(2))
	if b.next()%2 == 0 {
		fmt.Fprintf(out, "Message-ID: <m%d@example.net>\r\nIn-Reply-To: <top@example.com>\r\n", depth)
	}
	b.entity(out, depth+1, "")
}

// chain writes message/rfc822 parts nested n deep around a text leaf,
// like the message of issue 12.
func (b *treeBuilder) chain(out *bytes.Buffer, depth int) {
	n := min(int(b.next())*int(b.next()%16+1), maxTreeChain)
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(out, "Content-Type: message/rfc822\r\n\r\nSubject: l%d\r\n", i)
	}
	out.WriteString("Content-Type: text/plain\r\n\r\ninner\r\n")
	b.depth = max(b.depth, depth+n)
	b.parts += n
}
