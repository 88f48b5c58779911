package ui

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// pickerModel chooses a folder (the target of a move) with a fuzzy
// filter: type to narrow, up/down (ctrl+k/ctrl+j) to choose, enter to
// pick, esc to cancel. With canCreate, a typed name that is not a folder
// is offered last as a new folder ("+ create").
type pickerModel struct {
	c         *Common
	title     string
	all       []string
	matches   []string
	canCreate bool
	offer     string // the name to create, "" for none
	cursor    int
	input     textinput.Model
	width     int
	height    int
}

// pickedMsg reports the picker's choice ("" when cancelled); create asks
// for the folder to be created first.
type pickedMsg struct {
	folder string
	create bool
}

func newPicker(c *Common, title string, folders []string, canCreate bool) pickerModel {
	in := textinput.New()
	in.Prompt = "filter: "
	in.Focus()
	p := pickerModel{c: c, title: title, all: folders, input: in, canCreate: canCreate}
	p.filter()
	return p
}

// rows counts the choosable rows: the matches and the offer.
func (p *pickerModel) rows() int {
	if p.offer != "" {
		return len(p.matches) + 1
	}
	return len(p.matches)
}

func (p *pickerModel) filter() {
	typed := strings.Trim(strings.TrimSpace(p.input.Value()), "/")
	p.matches = fuzzyFilter(typed, p.all)
	p.offer = ""
	if p.canCreate && typed != "" && !slices.ContainsFunc(p.all, func(f string) bool { return strings.EqualFold(f, typed) }) {
		p.offer = typed
	}
	p.cursor = clamp(p.cursor, 0, max(0, p.rows()-1))
	if len(p.matches) == 0 {
		p.cursor = 0
	}
}

func (p pickerModel) Update(msg tea.Msg) (pickerModel, tea.Cmd) {
	if msg, ok := msg.(tea.KeyMsg); ok {
		switch msg.String() {
		case "esc":
			return p, func() tea.Msg { return pickedMsg{} }
		case "enter":
			switch {
			case p.cursor < len(p.matches):
				f := p.matches[p.cursor]
				return p, func() tea.Msg { return pickedMsg{folder: f} }
			case p.offer != "":
				f := p.offer
				return p, func() tea.Msg { return pickedMsg{folder: f, create: true} }
			}
			return p, nil
		case "down", "ctrl+j", "ctrl+n":
			p.cursor = min(p.cursor+1, max(0, p.rows()-1))
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
	for i := start; i < p.rows() && i < start+room; i++ {
		text := "+ create folder " + strconv.Quote(p.offer)
		if i < len(p.matches) {
			text = p.matches[i]
		}
		if i == p.cursor {
			lines = append(lines, st.RowSelected.Render(padRight("> "+text, min(p.width, max(40, len(text)+2)))))
		} else {
			lines = append(lines, "  "+text)
		}
	}
	if p.rows() == 0 {
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
