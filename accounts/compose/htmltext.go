package compose

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlToText renders HTML as simple text for quoting or forwarding a
// message that has no plain-text part: block elements start new lines, list
// items get "- ", links keep their target as " <url>", images their alt
// text, and script, style and head contents are dropped. It works token by
// token, without building a tree, so hostile nesting costs nothing.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var t textBuilder
	skip := 0         // depth inside script, style, head, title...
	pre := 0          // depth inside pre
	var href []string // targets of the open links
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		name, hasAttr := z.TagName()
		a := atom.Lookup(name)
		attrs := map[string]string{}
		for hasAttr && tt != html.EndTagToken {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			attrs[string(k)] = string(v)
		}
		switch tt {
		case html.TextToken:
			if skip == 0 {
				t.text(string(z.Text()), pre > 0)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Noscript, atom.Template:
				if tt == html.StartTagToken {
					skip++
				}
			case atom.Br:
				t.newline()
			case atom.Li:
				t.block()
				t.raw("- ")
			case atom.Img:
				if alt := strings.TrimSpace(attrs["alt"]); alt != "" && skip == 0 {
					t.text("["+alt+"]", false)
				}
			case atom.A:
				href = append(href, attrs["href"])
			case atom.Pre:
				pre++
				t.block()
			case atom.Hr:
				t.block()
				t.raw("----")
				t.block()
			default:
				if isBlock(a) {
					t.block()
				}
			}
		case html.EndTagToken:
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Noscript, atom.Template:
				skip = max(skip-1, 0)
			case atom.A:
				if n := len(href); n > 0 {
					if u := href[n-1]; skip == 0 && linkWorthShowing(u) {
						t.raw(" <" + u + ">")
					}
					href = href[:n-1]
				}
			case atom.Pre:
				pre = max(pre-1, 0)
				t.block()
			default:
				if isBlock(a) {
					t.block()
				}
			}
		}
	}
	return t.String()
}

// isBlock reports elements that stand on lines of their own.
func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Blockquote, atom.Table, atom.Tr, atom.Ul, atom.Ol,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Section,
		atom.Article, atom.Header, atom.Footer, atom.Dl, atom.Dt, atom.Dd, atom.Address:
		return true
	}
	return false
}

// linkWorthShowing keeps web and mail links, not anchors or scripts.
func linkWorthShowing(u string) bool {
	l := strings.ToLower(strings.TrimSpace(u))
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "mailto:")
}

// textBuilder collects rendered text, collapsing white space outside pre
// and allowing at most one empty line between blocks.
type textBuilder struct {
	b       strings.Builder
	pending int  // newlines owed before the next text
	space   bool // a space is owed before the next text
}

func (t *textBuilder) text(s string, pre bool) {
	if pre {
		t.raw(normalizeNewlines(s))
		return
	}
	for i, f := range strings.Fields(s) {
		if i > 0 || t.space || startsWithSpace(s) {
			t.space = true
		}
		t.raw(f)
	}
	t.space = endsWithSpace(s)
}

func (t *textBuilder) raw(s string) {
	if s == "" {
		return
	}
	if t.b.Len() > 0 {
		if t.pending > 0 {
			t.b.WriteString(strings.Repeat("\n", min(t.pending, 2)))
		} else if t.space {
			t.b.WriteByte(' ')
		}
	}
	t.pending, t.space = 0, false
	t.b.WriteString(s)
}

func (t *textBuilder) newline() { t.pending++ }

func (t *textBuilder) block() { t.pending = max(t.pending, 2) }

func (t *textBuilder) String() string { return t.b.String() }

func startsWithSpace(s string) bool {
	return s != "" && strings.ContainsRune(" \t\r\n\f", rune(s[0]))
}

func endsWithSpace(s string) bool {
	return s != "" && strings.ContainsRune(" \t\r\n\f", rune(s[len(s)-1]))
}
