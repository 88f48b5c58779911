package mailgen

import (
	"bytes"
	"fmt"
	"html"
	"strings"
)

// blockKind is the role of one block of a message body.
type blockKind uint8

// The kinds of block.
const (
	bLine      blockKind = iota // greeting, sign-off: one short line
	bPara                       // a paragraph, wrapped in text/plain
	bCJK                        // a paragraph whose sentences are lines
	bLink                       // a URL on a line of its own
	bSig                        // a signature; lines kept
	bQuoteHead                  // "On ..., X wrote:"
	bQuote                      // a quoted paragraph at some depth
	bRaw                        // a text/plain line kept verbatim
)

// block is one piece of a body; a body is rendered as text/plain, as
// text/html, or both, from the same blocks.
type block struct {
	kind  blockKind
	depth int // quote depth for bQuote
	text  string
}

// renderPlain appends blocks to dst as text/plain with "\n" line ends,
// quotes prefixed with ">".
func renderPlain(dst []byte, blocks []block) []byte {
	for i, b := range blocks {
		if i > 0 {
			prev := blocks[i-1]
			switch {
			case prev.kind == bQuoteHead:
				dst = append(dst, '\n')
			case prev.kind == bQuote && b.kind == bQuote:
				dst = append(dst, '\n')
				dst = append(dst, quoteMarks[:min(prev.depth, b.depth)]...)
				dst = append(dst, '\n')
			default:
				dst = append(dst, "\n\n"...)
			}
		}
		switch b.kind {
		case bSig:
			dst = append(dst, "-- \n"...)
			dst = append(dst, b.text...)
		case bQuote:
			for j, line := range strings.Split(wrap(b.text, 72-b.depth-1), "\n") {
				if j > 0 {
					dst = append(dst, '\n')
				}
				dst = append(dst, quoteMarks[:b.depth]...)
				dst = append(dst, ' ')
				dst = append(dst, line...)
			}
		default:
			dst = append(dst, b.text...)
		}
	}
	return append(dst, '\n')
}

// quoteMarks supplies the ">" of quote prefixes, up to depth 12.
const quoteMarks = ">>>>>>>>>>>>"

// blockquoteOpen starts a quoted block in HTML, as Gmail and Thunderbird do.
const blockquoteOpen = `<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">`

// renderHTML appends blocks to dst as an HTML document declaring charset
// cs. Some words become links to linkHost; lines are broken outside tags
// near 76 columns so the part stays valid in 7bit and 8bit.
func (g *Generator) renderHTML(dst []byte, blocks []block, cs, linkHost string) []byte {
	start := len(dst)
	dst = append(dst, "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset="...)
	dst = append(dst, cs...)
	dst = append(dst, "\">\n</head>\n<body>\n<div dir=\"ltr\" style=\"font-family:Arial,Helvetica,sans-serif;font-size:14px\">\n"...)
	depth := 0
	for _, b := range blocks {
		want := 0
		if b.kind == bQuote {
			want = b.depth
		}
		for ; depth < want; depth++ {
			dst = append(dst, blockquoteOpen+"\n"...)
		}
		for ; depth > want; depth-- {
			dst = append(dst, "</blockquote>\n"...)
		}
		text := html.EscapeString(b.text)
		switch b.kind {
		case bPara, bQuote:
			dst = append(dst, "<p>"...)
			if b.kind == bPara && g.rng.pct(35) {
				dst = g.linkify(dst, text, linkHost)
			} else {
				dst = append(dst, text...)
			}
			dst = append(dst, "</p>\n"...)
		case bLink:
			dst = append(dst, `<p><a href="`+text+`">`+text+"</a></p>\n"...)
		case bSig:
			dst = append(dst, "<div class=\"signature\">-- <br>\n"...)
			dst = appendBR(dst, text)
			dst = append(dst, "</div>\n"...)
		case bCJK:
			dst = append(dst, "<p>"...)
			dst = appendBR(dst, text)
			dst = append(dst, "</p>\n"...)
		default:
			dst = append(dst, "<div>"...)
			dst = appendBR(dst, text)
			dst = append(dst, "</div>\n"...)
		}
	}
	for ; depth > 0; depth-- {
		dst = append(dst, "</blockquote>\n"...)
	}
	dst = append(dst, "</div>\n</body>\n</html>\n"...)
	wrapHTML(dst[start:], 76)
	return dst
}

// appendBR appends text with a <br> before each newline.
func appendBR(dst []byte, text string) []byte {
	for {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			return append(dst, text...)
		}
		dst = append(dst, text[:i]...)
		dst = append(dst, "<br>\n"...)
		text = text[i+1:]
	}
}

// linkify appends an escaped paragraph with one of its lower-case words
// made a link.
func (g *Generator) linkify(dst []byte, text, host string) []byte {
	var cand [][2]int
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && text[j] != ' ' && text[j] != '\n' {
			j++
		}
		if j-i >= 4 && isLower(text[i:j]) {
			cand = append(cand, [2]int{i, j})
		}
		i = j + 1
	}
	if len(cand) == 0 {
		return append(dst, text...)
	}
	c := cand[g.rng.intn(len(cand))]
	w := text[c[0]:c[1]]
	dst = append(dst, text[:c[0]]...)
	dst = fmt.Appendf(dst, `<a href="https://%s/%s/%d">%s</a>`, host, w, g.rng.between(1, 9999), w)
	return append(dst, text[c[1]:]...)
}

// isLower reports whether s is all ASCII lower-case letters.
func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// wrapHTML replaces, in place, a space outside tags by a newline once a
// line passes width bytes.
func wrapHTML(b []byte, width int) {
	col, inTag := 0, false
	for i, c := range b {
		switch {
		case c == '\n':
			col = 0
			continue
		case c == '<':
			inTag = true
		case c == '>':
			inTag = false
		case c == ' ' && !inTag && col >= width:
			b[i] = '\n'
			col = 0
			continue
		}
		col++
	}
}

// newsletter renders the HTML-only mail of an automated sender: a table
// layout with sections, images, tracking links and an unsubscribe footer.
func (g *Generator) newsletter(dst []byte, r *person, title string, sections []block, host string) []byte {
	sb := bytes.NewBuffer(dst)
	start := len(dst)
	sb.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>")
	sb.WriteString(html.EscapeString(title))
	sb.WriteString("</title>\n<style>body{margin:0;background:#f4f4f4}td{font-family:Helvetica,Arial,sans-serif}</style>\n</head>\n<body>\n")
	sb.WriteString("<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td align=\"center\">\n")
	sb.WriteString("<table width=\"600\" cellpadding=\"16\" cellspacing=\"0\" border=\"0\" style=\"background:#ffffff\">\n")
	fmt.Fprintf(sb, "<tr><td><img src=\"https://cdn.%s/logo.png\" alt=\"%s\" width=\"120\" height=\"40\"></td></tr>\n",
		host, html.EscapeString(r.full))
	for i, s := range sections {
		if s.kind != bPara {
			continue
		}
		heading := g.expand(nil, g.voc.subjects[g.rng.intn(len(g.voc.subjects))], "", style{})
		fmt.Fprintf(sb, "<tr><td><h2 style=\"font-size:18px;color:#222\">%s</h2>\n<p style=\"line-height:1.5\">%s</p>\n",
			html.EscapeString(string(heading)), html.EscapeString(s.text))
		if g.rng.pct(40) {
			fmt.Fprintf(sb, "<img src=\"https://cdn.%s/img/%d-%d.jpg\" width=\"568\" alt=\"\">\n", host, g.seq, i)
		}
		fmt.Fprintf(sb, "<p><a href=\"https://www.%s/p/%d?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=%d\" style=\"color:#0a66c2\">Read more</a></p></td></tr>\n",
			host, g.rng.between(1000, 99999), g.seq)
	}
	fmt.Fprintf(sb, "<tr><td style=\"font-size:11px;color:#888888\">You are receiving this email because you signed up at %s. "+
		"<a href=\"https://www.%s/unsubscribe?u=%x\">Unsubscribe</a> &middot; <a href=\"https://www.%s/privacy\">Privacy</a></td></tr>\n",
		host, host, g.rng.r.Int63(), host)
	sb.WriteString("</table>\n</td></tr></table>\n</body>\n</html>\n")
	out := sb.Bytes()
	wrapHTML(out[start:], 76)
	return out
}
