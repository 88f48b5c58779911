package ui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/letterbox-mail/letterbox/accounts"
)

// readerModel shows one message: the headers, the text (HTML rendered as
// text), quoted lines dimmed, long lines wrapped, and the attachments,
// one of which is selected for save (S) and open (o).
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
}

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
	r.vp.SetContent("")
	r.vp.GotoTop()
	id := r.id
	return r, func() tea.Msg {
		rd, err := b.Render(ctx, m.ID)
		return renderedMsg{id: id, msg: m, r: rd, err: err}
	}
}

func (r readerModel) setSize(w, h int) readerModel {
	r.width, r.height = w, h
	r.vp.Width, r.vp.Height = w, max(1, h)
	r.vp.SetContent(r.content())
	return r
}

// attachment returns the selected attachment (the first when none is).
func (r readerModel) attachment() (accounts.Attachment, bool) {
	if r.r == nil || len(r.r.Attachments) == 0 {
		return accounts.Attachment{}, false
	}
	return r.r.Attachments[max(r.att, 0)], true
}

func (r readerModel) Update(msg tea.Msg) (readerModel, tea.Cmd) {
	switch msg := msg.(type) {
	case renderedMsg:
		if msg.id != r.id {
			return r, nil
		}
		r.loading = false
		r.r, r.err = msg.r, msg.err
		if msg.err != nil && msg.r == nil {
			r.vp.SetContent(r.content())
			return r, func() tea.Msg { return errMsg{msg.err} }
		}
		r.vp.SetContent(r.content())
		return r, nil
	case tea.KeyMsg:
		k := r.c.Keys
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
		case key.Matches(msg, k.NextAttachment):
			if r.r != nil && len(r.r.Attachments) > 0 {
				r.att = (r.att + 1) % len(r.r.Attachments)
				off := r.vp.YOffset
				r.vp.SetContent(r.content())
				r.vp.SetYOffset(off)
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

// content renders the message for the current width.
func (r readerModel) content() string {
	st := r.c.Styles
	w := max(10, r.width)
	var b strings.Builder
	if r.loading {
		return st.Dim.Render("loading…")
	}
	if r.r == nil {
		if r.err != nil {
			return st.Error.Render(ansi.Wrap("cannot show this message: "+r.err.Error(), w, ""))
		}
		return ""
	}
	keyW := 9
	for _, h := range r.r.Headers {
		if !shownHeader(h.Key) {
			continue
		}
		label := padRight(h.Key+":", keyW)
		val := ansi.Wrap(strings.ReplaceAll(h.Value, "\n", " "), max(1, w-keyW), "")
		lines := strings.Split(val, "\n")
		for i, ln := range lines {
			if i == 0 {
				b.WriteString(st.HeaderKey.Render(label) + st.HeaderValue.Render(ln) + "\n")
			} else {
				b.WriteString(strings.Repeat(" ", keyW) + st.HeaderValue.Render(ln) + "\n")
			}
		}
	}
	if r.r.FromHTML {
		b.WriteString(st.Dim.Render("(HTML message shown as text)") + "\n")
	}
	for _, p := range r.r.Problems {
		b.WriteString(st.Warn.Render(truncate("! "+p, w)) + "\n")
	}
	b.WriteString(st.Separator.Render(strings.Repeat("─", w)) + "\n")
	b.WriteString(formatBody(r.r.Text, w, st.Body, st.Quote))
	if n := len(r.r.Attachments); n > 0 {
		b.WriteString("\n" + st.Separator.Render(strings.Repeat("─", w)) + "\n")
		b.WriteString(st.Label.Render(fmt.Sprintf("%d attachment(s) — tab selects, S saves, o opens", n)) + "\n")
		for i, a := range r.r.Attachments {
			name := a.Filename
			if name == "" {
				name = "(part " + a.Part + ")"
			}
			line := padRight(fmt.Sprintf(" [%d] %s  %s  %s", i+1, name, a.ContentType, humanSize(a.Size)), w)
			if i == r.att {
				b.WriteString(st.AttachmentSelected.Render(line) + "\n")
			} else {
				b.WriteString(st.Attachment.Render(line) + "\n")
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
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

// formatBody wraps text to w cells and dims quoted lines.
func formatBody(text string, w int, body, quote interface{ Render(...string) string }) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\t", "    ")
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		line = strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, line)
		style := body
		if strings.HasPrefix(strings.TrimLeft(line, " "), ">") {
			style = quote
		}
		if line == "" {
			b.WriteString("\n")
			continue
		}
		for _, wl := range strings.Split(ansi.Wrap(line, w, ""), "\n") {
			b.WriteString(style.Render(wl) + "\n")
		}
	}
	return b.String()
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
