package ui

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/letterbox-mail/letterbox/accounts"
)

// readerModel shows one message: the headers, the attachments in one
// line, the text (HTML rendered as text; see reflow.go for the layout)
// with its links numbered, quoted lines dimmed, and the attachments
// again in full, one of which is selected for save (S) and open (o).
// The text can be searched (/, n, N: the hits are marked and the view
// goes to them); the header line shows the scroll position.
//
// The content is kept as lines of styled segments whose plain text is
// what the search reads; the viewport gets them rendered, with the hits
// marked.
type readerModel struct {
	c       *Common
	id      int // of the latest render request
	msg     accounts.Message
	r       *accounts.Rendered
	err     error
	loading bool
	att     int // selected attachment, -1 for none
	vp      viewport.Model
	width   int
	height  int
	lines   []rline  // the content at this width
	links   []string // the text's links, numbered from 1
	find    string   // the search in the message
	hits    []hit
	hit     int // current hit
}

// seg is a run of text in one style; rline is one line of segments.
type seg struct {
	text  string
	style lipgloss.Style
}

type rline []seg

func (l rline) plain() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.text)
	}
	return b.String()
}

// hit is one match of the search: line, and rune offsets in its plain
// text.
type hit struct{ line, from, to int }

func newReader(c *Common) readerModel {
	vp := viewport.New(0, 0)
	vp.MouseWheelEnabled = true
	vp.KeyMap = viewport.KeyMap{} // keys are ours (KeyMap)
	return readerModel{c: c, att: -1, vp: vp}
}

// open starts rendering m.
func (r readerModel) open(ctx context.Context, b Backend, m accounts.Message) (readerModel, tea.Cmd) {
	r.id++
	r.msg, r.r, r.err, r.loading, r.att = m, nil, nil, true, -1
	r.find, r.hits, r.hit, r.links = "", nil, 0, nil
	r = r.rebuild()
	r.vp.GotoTop()
	id := r.id
	return r, func() tea.Msg {
		rd, err := b.Render(ctx, m.ID)
		return renderedMsg{id: id, msg: m, r: rd, err: err}
	}
}

// reload renders the message showing again (a sync may have brought the
// body of a message it had only the header of); the view keeps its
// place.
func (r readerModel) reload(ctx context.Context, b Backend) tea.Cmd {
	id, m := r.id, r.msg
	return func() tea.Msg {
		rd, err := b.Render(ctx, m.ID)
		if err != nil {
			// Gone meanwhile (moved, expunged): what is shown stays.
			return nil
		}
		return renderedMsg{id: id, msg: m, r: rd, again: true}
	}
}

func (r readerModel) setSize(w, h int) readerModel {
	r.width, r.height = w, h
	r.vp.Width, r.vp.Height = w, max(1, h)
	return r.rebuild()
}

// rebuild lays the content out again (new message, width, selected
// attachment) and keeps the scroll position.
func (r readerModel) rebuild() readerModel {
	off := r.vp.YOffset
	r.lines, r.links = r.layout()
	r = r.search()
	r.vp.SetContent(r.render())
	r.vp.SetYOffset(off)
	return r
}

// attachment returns the selected attachment (the first when none is).
func (r readerModel) attachment() (accounts.Attachment, bool) {
	if r.r == nil || len(r.r.Attachments) == 0 {
		return accounts.Attachment{}, false
	}
	return r.r.Attachments[max(r.att, 0)], true
}

// link returns link n (from 1).
func (r readerModel) link(n int) (string, bool) {
	if n < 1 || n > len(r.links) {
		return "", false
	}
	return r.links[n-1], true
}

func (r readerModel) Update(msg tea.Msg) (readerModel, tea.Cmd) {
	switch msg := msg.(type) {
	case renderedMsg:
		if msg.id != r.id {
			return r, nil
		}
		r.loading = false
		r.r, r.err = msg.r, msg.err
		r = r.rebuild()
		if !msg.again {
			r.vp.GotoTop()
		}
		if msg.err != nil && msg.r == nil {
			return r, func() tea.Msg { return errMsg{msg.err} }
		}
		return r, nil
	case tea.KeyMsg:
		k := r.c.ReaderKeys
		switch {
		case key.Matches(msg, k.Down):
			r.vp.ScrollDown(1)
		case key.Matches(msg, k.Up):
			r.vp.ScrollUp(1)
		case key.Matches(msg, k.PageDown):
			r.vp.PageDown()
		case key.Matches(msg, k.PageUp):
			r.vp.PageUp()
		case key.Matches(msg, k.HalfDown):
			r.vp.HalfPageDown()
		case key.Matches(msg, k.HalfUp):
			r.vp.HalfPageUp()
		case key.Matches(msg, k.Top):
			r.vp.GotoTop()
		case key.Matches(msg, k.Bottom):
			r.vp.GotoBottom()
		case key.Matches(msg, k.NextMatch):
			r = r.nextHit(1)
		case key.Matches(msg, k.PrevMatch):
			r = r.nextHit(-1)
		case key.Matches(msg, k.NextAttachment):
			if r.r != nil && len(r.r.Attachments) > 0 {
				r.att = (r.att + 1) % len(r.r.Attachments)
				r = r.rebuild()
				r.vp.GotoBottom()
			}
		}
		return r, nil
	case tea.MouseMsg:
		var cmd tea.Cmd
		r.vp, cmd = r.vp.Update(msg)
		return r, cmd
	}
	return r, nil
}

// layout builds the content lines for the current width.
func (r readerModel) layout() ([]rline, []string) {
	st := r.c.Styles
	w := max(10, r.width)
	var out []rline
	text := func(s string, style lipgloss.Style) {
		for _, l := range strings.Split(s, "\n") {
			out = append(out, rline{{l, style}})
		}
	}
	if r.loading {
		text("loading…", st.Dim)
		return out, nil
	}
	if r.r == nil {
		if r.err != nil {
			text(ansi.Wrap("cannot show this message: "+r.err.Error(), w, ""), st.Error)
		}
		return out, nil
	}
	const keyW = 9
	for _, h := range r.r.Headers {
		if !shownHeader(h.Key) {
			continue
		}
		val := ansi.Wrap(strings.ReplaceAll(h.Value, "\n", " "), max(1, w-keyW), "")
		for i, ln := range strings.Split(val, "\n") {
			label := strings.Repeat(" ", keyW)
			if i == 0 {
				label = padRight(h.Key+":", keyW)
			}
			out = append(out, rline{{label, st.HeaderKey}, {ln, st.HeaderValue}})
		}
	}
	if n := len(r.r.Attachments); n > 0 {
		// The attachments in one line above the text, as well as in
		// full below it.
		var parts []string
		for i, a := range r.r.Attachments {
			parts = append(parts, fmt.Sprintf("[%d] %s (%s)", i+1, attachmentName(a), humanSize(a.Size)))
		}
		val := ansi.Wrap(strings.Join(parts, ", "), max(1, w-keyW), "")
		for i, ln := range strings.Split(val, "\n") {
			label := strings.Repeat(" ", keyW)
			if i == 0 {
				label = padRight("Attach:", keyW)
			}
			out = append(out, rline{{label, st.HeaderKey}, {ln, st.Attachment}})
		}
	}
	if r.r.FromHTML {
		text("(HTML message shown as text; v opens it in the browser)", st.Dim)
	}
	for _, p := range r.r.Problems {
		text(truncate("! "+p, w), st.Warn)
	}
	sep := rline{{strings.Repeat("─", w), st.Separator}}
	out = append(out, sep)
	if r.r.Partial {
		// Synced header first: the text shows when the sync brings it
		// (the reader renders again after every sync).
		text(ansi.Wrap("The text of this message is still being downloaded; it shows here when the sync brings it.", w, ""), st.Dim)
		return out, nil
	}
	body, links := numberLinks(r.r.Text)
	for _, l := range layoutBody(body, r.bodyWidth()) {
		if l.depth == 0 {
			out = append(out, rline{{l.text, st.Body}})
			continue
		}
		prefix := strings.Repeat(">", l.depth)
		if l.text != "" {
			prefix += " "
		}
		out = append(out, rline{{prefix + l.text, st.Quote}})
	}
	if n := len(r.r.Attachments); n > 0 {
		out = append(out, rline{}, sep)
		text(plural(n, "attachment")+" — tab selects, S saves, o opens", st.Label)
		for i, a := range r.r.Attachments {
			line := padRight(fmt.Sprintf(" [%d] %s  %s  %s", i+1, attachmentName(a), a.ContentType, humanSize(a.Size)), w)
			style := st.Attachment
			if i == r.att {
				style = st.AttachmentSelected
			}
			out = append(out, rline{{line, style}})
		}
	}
	return out, links
}

func attachmentName(a accounts.Attachment) string {
	if a.Filename == "" {
		return "(part " + a.Part + ")"
	}
	return truncate(a.Filename, 60)
}

// bodyWidth is the width the text is laid out at: the window's, at most
// the wrap width ([ui] wrap, 0 for the window's).
func (r readerModel) bodyWidth() int {
	w := max(10, r.width)
	if r.c.Wrap > 0 {
		w = min(w, max(20, r.c.Wrap))
	}
	return w
}

// body is the message's text as laid out, plain (for tests).
func (r readerModel) body() string {
	var b strings.Builder
	in := false
	for _, l := range r.lines {
		p := l.plain()
		if !in {
			in = strings.HasPrefix(p, "─") && len(l) == 1
			continue
		}
		b.WriteString(p + "\n")
	}
	return b.String()
}

// content is the whole content as rendered.
func (r readerModel) content() string { return r.render() }

// render draws the lines, the search hits marked.
func (r readerModel) render() string {
	st := r.c.Styles
	byLine := map[int][]int{} // line → indexes into hits
	for i, h := range r.hits {
		byLine[h.line] = append(byLine[h.line], i)
	}
	var b strings.Builder
	for n, l := range r.lines {
		if n > 0 {
			b.WriteByte('\n')
		}
		hs := byLine[n]
		if len(hs) == 0 {
			for _, s := range l {
				if s.text != "" {
					b.WriteString(s.style.Render(s.text))
				}
			}
			continue
		}
		pos := 0 // rune offset of the segment in the line
		for _, s := range l {
			rs := []rune(s.text)
			start := 0
			for _, hi := range hs {
				h := r.hits[hi]
				from, to := max(h.from-pos, start), min(h.to-pos, len(rs))
				if from >= to {
					continue
				}
				if from > start {
					b.WriteString(s.style.Render(string(rs[start:from])))
				}
				style := st.Match
				if hi == r.hit {
					style = st.MatchCurrent
				}
				b.WriteString(style.Render(string(rs[from:to])))
				start = to
			}
			if start < len(rs) {
				b.WriteString(s.style.Render(string(rs[start:])))
			}
			pos += len(rs)
		}
	}
	return b.String()
}

// setFind searches the message for s (case-insensitive) and shows the
// first hit at or below the top of the view.
func (r readerModel) setFind(s string) readerModel {
	if s == r.find {
		return r
	}
	r.find = s
	r = r.search()
	r.hit = 0
	for i, h := range r.hits {
		if h.line >= r.vp.YOffset {
			r.hit = i
			break
		}
	}
	r.vp.SetContent(r.render())
	return r.showHit()
}

// search finds the hits of r.find in the lines.
func (r readerModel) search() readerModel {
	r.hits = nil
	needle := []rune(r.find)
	for i := range needle {
		needle[i] = unicode.ToLower(needle[i])
	}
	if len(needle) == 0 {
		return r
	}
	for n, l := range r.lines {
		hay := []rune(l.plain())
		for i := range hay {
			hay[i] = unicode.ToLower(hay[i])
		}
		for i := 0; i+len(needle) <= len(hay); i++ {
			if string(hay[i:i+len(needle)]) == string(needle) {
				r.hits = append(r.hits, hit{line: n, from: i, to: i + len(needle)})
				i += len(needle) - 1
			}
		}
	}
	r.hit = min(r.hit, max(0, len(r.hits)-1))
	return r
}

// nextHit moves to the next (dir 1) or previous hit, wrapping around.
func (r readerModel) nextHit(dir int) readerModel {
	if len(r.hits) == 0 {
		return r
	}
	r.hit = ((r.hit+dir)%len(r.hits) + len(r.hits)) % len(r.hits)
	r.vp.SetContent(r.render())
	return r.showHit()
}

// showHit scrolls so the current hit is on screen, a third down.
func (r readerModel) showHit() readerModel {
	if len(r.hits) == 0 {
		return r
	}
	line := r.hits[r.hit].line
	if line < r.vp.YOffset || line >= r.vp.YOffset+r.vp.Height {
		r.vp.SetYOffset(max(0, line-r.vp.Height/3))
	}
	return r
}

// position is "lines 1–38/120" and, searching, "match 2/5".
func (r readerModel) position() []string {
	var parts []string
	if total := len(r.lines); total > 0 {
		last := min(total, r.vp.YOffset+r.vp.Height)
		if r.vp.YOffset == 0 && last == total {
			parts = append(parts, fmt.Sprintf("%s, all shown", plural(total, "line")))
		} else {
			parts = append(parts, fmt.Sprintf("lines %d–%d/%d", r.vp.YOffset+1, last, total))
		}
	}
	if r.find != "" {
		if len(r.hits) == 0 {
			parts = append(parts, fmt.Sprintf("%q not found", r.find))
		} else {
			parts = append(parts, fmt.Sprintf("match %d/%d", r.hit+1, len(r.hits)))
		}
	}
	return parts
}

// shownHeader reports whether a header is displayed (the store gives
// Date, From, To, Cc, Subject and a few more).
func shownHeader(k string) bool {
	switch strings.ToLower(k) {
	case "date", "from", "to", "cc", "subject", "reply-to":
		return true
	}
	return false
}

// humanSize is "120 KB".
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func (r readerModel) View() string {
	return r.vp.View()
}

// wrapText wraps plain text to w cells.
func wrapText(s string, w int) string { return ansi.Wrap(s, max(10, w), "") }
