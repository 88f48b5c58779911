package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// View draws the window: a header line, the body of the current screen,
// and the status line (or the prompt, which takes its place).
func (m Model) View() string {
	w, h := m.c.Width, m.c.Height
	if w == 0 || h == 0 || m.quitting {
		return ""
	}
	if w < MinWidth || h < MinHeight {
		msg := fmt.Sprintf("letterbox needs a %d×%d terminal (this one is %d×%d)", MinWidth, MinHeight, w, h)
		return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, truncate(msg, w))
	}
	if m.screen == screenWizard {
		return fitBlock(m.wizard.View(), w, h)
	}
	var body string
	switch m.screen {
	case screenReader:
		body = m.reader.View()
	case screenComposer:
		body = m.composer.View()
	case screenHelp:
		body = m.help.View()
	case screenPicker:
		body = m.picker.View()
	case screenChanges:
		body = m.changes.View()
	case screenSignIn:
		body = m.signin.View()
	default:
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.sidebar.View(), m.list.View())
	}
	bottom := m.status.View()
	if m.prompt.active() {
		bottom = m.prompt.View()
		if m.status.note != "" {
			// A note (a query error while typing) shares the line.
			note := m.c.Styles.StatusInfo
			if m.status.isErr {
				note = m.c.Styles.StatusError
			}
			half := w / 2
			bottom = padRight(m.prompt.View(), w-half) + note.Render(padRight(truncate(m.status.note, half), half))
		}
	}
	return m.header() + "\n" + fitBlock(body, w, h-2) + "\n" + padRight(bottom, w)
}

// header is the top line: where we are and what the list shows.
func (m Model) header() string {
	st := m.c.Styles
	w := m.c.Width
	name := ""
	if b := m.backend(); b != nil {
		name = b.Name()
	}
	left := st.Header.Render("letterbox") + " " + st.HeaderDim.Render(name+" › "+m.folder)
	var info []string
	switch m.screen {
	case screenReader:
		info = m.reader.position()
		// The subject takes at most half the line, and leaves room for
		// the last item of the position (at least ten cells of it).
		room := w / 2
		if len(info) > 0 {
			room = min(room, w-lipgloss.Width(left)-lipgloss.Width(" › ")-lipgloss.Width(info[len(info)-1])-1)
		}
		left += st.HeaderDim.Render(" › ") + st.Header.Render(truncate(m.reader.msg.Subject, max(10, room)))
	case screenComposer:
		left += st.HeaderDim.Render(" › ") + st.Header.Render("compose")
	default:
		if mb, ok := m.sidebar.box(m.cur, m.folder); ok && m.query == "" {
			info = append(info, fmt.Sprintf("%s, %d unread", plural(mb.Total, "message"), mb.Unread))
		}
		switch {
		case m.query != "" && m.list.err != nil:
			info = append(info, fmt.Sprintf("search %q: failed", m.query))
		case m.query != "":
			info = append(info, fmt.Sprintf("search %q: %d", m.query, max(0, m.list.total)))
		}
		if m.list.req.Threaded {
			info = append(info, "threads")
		}
		if n := len(m.list.tagged); n > 0 {
			info = append(info, fmt.Sprintf("%d tagged", n))
		}
		if p := m.list.position(); p != "" {
			info = append(info, p)
		}
	}
	room := w - lipgloss.Width(left) - 1
	if room < 8 {
		return padRight(left, w)
	}
	// In a narrow window the help hint goes first, then the items from
	// the front: the last one, the position, is what scrolling needs.
	right := strings.Join(info, " · ") + "  ? help"
	for i := 0; lipgloss.Width(right) > room && i < len(info); i++ {
		right = strings.Join(info[i:], " · ")
	}
	right = st.HeaderDim.Render(truncate(right, room))
	return left + strings.Repeat(" ", w-lipgloss.Width(left)-lipgloss.Width(right)) + right
}
