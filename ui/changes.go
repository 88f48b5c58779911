package ui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Changes the server refused: after each sync the account's failed
// changes are read (failedCmd); a new one gives a status-line notice and
// the sidebar shows their number beside the account ("!2"). C opens the
// list of the current account: r sends the selected change again with
// the next sync, d gives it up (after a yes), q goes back.

// failedMsg carries the failed changes of an account.
type failedMsg struct {
	account string
	list    []FailedChange
	err     error
}

// changeDoneMsg reports a retried or dropped change.
type changeDoneMsg struct {
	account string
	what    string
	err     error
}

// dropChangeMsg is a drop the user said yes to.
type dropChangeMsg struct {
	account string
	id      int64
}

func failedCmd(ctx context.Context, b Backend) tea.Cmd {
	return func() tea.Msg {
		list, err := b.FailedChanges(ctx)
		return failedMsg{account: b.Name(), list: list, err: err}
	}
}

// changesModel lists the failed changes of one account.
type changesModel struct {
	c       *Common
	account string
	list    []FailedChange
	cursor  int
	width   int
	height  int
}

func (v changesModel) selected() (FailedChange, bool) {
	if v.cursor < len(v.list) {
		return v.list[v.cursor], true
	}
	return FailedChange{}, false
}

func (v changesModel) View() string {
	st := v.c.Styles
	lines := []string{st.Title.Render("Changes the server refused · " + v.account), ""}
	if len(v.list) == 0 {
		lines = append(lines, st.Dim.Render("  none: every change reached the server, or waits for the next sync"))
	}
	for i, c := range v.list {
		row := fmt.Sprintf("%d  %s", c.ID, c.What)
		if i == v.cursor {
			lines = append(lines, st.RowSelected.Render(padRight("> "+truncate(row, max(1, v.width-2)), v.width)))
		} else {
			lines = append(lines, "  "+truncate(row, max(1, v.width-2)))
		}
		lines = append(lines, st.Dim.Render("     the server said: "+truncate(strings.ReplaceAll(c.Error, "\n", " "), max(1, v.width-22))))
	}
	lines = append(lines, "", st.Dim.Render("  r retry with the next sync · d drop (undone here where possible) · q back"))
	return fitBlock(strings.Join(lines, "\n"), v.width, v.height)
}

// openChanges shows the failed changes of the current account.
func (m Model) openChanges() (tea.Model, tea.Cmd) {
	b := m.backend()
	if b == nil {
		return m, nil
	}
	m.changes = changesModel{c: m.c, account: b.Name(), list: m.accts[m.cur].failed, width: m.c.Width, height: max(1, m.c.Height-2)}
	m.back, m.screen = m.screen, screenChanges
	return m, failedCmd(m.ctx, b)
}

// changesKey handles a key in the list of failed changes.
func (m Model) changesKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.c.Keys
	i := m.find(m.changes.account)
	if i < 0 {
		m.screen = screenMain
		return m, nil
	}
	b, ctx := m.accts[i].b, m.ctx
	c, ok := m.changes.selected()
	switch {
	case key.Matches(msg, k.Back):
		m.screen = m.back
		return m, nil
	case key.Matches(msg, k.Down):
		m.changes.cursor = min(m.changes.cursor+1, max(0, len(m.changes.list)-1))
	case key.Matches(msg, k.Up):
		m.changes.cursor = max(m.changes.cursor-1, 0)
	case msg.String() == "r" && ok:
		return m, func() tea.Msg {
			return changeDoneMsg{account: b.Name(), what: fmt.Sprintf("change %d goes again with the next sync", c.ID), err: b.RetryChange(ctx, c.ID)}
		}
	case msg.String() == "d" && ok:
		m.prompt = m.prompt.confirm(fmt.Sprintf("Drop %q? It never reaches the server.", truncate(c.What, 40)), dropChangeMsg{account: b.Name(), id: c.ID})
	}
	return m, nil
}

// updateChanges handles the failed changes' messages.
func (m Model) updateChanges(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case failedMsg:
		i := m.find(msg.account)
		if i < 0 || msg.err != nil {
			return m, nil // the next sync reads them again
		}
		before := len(m.accts[i].failed)
		m.accts[i].failed = msg.list
		m.sidebar = m.sidebar.setRefused(msg.account, len(msg.list))
		if m.screen == screenChanges && m.changes.account == msg.account {
			m.changes.list = msg.list
			m.changes.cursor = clamp(m.changes.cursor, 0, max(0, len(msg.list)-1))
		}
		if len(msg.list) > before {
			err := fmt.Errorf("%s: %d change(s) refused by the server (%s shows them)", msg.account, len(msg.list), m.c.Keys.Changes.Help().Key)
			return m, func() tea.Msg { return errMsg{err} }
		}
		return m, nil
	case dropChangeMsg:
		i := m.find(msg.account)
		if i < 0 {
			return m, nil
		}
		b, ctx, id := m.accts[i].b, m.ctx, msg.id
		return m, func() tea.Msg {
			return changeDoneMsg{account: b.Name(), what: fmt.Sprintf("change %d dropped", id), err: b.DropChange(ctx, id)}
		}
	case changeDoneMsg:
		i := m.find(msg.account)
		if i < 0 {
			return m, nil
		}
		note := func() tea.Msg { return infoMsg{text: msg.what} }
		if msg.err != nil {
			note = func() tea.Msg { return errMsg{msg.err} }
		}
		return m, tea.Batch(note, failedCmd(m.ctx, m.accts[i].b), m.refresh(msg.account))
	}
	return m, nil
}
