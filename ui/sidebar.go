package ui

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// outboxName is the local mailbox of mail waiting for SMTP (accounts'
// OutboxName); the sidebar shows it only when it is not empty.
const outboxName = "Outbox"

// sidebarModel lists the accounts and, under the current account, its
// folders with unread counts.
type sidebarModel struct {
	c        *Common
	accounts []sidebarAccount
	account  int    // current account
	folder   string // current folder of the current account
	cursor   int    // entry under the cursor when focused
	offset   int    // first entry on screen
	focused  bool
	width    int
	height   int
}

type sidebarAccount struct {
	name  string
	boxes []accounts.Mailbox
	// refused counts the changes the server refused, shown as "!N".
	refused int
	// signIn says an OAuth2 sign-in expired, shown as "✗" (the
	// status line says which key signs in again).
	signIn bool
}

// entry is one line of the sidebar.
type entry struct {
	account int
	box     *accounts.Mailbox // nil for the account's own line
}

func newSidebar(c *Common, names []string) sidebarModel {
	s := sidebarModel{c: c, folder: accounts.Inbox}
	for _, n := range names {
		s.accounts = append(s.accounts, sidebarAccount{name: n})
	}
	return s
}

// setBoxes replaces the folders of account name, ordered for display.
func (s sidebarModel) setBoxes(name string, boxes []accounts.Mailbox) sidebarModel {
	for i := range s.accounts {
		if s.accounts[i].name == name {
			s.accounts[i].boxes = orderBoxes(boxes)
		}
	}
	return s
}

// specialRank orders the special folders after INBOX.
var specialRank = map[string]int{accounts.SpecialDrafts: 1, accounts.SpecialSent: 2, accounts.SpecialArchive: 3,
	accounts.SpecialJunk: 4, accounts.SpecialTrash: 5}

func orderBoxes(boxes []accounts.Mailbox) []accounts.Mailbox {
	out := append([]accounts.Mailbox(nil), boxes...)
	rank := func(mb accounts.Mailbox) int {
		switch {
		case mb.Name == accounts.Inbox:
			return 0
		case mb.Name == outboxName:
			return 9
		case specialRank[mb.SpecialUse] > 0:
			return specialRank[mb.SpecialUse]
		}
		return 6
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// entries returns the lines: every account, the current one's folders.
func (s sidebarModel) entries() []entry {
	var out []entry
	for i := range s.accounts {
		out = append(out, entry{account: i})
		if i != s.account {
			continue
		}
		for j := range s.accounts[i].boxes {
			mb := &s.accounts[i].boxes[j]
			if mb.Name == outboxName && mb.Total == 0 {
				continue
			}
			out = append(out, entry{account: i, box: mb})
		}
	}
	return out
}

// box returns the current folder's mailbox, if known.
func (s sidebarModel) box(account int, name string) (accounts.Mailbox, bool) {
	if account < 0 || account >= len(s.accounts) {
		return accounts.Mailbox{}, false
	}
	for _, mb := range s.accounts[account].boxes {
		if mb.Name == name {
			return mb, true
		}
	}
	return accounts.Mailbox{}, false
}

// folders returns the folder names of account i.
func (s sidebarModel) folders(i int) []string {
	var out []string
	if i < 0 || i >= len(s.accounts) {
		return nil
	}
	for _, mb := range s.accounts[i].boxes {
		out = append(out, mb.Name)
	}
	return out
}

// select makes folder of account i current and puts the cursor there.
func (s sidebarModel) choose(i int, folder string) sidebarModel {
	s.account, s.folder = i, folder
	for n, e := range s.entries() {
		if e.account == i && e.box != nil && e.box.Name == folder {
			s.cursor = n
		}
	}
	s.scrollToCursor()
	return s
}

// step returns the folder n places from the current one (next/previous
// folder keys), wrapping around.
func (s sidebarModel) step(n int) string {
	names := []string{}
	for _, e := range s.entries() {
		if e.box != nil && e.account == s.account {
			names = append(names, e.box.Name)
		}
	}
	if len(names) == 0 {
		return s.folder
	}
	cur := 0
	for i, nm := range names {
		if nm == s.folder {
			cur = i
		}
	}
	return names[((cur+n)%len(names)+len(names))%len(names)]
}

func (s *sidebarModel) scrollToCursor() {
	if s.height <= 0 {
		s.offset = 0
		return
	}
	h := s.height
	s.offset = min(s.offset, max(0, len(s.entries())-h))
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+h {
		s.offset = s.cursor - h + 1
	}
}

func (s sidebarModel) Update(msg tea.Msg) (sidebarModel, tea.Cmd) {
	ents := s.entries()
	switch msg := msg.(type) {
	case tea.KeyMsg:
		k := s.c.Keys
		switch {
		case key.Matches(msg, k.Down):
			s.cursor = min(s.cursor+1, len(ents)-1)
		case key.Matches(msg, k.Up):
			s.cursor = max(s.cursor-1, 0)
		case key.Matches(msg, k.Top):
			s.cursor = 0
		case key.Matches(msg, k.Bottom):
			s.cursor = len(ents) - 1
		case key.Matches(msg, k.Open):
			return s, s.pick(ents)
		}
		s.scrollToCursor()
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelDown:
			s.offset = min(s.offset+3, max(0, len(ents)-s.height))
			return s, nil
		case tea.MouseButtonWheelUp:
			s.offset = max(0, s.offset-3)
			return s, nil
		}
		if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft {
			if i := s.offset + msg.Y; i >= 0 && i < len(ents) {
				s.cursor = i
				return s, s.pick(ents)
			}
		}
	}
	return s, nil
}

// pick asks the root for the entry under the cursor: a folder, or an
// account's INBOX.
func (s sidebarModel) pick(ents []entry) tea.Cmd {
	if s.cursor < 0 || s.cursor >= len(ents) {
		return nil
	}
	e := ents[s.cursor]
	fm := folderMsg{account: s.accounts[e.account].name, folder: accounts.Inbox}
	if e.box != nil {
		fm.folder = e.box.Name
	}
	return func() tea.Msg { return fm }
}

func (s sidebarModel) View() string {
	st := s.c.Styles
	ents := s.entries()
	w := s.width - 1 // the last column is the separator
	iw := w - 1      // and the first is the cursor
	lines := make([]string, 0, s.height)
	for n := s.offset; n < len(ents) && len(lines) < s.height; n++ {
		e := ents[n]
		var line string
		style := st.SidebarItem
		if e.box == nil {
			a := s.accounts[e.account]
			line = truncate(a.name, iw)
			var marks []string
			if a.signIn {
				marks = append(marks, "✗")
			}
			if a.refused > 0 {
				marks = append(marks, fmt.Sprintf("!%d", a.refused))
			}
			if mark := strings.Join(marks, " "); mark != "" {
				mw := ansiWidth(mark)
				name := truncate(a.name, max(1, iw-mw-1))
				line = name + strings.Repeat(" ", max(1, iw-ansiWidth(name)-mw)) + mark
			}
			style = st.SidebarAccount
		} else {
			count := ""
			switch {
			case e.box.Name == outboxName:
				count = fmt.Sprint(e.box.Total)
			case e.box.Unread > 0:
				count = fmt.Sprint(e.box.Unread)
				style = st.SidebarUnread
			}
			name := truncate(e.box.Name, max(1, iw-2-len(count)-1))
			line = "  " + name + strings.Repeat(" ", max(1, iw-2-ansiWidth(name)-len(count))) + count
			if e.account == s.account && e.box.Name == s.folder {
				style = st.SidebarActive
			}
		}
		cur := " "
		if s.focused && n == s.cursor {
			cur = ">"
		}
		line = padRight(cur+line, w)
		lines = append(lines, style.Render(line)+st.Separator.Render("│"))
	}
	for len(lines) < s.height {
		lines = append(lines, strings.Repeat(" ", w)+st.Separator.Render("│"))
	}
	return strings.Join(lines, "\n")
}

// setSignIn marks account name as needing a new sign-in (or not).
func (s sidebarModel) setSignIn(name string, on bool) sidebarModel {
	accts := slices.Clone(s.accounts)
	for i := range accts {
		if accts[i].name == name {
			accts[i].signIn = on
		}
	}
	s.accounts = accts
	return s
}

// setRefused sets the number of refused changes shown beside account
// name.
func (s sidebarModel) setRefused(name string, n int) sidebarModel {
	accts := slices.Clone(s.accounts)
	for i := range accts {
		if accts[i].name == name {
			accts[i].refused = n
		}
	}
	s.accounts = accts
	return s
}
