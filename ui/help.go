package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// helpModel is the overlay that ? opens: every binding of the key map,
// grouped, in as many columns as fit; j/k scroll when they do not.
type helpModel struct {
	c      *Common
	offset int
	width  int
	height int
}

func (h helpModel) lines() []string {
	st := h.c.Styles
	var out []string
	for _, g := range h.c.Keys.bindings() {
		out = append(out, st.Title.Render(g.title))
		for _, nk := range g.keys {
			hb := nk.b.Help()
			if !nk.b.Enabled() || hb.Key == "" {
				continue
			}
			out = append(out, " "+st.HelpKey.Render(padRight(hb.Key, 11))+" "+st.HelpDesc.Render(hb.Desc))
		}
		out = append(out, "")
	}
	return out
}

func (h helpModel) Update(msg tea.Msg) (helpModel, tea.Cmd) {
	if msg, ok := msg.(tea.KeyMsg); ok {
		k := h.c.Keys
		switch {
		case key.Matches(msg, k.Down):
			h.offset++
		case key.Matches(msg, k.Up):
			h.offset = max(0, h.offset-1)
		case key.Matches(msg, k.Top):
			h.offset = 0
		}
		h.offset = min(h.offset, max(0, len(h.lines())-1))
	}
	return h, nil
}

func (h helpModel) View() string {
	const colW = 36
	st := h.c.Styles
	body := h.height - 1
	lines := h.lines()[h.offset:]
	ncols := max(1, h.width/colW)
	var cols []string
	for c := 0; c < ncols && len(lines) > 0; c++ {
		n := min(body, len(lines))
		col := make([]string, n)
		for i := 0; i < n; i++ {
			col[i] = padRight(truncateStyled(lines[i], colW-1), colW)
		}
		cols = append(cols, strings.Join(col, "\n"))
		lines = lines[n:]
	}
	title := st.Title.Render("Keys") + st.Dim.Render("  (q or ? closes; j/k scroll; keys can be changed in ui.toml)")
	view := lipgloss.JoinVertical(lipgloss.Left, padRight(title, h.width), lipgloss.JoinHorizontal(lipgloss.Top, cols...))
	return fitBlock(view, h.width, h.height)
}

// fitBlock pads or cuts a block of lines to exactly w×h cells.
func fitBlock(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = padRight(l, w)
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}
