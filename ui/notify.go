package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// New-mail notices. The change feed tells of every message added to a
// folder; mail is new when it is added to INBOX unread and was not in
// the account a moment before (a move into INBOX, an undo, shows as an
// expunge of the same store id in the same batch). New mail gathers for
// NotifyDelay, then one notice says how many and from whom: on the
// desktop (Options.Desktop, D-Bus org.freedesktop.Notifications, wired
// by package main), or with the terminal bell, as [ui] notify says:
//
//	"auto" (default)  the desktop when it answers, else the bell
//	"dbus"            the desktop only
//	"bell"            the bell only
//	"off"             nothing
//
// Every notice also shows in the status line.
//
// Mail that an account's first sync of the session brings (a new
// account's whole mailbox, or what came while the program was closed)
// is not announced: the user is looking at it already. Its feed batches
// can trail the end of that sync by the feed's coalescing delay, so a
// short quiet window follows it. Mail another process syncs (a cron job
// beside the interface) is announced as usual.

// Notify modes ([ui] notify).
const (
	notifyAuto = "auto"
	notifyDBus = "dbus"
	notifyBell = "bell"
	notifyOff  = "off"
)

// notifyDelay gathers a burst of new mail into one notice.
const notifyDelay = 3 * time.Second

// notifyTickMsg ends the gathering of account's new mail.
type notifyTickMsg struct{ account string }

// notifyState is what the root keeps per account.
type notifyState struct {
	seen    map[int64]bool // ids announced (or waiting)
	pending []int64
	armed   bool
	// synced is set when the account's first sync of the session ends;
	// until quietUntil after that, new mail is not announced either.
	synced     bool
	quietUntil time.Time
}

// firstSyncQuiet is how long after the end of the first sync its
// trailing feed batches are still taken as part of it.
const firstSyncQuiet = time.Second

// firstSyncDone marks the end of account i's first sync of the session.
func (m Model) firstSyncDone(i int) Model {
	st := &m.accts[i].notify
	if !st.synced {
		st.synced = true
		st.quietUntil = time.Now().Add(firstSyncQuiet + max(m.opts.FeedCoalesce, 0))
	}
	return m
}

// filling reports whether account i's first sync of the session is still
// bringing its mail in (or its trailing feed batches are): a list cursor
// the user has not moved stays on the newest message meanwhile.
func (m Model) filling(i int) bool {
	st := m.accts[i].notify
	return (m.accts[i].syncing && !st.synced) || time.Now().Before(st.quietUntil)
}

// newMail returns the ids of changes that are new unread mail in INBOX.
func newMail(changes []accounts.Change) []int64 {
	gone := map[int64]bool{}
	for _, c := range changes {
		if c.Kind == accounts.ChangeExpunged {
			gone[c.ID] = true
		}
	}
	var out []int64
	for _, c := range changes {
		if c.Kind != accounts.ChangeMessageAdded || !strings.EqualFold(c.Mailbox, accounts.Inbox) || gone[c.ID] {
			continue
		}
		m := accounts.Message{Flags: c.Flags}
		if m.HasFlag(accounts.FlagSeen) {
			continue
		}
		out = append(out, c.ID)
	}
	return out
}

// noteNewMail adds the new mail of a feed batch to account i's notice.
func (m Model) noteNewMail(i int, changes []accounts.Change) (Model, tea.Cmd) {
	if m.opts.Notify == notifyOff {
		return m, nil
	}
	st := &m.accts[i].notify
	if st.seen == nil {
		st.seen = map[int64]bool{}
	}
	quiet := (m.accts[i].syncing && !st.synced) || time.Now().Before(st.quietUntil)
	for _, id := range newMail(changes) {
		if quiet {
			st.seen[id] = true // part of the first sync: never announced
			continue
		}
		if !st.seen[id] {
			st.seen[id] = true
			st.pending = append(st.pending, id)
		}
	}
	if len(st.pending) == 0 || st.armed {
		return m, nil
	}
	st.armed = true
	name := m.accts[i].b.Name()
	return m, tea.Tick(m.opts.NotifyDelay, func(time.Time) tea.Msg { return notifyTickMsg{account: name} })
}

// notice sends the notice of account's gathered new mail.
func (m Model) notice(msg notifyTickMsg) (tea.Model, tea.Cmd) {
	i := m.find(msg.account)
	if i < 0 {
		return m, nil
	}
	st := &m.accts[i].notify
	ids := st.pending
	st.pending, st.armed = nil, false
	b, ctx, o := m.accts[i].b, m.ctx, m.opts
	return m, func() tea.Msg {
		var msgs []accounts.Message
		for _, id := range ids {
			if x, err := b.Message(ctx, id); err == nil && !x.HasFlag(accounts.FlagSeen) {
				msgs = append(msgs, x)
			}
		}
		if len(msgs) == 0 {
			return nil // read (or gone) already
		}
		summary, body := noticeText(b.Name(), msgs)
		desktop := o.Notify != notifyBell && o.Desktop != nil
		sent := false
		if desktop {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			sent = o.Desktop(dctx, summary, body) == nil
			cancel()
		}
		if !sent && o.Notify != notifyDBus && o.Bell != nil {
			o.Bell()
		}
		first := strings.SplitN(body, "\n", 2)[0]
		return infoMsg{text: summary + ": " + first}
	}
}

// noticeText is "alice: 2 new messages" and a line per message (three
// at most, then how many more): "Ann Archer: Budget for Q3".
func noticeText(account string, msgs []accounts.Message) (string, string) {
	summary := fmt.Sprintf("%s: %s", account, plural(len(msgs), "new message"))
	var lines []string
	for i, x := range msgs {
		if i == 3 {
			lines = append(lines, fmt.Sprintf("and %d more", len(msgs)-3))
			break
		}
		subj := x.Subject
		if subj == "" {
			subj = "(no subject)"
		}
		lines = append(lines, truncate(sender(x, false), 40)+": "+truncate(subj, 80))
	}
	return summary, strings.Join(lines, "\n")
}
