package ui

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// The reader's text layout: one rule for plain and HTML mail. The body
// is laid out at the wrap width (the window's, at most [ui] wrap cells,
// 80 by default), and
//   - format=flowed text (RFC 3676 §4.2: a line ending in a space goes
//     on in the next line of the same quote depth; the signature
//     separator "-- " does not) is joined, then wrapped;
//   - a paragraph of hard-wrapped prose (lines of the same quote depth,
//     none indented, no list item starting inside it) that is wider
//     than the wrap width is joined and wrapped again, so 72-column
//     mail reads evenly in 60 columns instead of in long and short
//     lines;
//   - anything else keeps its lines (code, tables, signatures) and
//     lines too long are broken at the width;
//   - quoted text keeps its quote marks ("> > " becomes ">> ") on every
//     line it wraps to.

// defaultWrap is the wrap width when [ui] wrap is not set.
const defaultWrap = 80

// bodyLine is one line of the text: its quote depth, its content, and
// whether it flows into the next line (format=flowed).
type bodyLine struct {
	depth   int
	text    string
	flowed  bool
	literal bool // indented or tabular: kept as it is
}

// parseBody splits text into lines with their quote depths.
func parseBody(text string) []bodyLine {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\t", "    ")
	raw := strings.Split(strings.TrimRight(text, "\n"), "\n")
	out := make([]bodyLine, 0, len(raw))
	for _, line := range raw {
		line = strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, line)
		depth, rest := 0, line
		for {
			t := strings.TrimLeft(rest, " ")
			if !strings.HasPrefix(t, ">") || len(rest)-len(t) > 1 && depth == 0 {
				break
			}
			depth++
			rest = t[1:]
		}
		if depth > 0 {
			rest = strings.TrimPrefix(rest, " ")
		}
		bl := bodyLine{depth: depth, text: rest}
		if strings.HasSuffix(rest, " ") && rest != "-- " && strings.TrimSpace(rest) != "" {
			bl.flowed = true
			bl.text = strings.TrimRight(rest, " ")
		}
		bl.literal = strings.HasPrefix(rest, "  ") || strings.Contains(strings.TrimSpace(rest), "   ") || rest == "-- "
		out = append(out, bl)
	}
	return out
}

// listItem reports a line that starts a list item ("- ", "* ", "1. ").
func listItem(s string) bool {
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "* ") || strings.HasPrefix(s, "• ") {
		return true
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i < len(s)-1 && (s[i] == '.' || s[i] == ')') && s[i+1] == ' '
}

// layoutBody returns the display lines of text at width w, each with
// its quote depth.
func layoutBody(text string, w int) []bodyLine {
	lines := parseBody(text)
	var out []bodyLine
	emit := func(depth int, s string, literal bool) {
		pw := 0
		if depth > 0 {
			pw = depth + 1
		}
		avail := max(10, w-pw)
		if s == "" {
			out = append(out, bodyLine{depth: depth})
			return
		}
		wrapped := ansi.Wrap(s, avail, "")
		if literal {
			wrapped = ansi.Hardwrap(s, avail, true)
		}
		for _, wl := range strings.Split(wrapped, "\n") {
			if !literal {
				wl = strings.TrimRightFunc(wl, unicode.IsSpace)
			}
			out = append(out, bodyLine{depth: depth, text: wl})
		}
	}
	for i := 0; i < len(lines); {
		l := lines[i]
		if l.text == "" && !l.flowed {
			emit(l.depth, "", false)
			i++
			continue
		}
		// A paragraph: this line and those that follow it at the same
		// depth, joined when flowed or when it is prose too wide.
		j := i + 1
		for j < len(lines) && lines[j].depth == l.depth && lines[j].text != "" && (lines[j-1].flowed || !lines[j].literal && !listItem(lines[j].text) && !lines[j-1].literal) {
			j++
		}
		para := lines[i:j]
		pw := 0
		if l.depth > 0 {
			pw = l.depth + 1
		}
		wide, literal := false, false
		for _, p := range para {
			wide = wide || ansi.StringWidth(p.text)+pw > w
			literal = literal || p.literal && !p.flowed
		}
		var cur []string
		flush := func(lit bool) {
			if len(cur) > 0 {
				emit(l.depth, strings.Join(cur, " "), lit)
				cur = cur[:0]
			}
		}
		for k, p := range para {
			cur = append(cur, p.text)
			joined := p.flowed || wide && !literal
			if !joined || k == len(para)-1 {
				flush(p.literal && !p.flowed)
			}
		}
		i = j
	}
	return out
}
