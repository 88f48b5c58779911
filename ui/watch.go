package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// Watching the accounts while the interface is open ([ui] watch, on by
// default): each IMAP account runs Backend.Watch (accounts.Watch: IDLE on
// INBOX, NOTIFY or STATUS polls for the other folders, a full sync every
// sync interval), so new mail shows within seconds rather than at the
// next periodic sync. The watch writes to the store like any sync, and
// the store's change feed (watchFeed) brings the new mail to the list.
//
// At most one watch runs per account (acct.watching). While it runs the
// periodic sync skips the account (the watch syncs it in full itself);
// a manual sync still runs. Its progress events reach the status line
// as a sync's do (a dropped connection is shown, and the watch
// reconnects by itself). When Watch returns:
//   - errNoWatch (POP3): the periodic sync goes on, no watch again;
//   - a temporary error: the watch starts again after a backoff;
//   - another error (a refused login, a sign-in that expired): shown as
//     a failed sync is, and the watch stays off until a sync of the
//     account succeeds (the periodic one, or the one after signing in
//     again), which starts it again.
//
// Backend.Watch passes through Run's gate like every other call, so Run
// cancels it and waits for it before it returns.

// errNoWatch is what Backend.Watch returns for an account it cannot
// watch (POP3): the periodic sync keeps it in sync.
var errNoWatch = errors.New("this account cannot be watched")

// Backoff of a watch that failed for a temporary reason.
const (
	watchRetryMin = 10 * time.Second
	watchRetryMax = 5 * time.Minute
)

// Messages of the watch.
type (
	// watchStartedMsg carries the event stream of one account's watch.
	watchStartedMsg struct {
		account string
		ch      <-chan tea.Msg
	}
	// watchDoneMsg ends a watch stream.
	watchDoneMsg struct {
		account string
		err     error
	}
	// watchRetryMsg starts a watch again after its backoff.
	watchRetryMsg struct{ account string }
)

// startWatch runs b.Watch in a goroutine whose events come back as
// syncEventMsgs (re-armed by updateSync) and whose end is a watchDoneMsg.
func startWatch(ctx context.Context, b Backend, interval time.Duration) tea.Cmd {
	name := b.Name()
	return func() tea.Msg {
		ch := make(chan tea.Msg, 64)
		go func() {
			defer close(ch)
			err := b.Watch(ctx, interval, reporter(ctx, name, ch))
			select {
			case ch <- watchDoneMsg{account: name, err: err}:
			case <-ctx.Done():
			}
		}()
		return watchStartedMsg{account: name, ch: ch}
	}
}

// watchCmd starts the watch of account i unless it runs already or the
// account cannot be watched; it returns the model with the account
// marked watching.
func (m Model) watchCmd(i int) (Model, tea.Cmd) {
	a := &m.accts[i]
	if !m.opts.Watch || a.watching || a.noWatch {
		return m, nil
	}
	a.watching, a.watchSince = true, time.Now()
	return m, startWatch(m.ctx, a.b, m.opts.SyncInterval)
}

// updateWatch handles the watch's start, end and retry.
func (m Model) updateWatch(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case watchStartedMsg:
		return m, waitStream(msg.ch)
	case watchRetryMsg:
		i := m.find(msg.account)
		if i < 0 {
			return m, nil
		}
		m, cmd := m.watchCmd(i)
		return m, cmd
	case watchDoneMsg:
		i := m.find(msg.account)
		if i < 0 {
			return m, nil
		}
		a := &m.accts[i]
		a.watching = false
		switch {
		case msg.err == nil || m.ctx.Err() != nil:
			return m, nil
		case errors.Is(msg.err, errNoWatch):
			a.noWatch = true
			return m, nil
		case a.b.Temporary(msg.err):
			if time.Since(a.watchSince) > watchRetryMax {
				a.watchBackoff = 0 // it had worked for a while
			}
			a.watchBackoff = min(max(2*a.watchBackoff, watchRetryMin), watchRetryMax)
			d, name := a.watchBackoff, msg.account
			note := errMsg{fmt.Errorf("%s: offline (%v); watching again in %s", msg.account, msg.err, d)}
			return m, tea.Batch(func() tea.Msg { return note },
				tea.Tick(d, func(time.Time) tea.Msg { return watchRetryMsg{account: name} }))
		}
		// Shown as a failed sync is (the status line's account mark,
		// the sign-in note); a sync that succeeds starts it again.
		var cmd tea.Cmd
		m.status, cmd = m.status.Update(syncDoneMsg{account: msg.account, err: msg.err})
		m.sidebar = m.sidebar.setSignIn(msg.account, m.status.online[msg.account] == linkSignIn)
		var note tea.Msg = errMsg{fmt.Errorf("%s: new mail is not watched: %w", msg.account, msg.err)}
		if needsSignIn(msg.err) {
			note = m.signInNote(msg.account)
		}
		return m, tea.Batch(cmd, func() tea.Msg { return note })
	}
	return m, nil
}

// watchAgain is called when a sync of account i ended: one that
// succeeded starts a watch that had failed, and resets its backoff.
func (m Model) watchAgain(i int, err error) (Model, tea.Cmd) {
	if err != nil {
		return m, nil
	}
	m.accts[i].watchBackoff = 0
	return m.watchCmd(i)
}

// Watch keeps an IMAP account in sync (accounts.Account.Watch) until ctx
// ends; POP3 accounts return errNoWatch at once.
func (b *AccountBackend) Watch(ctx context.Context, interval time.Duration, report func(accounts.SyncEvent)) error {
	if b.A.Config.Mode != accounts.ModeIMAP {
		return errNoWatch
	}
	return b.A.Watch(ctx, interval, accounts.SyncOptions{Report: report})
}

// Watch passes through the gate for as long as it runs.
func (gb gatedBackend) Watch(ctx context.Context, interval time.Duration, report func(accounts.SyncEvent)) error {
	return gb.run(func() error { return gb.b.Watch(ctx, interval, report) })
}
