package ui

import (
	"fmt"
	"slices"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// mainKey handles a key on the main screen (sidebar + list).
func (m Model) mainKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.c.Keys
	var cmd tea.Cmd
	switch {
	case key.Matches(msg, k.Back):
		if m.sidebarF {
			m.sidebarF, m.sidebar.focused = false, false
			return m, nil
		}
		if m.query != "" {
			m.query = ""
			return m.reloadList()
		}
		if len(m.list.tagged) > 0 {
			m.list.tagged = map[int64]bool{}
			return m, nil
		}
		if msg.Type == tea.KeyEsc {
			// Esc goes back, and there is nowhere back to go: it does
			// not quit (Esc pressed once too often, or typed twice at
			// once, would end the session).
			text := m.c.Keys.Quit.Help().Key + " quits"
			for _, k := range m.c.Keys.Back.Keys() {
				if k != "esc" {
					text = k + " quits (" + text + " from anywhere)"
					break
				}
			}
			return m, func() tea.Msg { return infoMsg{text: text} }
		}
		return m.quit()
	case key.Matches(msg, k.FocusSidebar):
		m.sidebarF = !m.sidebarF
		m.sidebar.focused = m.sidebarF
		m.sidebar = m.sidebar.choose(m.cur, m.folder)
		return m, nil
	case key.Matches(msg, k.Search):
		m.sidebarF, m.sidebar.focused = false, false
		m.prompt, cmd = m.prompt.open(promptSearch, "/ ", m.query)
		return m, cmd
	case key.Matches(msg, k.NextFolder), key.Matches(msg, k.PrevFolder):
		n := 1
		if key.Matches(msg, k.PrevFolder) {
			n = -1
		}
		f := m.sidebar.step(n)
		return m.openFolder(m.backend().Name(), f)
	case key.Matches(msg, k.NextAccount), key.Matches(msg, k.PrevAccount):
		n := 1
		if key.Matches(msg, k.PrevAccount) {
			n = -1
		}
		i := ((m.cur+n)%len(m.accts) + len(m.accts)) % len(m.accts)
		return m.openFolder(m.accts[i].b.Name(), accounts.Inbox)
	case key.Matches(msg, k.ToggleThreads):
		m.threaded = !m.threaded
		return m.reloadList()
	case key.Matches(msg, k.Undo):
		return m.undo()
	case key.Matches(msg, k.ToggleThread) && !m.sidebarF:
		return m.toggleThread()
	}
	if m.sidebarF {
		m.sidebar, cmd = m.sidebar.Update(msg)
		if key.Matches(msg, k.Open) {
			m.sidebarF, m.sidebar.focused = false, false
		}
		return m, cmd
	}
	switch {
	case key.Matches(msg, k.Open):
		return m.open()
	case key.Matches(msg, k.Reply), key.Matches(msg, k.ReplyAll), key.Matches(msg, k.Forward),
		key.Matches(msg, k.ToggleRead), key.Matches(msg, k.Flag), key.Matches(msg, k.Delete),
		key.Matches(msg, k.Archive), key.Matches(msg, k.Move), key.Matches(msg, k.EditDraft):
		return m.act(msg, m.list.targets())
	}
	m.list, cmd = m.list.Update(msg)
	return m, cmd
}

// toggleThread folds the selected message's thread to its first message,
// or unfolds it; the selection stays on the thread.
func (m Model) toggleThread() (tea.Model, tea.Cmd) {
	if !m.list.req.Threaded {
		return m, func() tea.Msg {
			return infoMsg{text: "threads are off: " + m.c.Keys.ToggleThreads.Help().Key + " turns them on"}
		}
	}
	sel, ok := m.list.selected()
	if !ok {
		return m, nil
	}
	if m.collapsed == nil {
		m.collapsed = map[int64]bool{}
	}
	if m.collapsed[sel.ThreadID] {
		delete(m.collapsed, sel.ThreadID)
	} else {
		m.collapsed[sel.ThreadID] = true
	}
	return m.reloadList()
}

// readerKey handles a key while a message is open.
func (m Model) readerKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.c.ReaderKeys
	var cmd tea.Cmd
	id := m.reader.msg.ID
	switch {
	case key.Matches(msg, k.Back):
		m.screen = screenMain
		m.status = m.status.clearNote()
		return m, nil
	case key.Matches(msg, k.NextMessage), key.Matches(msg, k.PrevMessage):
		n := 1
		if key.Matches(msg, k.PrevMessage) {
			n = -1
		}
		m.list.move(n)
		m.list, cmd = m.list.ensure()
		next, c2 := m.open()
		return next, tea.Batch(cmd, c2)
	case key.Matches(msg, k.Undo):
		return m.undo()
	case key.Matches(msg, k.Search):
		m.prompt, cmd = m.prompt.open(promptFind, "find: ", "")
		return m, cmd
	case key.Matches(msg, k.OpenHTML):
		return m, openHTMLCmd(m.ctx, m.backend(), id, m.opts.TempDir)
	case key.Matches(msg, k.OpenLink):
		switch n := len(m.reader.links); n {
		case 0:
			return m, func() tea.Msg { return infoMsg{text: "this message has no links"} }
		case 1:
			return m, openLinkCmd(m.reader.links[0])
		default:
			m.prompt, cmd = m.prompt.open(promptLink, fmt.Sprintf("open link (1–%d): ", n), "")
			return m, cmd
		}
	case key.Matches(msg, k.SaveAttachment):
		a, ok := m.reader.attachment()
		if !ok {
			return m, func() tea.Msg { return infoMsg{text: "this message has no attachments"} }
		}
		m.prompt, cmd = m.prompt.open(promptSave, "save to: ", defaultSavePath(a))
		return m, cmd
	case key.Matches(msg, k.OpenAttachment):
		a, ok := m.reader.attachment()
		if !ok {
			return m, func() tea.Msg { return infoMsg{text: "this message has no attachments"} }
		}
		return m, openAttachmentCmd(m.ctx, m.backend(), id, a, m.opts.TempDir)
	case key.Matches(msg, k.Reply), key.Matches(msg, k.ReplyAll), key.Matches(msg, k.Forward),
		key.Matches(msg, k.ToggleRead), key.Matches(msg, k.Flag), key.Matches(msg, k.Delete),
		key.Matches(msg, k.Archive), key.Matches(msg, k.Move), key.Matches(msg, k.EditDraft):
		return m.act(msg, []int64{id})
	}
	m.reader, cmd = m.reader.Update(msg)
	return m, cmd
}

// open shows the selected message in the reader, marking it read.
func (m Model) open() (tea.Model, tea.Cmd) {
	sel, ok := m.list.selected()
	if !ok {
		return m, nil
	}
	if m.screen == screenReader && m.reader.msg.ID != sel.ID {
		// A note about the message shown before does not stay over
		// this one.
		m.status = m.status.clearNote()
	}
	m.screen = screenReader
	var cmd tea.Cmd
	m.reader, cmd = m.reader.open(m.ctx, m.backend(), sel)
	if !sel.HasFlag(accounts.FlagSeen) {
		seen := func(x *accounts.Message) { x.Flags = append(slices.Clone(x.Flags), accounts.FlagSeen) }
		m.list.patch(sel.ID, seen)
		seen(&m.reader.msg)
		cmd = tea.Batch(cmd, flagsCmd(m.ctx, m.backend(), []int64{sel.ID}, []string{accounts.FlagSeen}, nil, ""))
	}
	return m, cmd
}
