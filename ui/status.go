package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// How long notes stay in the status line.
const (
	errorTTL = 10 * time.Second
	infoTTL  = 4 * time.Second
)

// statusModel is the bottom line: a note (an error or information, which
// expires), else the progress of running syncs per mailbox; on the right
// each account's online/offline state.
type statusModel struct {
	c        *Common
	note     string
	isErr    bool
	seq      int // of the current note; its expiry carries it
	progress map[string]progressEntry
	online   map[string]linkState
	accounts []string
	syncing  map[string]bool
	spin     spinner.Model
	width    int
}

type progressEntry struct {
	ev   accounts.SyncEvent
	when int // order of arrival
}

type linkState int

const (
	linkUnknown linkState = iota
	linkOnline
	linkOffline
	linkSignIn // an OAuth2 account whose sign-in expired (signin.go)
)

func newStatus(c *Common, accounts []string) statusModel {
	sp := spinner.New(spinner.WithSpinner(spinner.Line))
	return statusModel{c: c, progress: map[string]progressEntry{}, online: map[string]linkState{},
		accounts: accounts, syncing: map[string]bool{}, spin: sp}
}

// setNote shows text and returns the Cmd that expires it after ttl (by
// default infoTTL, errorTTL for errors).
func (s statusModel) setNote(text string, isErr bool, ttl time.Duration) (statusModel, tea.Cmd) {
	s.seq++
	s.note, s.isErr = text, isErr
	if ttl <= 0 {
		ttl = infoTTL
		if isErr {
			ttl = errorTTL
		}
	}
	seq := s.seq
	return s, tea.Tick(ttl, func(time.Time) tea.Msg { return statusExpireMsg{seq: seq} })
}

// clearNote removes the note now (it belonged to a message no longer
// shown); its pending expiry then does nothing.
func (s statusModel) clearNote() statusModel {
	s.seq++
	s.note, s.isErr = "", false
	return s
}

func (s statusModel) Update(msg tea.Msg) (statusModel, tea.Cmd) {
	switch msg := msg.(type) {
	case errMsg:
		s.c.Log.Error("status", "err", msg.err)
		return s.setNote(msg.err.Error(), true, 0)
	case infoMsg:
		return s.setNote(msg.text, false, msg.ttl)
	case statusExpireMsg:
		if msg.seq == s.seq {
			s.note, s.isErr = "", false
		}
	case syncStartedMsg:
		start := !s.anySyncing()
		s.syncing[msg.account] = true
		if start {
			return s, s.spin.Tick
		}
	case syncEventMsg:
		k := msg.account + "/" + msg.ev.Mailbox
		if msg.ev.Phase == accounts.PhaseDone || msg.ev.Phase == accounts.PhaseIdle {
			delete(s.progress, k)
		} else {
			s.progress[k] = progressEntry{ev: msg.ev, when: s.seqProgress()}
		}
		if msg.ev.Err != nil {
			return s.setNote(fmt.Sprintf("%s %s: %v", msg.account, msg.ev.Mailbox, msg.ev.Err), true, 0)
		}
	case syncDoneMsg:
		delete(s.syncing, msg.account)
		for k := range s.progress {
			if strings.HasPrefix(k, msg.account+"/") {
				delete(s.progress, k)
			}
		}
		switch {
		case needsSignIn(msg.err) || needsSignIn(msg.sum.OutboxErr):
			s.online[msg.account] = linkSignIn
		case msg.err == nil:
			s.online[msg.account] = linkOnline
		case msg.offline:
			s.online[msg.account] = linkOffline
		}
	case spinner.TickMsg:
		if !s.anySyncing() {
			return s, nil
		}
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(msg)
		return s, cmd
	}
	return s, nil
}

// seqProgress numbers progress entries so the newest show first.
func (s statusModel) seqProgress() int {
	n := 0
	for _, p := range s.progress {
		n = max(n, p.when)
	}
	return n + 1
}

func (s statusModel) anySyncing() bool { return len(s.syncing) > 0 }

// View draws the line, width cells wide.
func (s statusModel) View() string {
	st := s.c.Styles
	right := s.linkView()
	rw := ansiWidth(right)
	lw := max(0, s.width-rw-1)
	var left string
	switch {
	case s.note != "" && s.isErr:
		left = st.StatusError.Render(padRight(truncate(s.note, lw), lw))
	case s.note != "":
		left = st.StatusInfo.Render(padRight(truncate(s.note, lw), lw))
	default:
		left = s.progressView(lw)
	}
	return left + " " + right
}

// progressView shows the newest sync progress that fits in w cells.
func (s statusModel) progressView(w int) string {
	st := s.c.Styles
	if len(s.progress) == 0 {
		if s.anySyncing() {
			return st.Status.Render(padRight(s.spin.View()+" syncing…", w))
		}
		return strings.Repeat(" ", w)
	}
	entries := make([]progressEntry, 0, len(s.progress))
	for _, p := range s.progress {
		entries = append(entries, p)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].when > entries[j].when })
	var parts []string
	used := 0
	for _, p := range entries {
		part := s.progressPart(p.ev)
		pw := ansiWidth(part)
		if used+pw+2 > w && len(parts) > 0 {
			break
		}
		parts = append(parts, part)
		used += pw + 2
	}
	line := s.spin.View() + " " + strings.Join(parts, "  ")
	return padRight(truncateStyled(line, w), w)
}

// progressPart is "alice INBOX headers [####....] 40/100".
func (s statusModel) progressPart(ev accounts.SyncEvent) string {
	st := s.c.Styles
	label := fmt.Sprintf("%s %s %s", ev.Account, ev.Mailbox, ev.Phase)
	if ev.Total <= 0 {
		if ev.Done > 0 {
			return label + fmt.Sprintf(" %d", ev.Done)
		}
		return label
	}
	const bw = 10
	n := min(ev.Done*bw/ev.Total, bw)
	bar := st.BarFull.Render(strings.Repeat("█", n)) + st.BarEmpty.Render(strings.Repeat("░", bw-n))
	return fmt.Sprintf("%s %s %d/%d", label, bar, ev.Done, ev.Total)
}

// linkView is "alice ● bob ○": online, offline, or not yet known.
func (s statusModel) linkView() string {
	st := s.c.Styles
	var parts []string
	for _, a := range s.accounts {
		switch s.online[a] {
		case linkOnline:
			parts = append(parts, st.Online.Render(a+" ●"))
		case linkOffline:
			parts = append(parts, st.Offline.Render(a+" ○ offline"))
		case linkSignIn:
			parts = append(parts, st.Offline.Render(a+" ✗ sign in ("+s.c.Keys.SignIn.Help().Key+")"))
		default:
			parts = append(parts, st.Dim.Render(a+" ·"))
		}
	}
	return strings.Join(parts, " ")
}
