package compose

import (
	"strings"
	"unicode/utf8"
)

// flowedWidth is the longest line encodeFlowed writes, in characters,
// counting the trailing space of a soft line break (RFC 3676 section 4.2
// asks for at most 78).
const flowedWidth = 78

// sigSeparator is the signature separator line, which is never flowed
// (RFC 3676 section 4.3).
const sigSeparator = "-- "

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// encodeFlowed encodes text as format=flowed, DelSp=no (RFC 3676): each
// line of the text is a paragraph; a line longer than flowedWidth is cut
// after a space into lines that end with that space (soft breaks); trailing
// spaces of the text's own lines are removed so that they stay hard breaks.
// Quoted lines keep their ">" prefix on every piece. Lines that start with a
// space, "From " or ">" (when not a quotation) are space-stuffed. The
// result has CRLF line ends and no final line end.
func encodeFlowed(text string) string {
	lines := strings.Split(normalizeNewlines(text), "\n")
	var b strings.Builder
	b.Grow(len(text) + len(text)/32)
	for i, line := range lines {
		if i > 0 {
			b.WriteString("\r\n")
		}
		if line == sigSeparator {
			b.WriteString(line)
			continue
		}
		depth := quoteDepth(line)
		content := line[depth:]
		if depth > 0 {
			content = strings.TrimPrefix(content, " ")
		}
		content = strings.TrimRight(content, " \t")
		prefix := strings.Repeat(">", depth)
		avail := max(flowedWidth-depth-1, 20)
		for j, piece := range wrapFlowed(content, avail) {
			if j > 0 {
				b.WriteString("\r\n")
			}
			b.WriteString(prefix)
			switch {
			case depth > 0 && piece != "":
				b.WriteByte(' ') // "> text": the space is stuffing
			case depth == 0 && needsStuffing(piece):
				b.WriteByte(' ')
			}
			b.WriteString(piece)
		}
	}
	return b.String()
}

// quoteDepth counts the ">" that start a line (RFC 3676 section 4.5).
func quoteDepth(line string) int {
	n := 0
	for n < len(line) && line[n] == '>' {
		n++
	}
	return n
}

// needsStuffing reports an unquoted line that a reader would take for
// something else: a stuffed or quoted line, or an mbox "From " line
// (RFC 3676 section 4.4).
func needsStuffing(line string) bool {
	return strings.HasPrefix(line, " ") || strings.HasPrefix(line, ">") || strings.HasPrefix(line, "From ")
}

// wrapFlowed cuts s into pieces of at most width characters, each but the
// last ending with the space it was cut after. A word longer than width is
// not split: its piece runs to the next space.
func wrapFlowed(s string, width int) []string {
	var out []string
	for count := utf8.RuneCountInString(s); count > width; {
		// The byte offset of the width-th character bounds the search.
		limit := 0
		for n := 0; n < width; n++ {
			_, size := utf8.DecodeRuneInString(s[limit:])
			limit += size
		}
		cut := strings.LastIndexByte(s[:limit], ' ')
		if cut <= 0 {
			next := strings.IndexByte(s[limit:], ' ')
			if next < 0 {
				break
			}
			cut = limit + next
		}
		if cut == len(s)-1 {
			break // only the trailing space would move: keep it whole
		}
		out = append(out, s[:cut+1])
		count -= utf8.RuneCountInString(s[:cut+1])
		s = s[cut+1:]
	}
	return append(out, s)
}

// decodeFlowed undoes format=flowed (RFC 3676 section 4.2): space-stuffing
// is removed and lines ending in a space are joined with the next line of
// the same quote depth. With delSp the joining space is deleted too. The
// result has LF line ends; quoted lines are written "> text" (">> text"
// for depth two).
func decodeFlowed(text string, delSp bool) string {
	lines := strings.Split(strings.TrimSuffix(normalizeNewlines(text), "\n"), "\n")
	var b strings.Builder
	b.Grow(len(text))
	var para strings.Builder
	paraDepth, open, written := 0, false, false
	flush := func() {
		if !open {
			return
		}
		if written {
			b.WriteByte('\n')
		}
		written = true
		if paraDepth > 0 {
			b.WriteString(strings.Repeat(">", paraDepth))
			if para.Len() > 0 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(para.String())
		para.Reset()
		open = false
	}
	for _, line := range lines {
		depth := quoteDepth(line)
		content := strings.TrimPrefix(line[depth:], " ")
		if open && depth != paraDepth {
			flush() // a change of depth ends a paragraph
		}
		paraDepth, open = depth, true
		if content == sigSeparator || !strings.HasSuffix(content, " ") {
			para.WriteString(content)
			flush()
			continue
		}
		if delSp {
			content = content[:len(content)-1]
		}
		para.WriteString(content)
	}
	flush()
	return b.String()
}
