package ui

import (
	"sort"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// pickerModel chooses a folder (the target of a move) with a fuzzy
// filter: type to narrow, up/down (ctrl+k/ctrl+j) to choose, enter to
// pick, esc to cancel.
type pickerModel struct {
	c       *Common
	title   string
	all     []string
	matches []string
	cursor  int
	input   textinput.Model
	width   int
	height  int
}

// pickedMsg reports the picker's choice ("" when cancelled).
type pickedMsg struct{ folder string }

func newPicker(c *Common, title string, folders []string) pickerModel {
	in := textinput.New()
	in.Prompt = "filter: "
	in.Focus()
	p := pickerModel{c: c, title: title, all: folders, input: in}
	p.filter()
	return p
}

func (p *pickerModel) filter() {
	p.matches = fuzzyFilter(p.input.Value(), p.all)
	p.cursor = clamp(p.cursor, 0, max(0, len(p.matches)-1))
}

func (p pickerModel) Update(msg tea.Msg) (pickerModel, tea.Cmd) {
	if msg, ok := msg.(tea.KeyMsg); ok {
		switch msg.String() {
		case "esc":
			return p, func() tea.Msg { return pickedMsg{} }
		case "enter":
			if len(p.matches) == 0 {
				return p, nil
			}
			f := p.matches[p.cursor]
			return p, func() tea.Msg { return pickedMsg{folder: f} }
		case "down", "ctrl+j", "ctrl+n":
			p.cursor = min(p.cursor+1, max(0, len(p.matches)-1))
			return p, nil
		case "up", "ctrl+k", "ctrl+p":
			p.cursor = max(p.cursor-1, 0)
			return p, nil
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	p.filter()
	return p, cmd
}

func (p pickerModel) View() string {
	st := p.c.Styles
	lines := []string{st.Title.Render(p.title), p.input.View(), ""}
	room := max(1, p.height-len(lines))
	start := max(0, p.cursor-room+1)
	for i := start; i < len(p.matches) && i < start+room; i++ {
		if i == p.cursor {
			lines = append(lines, st.RowSelected.Render(padRight("> "+p.matches[i], min(p.width, 40))))
		} else {
			lines = append(lines, "  "+p.matches[i])
		}
	}
	if len(p.matches) == 0 {
		lines = append(lines, st.Dim.Render("  no folder matches"))
	}
	return fitBlock(strings.Join(lines, "\n"), p.width, p.height)
}

// fuzzyFilter returns the items that contain the letters of pattern in
// order (case-insensitive), best first: contiguous and early matches,
// then shorter names.
func fuzzyFilter(pattern string, items []string) []string {
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	if pattern == "" {
		return append([]string(nil), items...)
	}
	type scored struct {
		s     string
		score int
	}
	var out []scored
	for _, it := range items {
		if sc, ok := fuzzyScore(pattern, strings.ToLower(it)); ok {
			out = append(out, scored{it, sc})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return len(out[i].s) < len(out[j].s)
	})
	res := make([]string, len(out))
	for i, o := range out {
		res[i] = o.s
	}
	return res
}

func fuzzyScore(pattern, s string) (int, bool) {
	if pattern == "" {
		return 0, true
	}
	pr := []rune(pattern)
	score, pi, prev := 0, 0, -2
	for i, r := range []rune(s) {
		if pi < len(pr) && r == pr[pi] {
			switch {
			case i == prev+1:
				score += 5 // contiguous
			case i == 0 || !unicode.IsLetter([]rune(s)[i-1]):
				score += 3 // start of a word
			default:
				score++
			}
			prev = i
			pi++
		}
	}
	if pi < len(pr) {
		return 0, false
	}
	if strings.HasPrefix(s, pattern) {
		score += 10
	}
	return score, true
}
