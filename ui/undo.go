package ui

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// Undo and the delete check. Every move, delete to Trash and flag change
// the user makes takes a snapshot of the messages first (in the same
// Cmd); for undoTTL after it lands, U restores the snapshot through the
// account (journaled like any change) and the status line says so. A
// delete first asks the account which messages it would remove for good
// (in Trash, or no Trash at all): those need a yes and cannot be undone.

// undoTTL is how long after an action U undoes it.
const undoTTL = 10 * time.Second

// undoState is the last action that can be undone.
type undoState struct {
	account string
	snap    accounts.Snapshot
	what    string // "deleted message"
	seq     int
}

// undoExpireMsg ends the undo window of action seq.
type undoExpireMsg struct{ seq int }

// deleteCheckedMsg carries what a delete would remove for good.
type deleteCheckedMsg struct {
	account string
	ids     []int64
	forGood []int64
	err     error
}

// undoneMsg reports an undo.
type undoneMsg struct {
	account string
	what    string
	found   int
	err     error
}

func deleteCheckCmd(ctx context.Context, b Backend, ids []int64) tea.Cmd {
	return func() tea.Msg {
		forGood, err := b.DeletedForGood(ctx, ids)
		return deleteCheckedMsg{account: b.Name(), ids: ids, forGood: forGood, err: err}
	}
}

// deleteChecked asks before a delete that removes for good or touches
// several messages, and runs the others at once.
func (m Model) deleteChecked(msg deleteCheckedMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		return m, func() tea.Msg { return errMsg{msg.err} }
	}
	if msg.account != m.backend().Name() {
		return m, nil // the user went to another account meanwhile
	}
	n, k := len(msg.ids), len(msg.forGood)
	c := confirmedMsg{what: "delete", ids: msg.ids, forGood: k == n}
	switch {
	case k == n:
		m.prompt = m.prompt.confirm(fmt.Sprintf("Delete %s for good? (no undo)", plural(n, "message")), c)
	case k > 0:
		m.prompt = m.prompt.confirm(fmt.Sprintf("Delete %s (%d of them for good, no undo)?", plural(n, "message"), k), c)
	case n > 1:
		m.prompt = m.prompt.confirm(fmt.Sprintf("Delete %s?", plural(n, "message")), c)
	default:
		return m.do(c)
	}
	return m, nil
}

// undo restores the last action's snapshot, if it is still recent.
func (m Model) undo() (tea.Model, tea.Cmd) {
	u := m.undoLast
	if u == nil {
		return m, func() tea.Msg { return infoMsg{text: "nothing to undo"} }
	}
	m.undoLast = nil
	i := m.find(u.account)
	if i < 0 {
		return m, nil
	}
	b, ctx := m.accts[i].b, m.ctx
	return m, func() tea.Msg {
		n, err := b.Restore(ctx, u.snap)
		return undoneMsg{account: u.account, what: u.what, found: n, err: err}
	}
}

// undone reports an undo and refreshes what it changed.
func (m Model) undone(msg undoneMsg) (tea.Model, tea.Cmd) {
	done := actionDoneMsg{account: msg.account, err: msg.err}
	switch {
	case msg.err != nil:
	case msg.found == 0:
		done.err = fmt.Errorf("undo %s: the messages are gone", msg.what)
	default:
		done.what = "undone: " + msg.what
	}
	return m.updateAction(done)
}

// remember keeps the snapshot of an action that landed, for U.
func (m Model) remember(account, what string, snap *accounts.Snapshot) (Model, tea.Cmd) {
	m.undoSeq++
	m.undoLast = &undoState{account: account, snap: *snap, what: what, seq: m.undoSeq}
	seq := m.undoSeq
	return m, tea.Tick(undoTTL, func(time.Time) tea.Msg { return undoExpireMsg{seq: seq} })
}
