package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// helpModel is the overlay that ? opens: every binding of the key maps,
// in sections (Move, List, Messages, Reader, Composer, General), laid out
// in as many columns as fit. A section is never split across columns
// and an entry is never cut unless the screen is narrower than one
// entry; when the sections do not fit on the screen, the columns grow
// taller and j/k scroll them together.
type helpModel struct {
	c      *Common
	offset int
	width  int
	height int
}

// helpSection is a title and its entries (key, description).
type helpSection struct {
	title   string
	entries [][2]string
}

// sections lists the bindings shown. The Reader section takes its keys
// from the reader's map, and also shows the shared actions (paging) whose
// reader keys differ from the list's.
func (h helpModel) sections() []helpSection {
	list, reader := h.c.Keys, h.c.ReaderKeys
	var out []helpSection
	shared := map[string]key.Binding{}
	for _, g := range reader.bindings() {
		for _, nk := range g.keys {
			shared[nk.name] = *nk.b
		}
	}
	for _, g := range list.bindings() {
		sec := helpSection{title: g.title}
		add := func(b key.Binding) {
			if hb := b.Help(); b.Enabled() && hb.Key != "" {
				sec.entries = append(sec.entries, [2]string{hb.Key, hb.Desc})
			}
		}
		for _, nk := range g.keys {
			if g.screen == onReader {
				add(shared[nk.name])
			} else {
				add(*nk.b)
			}
		}
		if g.screen == onReader {
			for _, og := range list.bindings() {
				for _, nk := range og.keys {
					rb := shared[nk.name]
					if nk.screen&onReader != 0 && og.screen != onReader && strings.Join(rb.Keys(), "\x00") != strings.Join(nk.b.Keys(), "\x00") {
						add(rb)
					}
				}
			}
		}
		if len(sec.entries) > 0 {
			out = append(out, sec)
		}
	}
	return out
}

// layout returns the columns of lines (every column the same height,
// at least the body's) and the column width.
func (h helpModel) layout() ([][]string, int) {
	st := h.c.Styles
	secs := h.sections()
	keyW, descW := 0, 0
	for _, s := range secs {
		for _, e := range s.entries {
			keyW = max(keyW, ansiWidth(e[0]))
			descW = max(descW, ansiWidth(e[1]))
		}
	}
	colW := 1 + keyW + 1 + descW + 1
	ncols := max(1, h.width/colW)
	if ncols == 1 {
		colW = h.width
	}
	// Each section as lines, with a blank line after it.
	blocks := make([][]string, len(secs))
	tallest := 0
	for i, s := range secs {
		lines := []string{st.Title.Render(s.title)}
		for _, e := range s.entries {
			line := " " + st.HelpKey.Render(padRight(e[0], keyW)) + " " + st.HelpDesc.Render(e[1])
			lines = append(lines, truncateStyled(line, colW-1))
		}
		blocks[i] = append(lines, "")
		tallest = max(tallest, len(blocks[i]))
	}
	// The lowest column height at which the sections, whole, fit in
	// ncols columns, each going to the first column with room for it.
	body := max(1, h.height-1)
	for height := max(body, tallest); ; height++ {
		var cols [][]string
		for _, b := range blocks {
			placed := false
			for i := range cols {
				if len(cols[i])+len(b)-1 <= height { // the blank line may overflow
					cols[i] = append(cols[i], b...)
					placed = true
					break
				}
			}
			if !placed {
				cols = append(cols, b)
			}
		}
		if len(cols) <= ncols {
			for i := range cols {
				for len(cols[i]) < height {
					cols[i] = append(cols[i], "")
				}
				cols[i] = cols[i][:height]
			}
			return cols, colW
		}
	}
}

// maxOffset is how far the columns can scroll.
func (h helpModel) maxOffset() int {
	cols, _ := h.layout()
	return max(0, len(cols[0])-max(1, h.height-1))
}

func (h helpModel) Update(msg tea.Msg) (helpModel, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		k := h.c.Keys
		switch {
		case key.Matches(msg, k.Down):
			h.offset++
		case key.Matches(msg, k.Up):
			h.offset--
		case key.Matches(msg, k.PageDown), key.Matches(msg, k.HalfDown):
			h.offset += max(1, h.height/2)
		case key.Matches(msg, k.PageUp), key.Matches(msg, k.HalfUp):
			h.offset -= max(1, h.height/2)
		case key.Matches(msg, k.Top):
			h.offset = 0
		case key.Matches(msg, k.Bottom):
			h.offset = h.maxOffset()
		}
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelDown:
			h.offset += 3
		case tea.MouseButtonWheelUp:
			h.offset -= 3
		}
	}
	h.offset = clamp(h.offset, 0, h.maxOffset())
	return h, nil
}

func (h helpModel) View() string {
	st := h.c.Styles
	cols, colW := h.layout()
	body := max(1, h.height-1)
	off := clamp(h.offset, 0, max(0, len(cols[0])-body))
	rows := make([]string, 0, body)
	for y := off; y < min(len(cols[0]), off+body); y++ {
		var b strings.Builder
		for _, col := range cols {
			b.WriteString(padRight(col[y], colW))
		}
		rows = append(rows, b.String())
	}
	hint := "  (q or ? closes; keys can be changed in config.toml [keys], [keys.list], [keys.reader])"
	if more := len(cols[0]) - body; more > 0 {
		hint = fmt.Sprintf("  (q or ? closes; j/k scroll: lines %d–%d of %d)", off+1, off+body, len(cols[0]))
	}
	title := st.Title.Render("Keys") + st.Dim.Render(hint)
	return fitBlock(padRight(title, h.width)+"\n"+strings.Join(rows, "\n"), h.width, h.height)
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
