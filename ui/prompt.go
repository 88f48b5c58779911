package ui

import (
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// promptKind says what the one-line prompt at the bottom is asking.
type promptKind int

const (
	promptNone    promptKind = iota
	promptSearch             // "/": a query, results as you type
	promptSave               // S: where to save an attachment
	promptAttach             // ^a in the composer: a file to attach
	promptConfirm            // y/n before a destructive action
	promptFind               // / in the reader: a search in the message
	promptLink               // l in the reader: the number of a link
)

// searchDelay is how long typing pauses before the search runs.
const searchDelay = 120 * time.Millisecond

// promptModel is the bottom-line input. It reports through messages:
// promptDoneMsg on enter or esc, and (for a search) searchTickMsg after
// each pause in typing.
type promptModel struct {
	c     *Common
	kind  promptKind
	input textinput.Model
	// question is the confirm prompt's text; onYes the message sent when
	// the answer is yes.
	question string
	onYes    tea.Msg
	searchID int
	last     string
	width    int
}

// promptDoneMsg ends a prompt: ok is false when it was cancelled.
type promptDoneMsg struct {
	kind  promptKind
	value string
	ok    bool
}

func newPrompt(c *Common) promptModel {
	return promptModel{c: c}
}

// open starts a prompt of kind with an initial value.
func (p promptModel) open(kind promptKind, prompt, value string) (promptModel, tea.Cmd) {
	in := textinput.New()
	in.Prompt = prompt
	in.SetValue(value)
	in.CursorEnd()
	in.Width = max(10, p.width-len(prompt)-2)
	p.kind, p.input, p.last = kind, in, value
	return p, p.input.Focus()
}

// confirm asks question; yes sends onYes.
func (p promptModel) confirm(question string, onYes tea.Msg) promptModel {
	p.kind, p.question, p.onYes = promptConfirm, question, onYes
	return p
}

func (p promptModel) active() bool { return p.kind != promptNone }

func (p promptModel) Update(msg tea.Msg) (promptModel, tea.Cmd) {
	if p.kind == promptConfirm {
		if k, ok := msg.(tea.KeyMsg); ok {
			p.kind = promptNone
			if k.String() == "y" || k.String() == "Y" {
				yes := p.onYes
				return p, func() tea.Msg { return yes }
			}
			return p, func() tea.Msg { return infoMsg{text: "cancelled"} }
		}
		return p, nil
	}
	if c, ok := msg.(pathCompletedMsg); ok {
		if p.kind == promptAttach && p.input.Value() == c.from {
			p.input.SetValue(c.to)
			p.input.CursorEnd()
		}
		return p, nil
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		switch k.String() {
		case "tab":
			if p.kind == promptAttach {
				return p, completePathCmd(p.input.Value())
			}
		case "enter":
			kind, v := p.kind, p.input.Value()
			p.kind = promptNone
			return p, func() tea.Msg { return promptDoneMsg{kind: kind, value: v, ok: true} }
		case "esc", "ctrl+c":
			kind := p.kind
			p.kind = promptNone
			return p, func() tea.Msg { return promptDoneMsg{kind: kind} }
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	if p.kind == promptSearch && p.input.Value() != p.last {
		p.last = p.input.Value()
		p.searchID++
		id := p.searchID
		return p, tea.Batch(cmd, tea.Tick(searchDelay, func(time.Time) tea.Msg { return searchTickMsg{id: id} }))
	}
	return p, cmd
}

func (p promptModel) View() string {
	st := p.c.Styles
	if p.kind == promptConfirm {
		return padRight(st.Prompt.Render(p.question+" [y/N] "), p.width)
	}
	return padRight(p.input.View(), p.width)
}
