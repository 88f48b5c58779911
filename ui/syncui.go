package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// updateSync handles the background sync and the change feeds.
func (m Model) updateSync(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case syncTickMsg:
		cmds := []tea.Cmd{syncTick(m.opts.SyncInterval)}
		for _, a := range m.accts {
			if a.watching {
				continue // the watch syncs it in full every interval
			}
			name := a.b.Name()
			cmds = append(cmds, func() tea.Msg { return syncNowMsg{account: name} })
		}
		return m, tea.Batch(cmds...)
	case syncNowMsg:
		i := m.find(msg.account)
		if i < 0 || m.accts[i].syncing {
			return m, nil
		}
		m.accts[i].syncing = true
		return m, startSync(m.ctx, m.accts[i].b)
	case syncStartedMsg:
		m.status, cmd = m.status.Update(msg)
		return m, tea.Batch(cmd, waitStream(msg.ch))
	case syncEventMsg:
		m.status, cmd = m.status.Update(msg)
		return m, tea.Batch(cmd, waitStream(msg.ch))
	case syncDoneMsg:
		m.status, cmd = m.status.Update(msg)
		m.sidebar = m.sidebar.setSignIn(msg.account, m.status.online[msg.account] == linkSignIn)
		cmds := []tea.Cmd{cmd, m.refresh(msg.account)}
		if i := m.find(msg.account); i >= 0 {
			cmds = append(cmds, failedCmd(m.ctx, m.accts[i].b))
			if i == m.cur && m.screen == screenReader {
				// The message open may have been only a header when
				// it was opened: the sync's body pass has its text now.
				cmds = append(cmds, m.reader.reload(m.ctx, m.accts[i].b))
			}
			m = m.firstSyncDone(i)
			m.accts[i].syncing = false
			m, cmd = m.watchAgain(i, msg.err)
			cmds = append(cmds, cmd)
			if m.accts[i].pendingFlush {
				m.accts[i].pendingFlush = false
				m.accts[i].syncing = true
				cmds = append(cmds, startFlush(m.ctx, m.accts[i].b))
			}
		}
		note := syncNote(msg)
		if needsSignIn(msg.err) || needsSignIn(msg.sum.OutboxErr) {
			note = m.signInNote(msg.account)
		}
		if note != nil {
			cmds = append(cmds, func() tea.Msg { return note })
		}
		return m, tea.Batch(cmds...)
	case feedMsg:
		i := m.find(msg.account)
		if i < 0 || msg.closed {
			return m, nil
		}
		m, cmd = m.noteNewMail(i, msg.changes)
		cmds := []tea.Cmd{cmd, watchFeed(m.ctx, msg.account, m.accts[i].feed, m.opts.FeedCoalesce), m.refresh(msg.account)}
		if i == m.cur && touches(msg.changes, m.folder, m.query != "") {
			m.list, cmd = m.list.refill(!m.filling(i))
			cmds = append(cmds, cmd)
		}
		return m, tea.Batch(cmds...)
	}
	return m, nil
}

// touches reports whether changes concern the listed folder (a search
// may list any folder, so any change concerns it).
func touches(changes []accounts.Change, folder string, search bool) bool {
	for _, c := range changes {
		if search || strings.EqualFold(c.Mailbox, folder) || c.Kind == accounts.ChangeMailboxRenamed || c.Kind == accounts.ChangeMailboxDeleted {
			return true
		}
	}
	return false
}

// syncNote is what the status line says when a sync ends.
func syncNote(msg syncDoneMsg) tea.Msg {
	switch {
	case msg.err != nil && msg.offline:
		return errMsg{fmt.Errorf("%s: offline (%v); changes wait and go with the next sync", msg.account, msg.err)}
	case msg.err != nil:
		return errMsg{msg.err}
	case msg.sum.OutboxErr != nil && msg.offline:
		return errMsg{fmt.Errorf("%s: not sent yet, offline: the Outbox is sent with the next sync", msg.account)}
	case msg.sum.OutboxErr != nil:
		return errMsg{fmt.Errorf("%s: send: %v", msg.account, msg.sum.OutboxErr)}
	case msg.sum.Sent > 0 && msg.sum.New > 0:
		return infoMsg{text: fmt.Sprintf("%s: %d new, %d sent", msg.account, msg.sum.New, msg.sum.Sent)}
	case msg.sum.Sent > 0:
		return infoMsg{text: fmt.Sprintf("%s: %d sent", msg.account, msg.sum.Sent)}
	case msg.sum.New > 0:
		return infoMsg{text: fmt.Sprintf("%s: %d new", msg.account, msg.sum.New)}
	}
	return nil
}

// addAccount opens the account the wizard made.
func (m Model) addAccount(msg wizardDoneMsg) (tea.Model, tea.Cmd) {
	m.accts = append(m.accts, acct{b: msg.b, feed: msg.feed})
	name := msg.b.Name()
	m.sidebar.accounts = append(m.sidebar.accounts, sidebarAccount{name: name})
	m.status.accounts = append(m.status.accounts, name)
	m.screen = screenMain
	next, cmd := m.layout()
	m = next.(Model)
	return m, tea.Batch(cmd, mailboxesCmd(m.ctx, msg.b), watchFeed(m.ctx, name, msg.feed, m.opts.FeedCoalesce), syncTick(m.opts.SyncInterval),
		func() tea.Msg { return folderMsg{account: name, folder: accounts.Inbox} },
		func() tea.Msg { return syncNowMsg{account: name} })
}
