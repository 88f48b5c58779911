package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/letterbox-mail/letterbox/accounts"
)

// One row of the message list, and the text helpers it uses.

// renderRow draws row i: cursor, marks, date, sender, subject (in a
// threaded list, after the thread tree, and only where it changes).
func (l listModel) renderRow(i int, m accounts.Message, selected bool, now time.Time) string {
	s := l.c.Styles
	cur := "  "
	if selected {
		cur = "> "
	}
	marks := []byte("    ")
	if l.tagged[m.ID] {
		marks[0] = '*'
	}
	// A folded thread is new while any of its messages is.
	unread := !m.HasFlag(accounts.FlagSeen) || m.ThreadUnread > 0
	if unread {
		marks[1] = 'N'
	} else if m.HasFlag(accounts.FlagAnswered) {
		marks[1] = 'r'
	}
	if m.HasFlag(accounts.FlagFlagged) {
		marks[2] = '!'
	}
	if m.HasAttachment {
		marks[3] = '@'
	}
	date := shortDate(m.Date, now)
	who := sender(m, l.showTo)
	rest := l.width - 2 - 5 - 9
	whoW := clamp(rest/3, 8, 24)
	subjW := max(0, rest-whoW-1)
	subj := m.Subject
	if subj == "" {
		subj = "(no subject)"
	}
	if j := i - l.winFrom; l.req.Threaded && j >= 0 && j < len(l.tree) {
		cell := l.tree[j]
		if !cell.showSubject {
			subj = ""
		}
		subj = cell.prefix + subj
		if m.ThreadSize > 1 {
			if m.ThreadUnread > 0 {
				subj = fmt.Sprintf("▸ %s (+%d, %d new)", subj, m.ThreadSize-1, m.ThreadUnread)
			} else {
				subj = fmt.Sprintf("▸ %s (+%d)", subj, m.ThreadSize-1)
			}
		}
	}
	line := cur + string(marks) + " " + padRight(date, 8) + " " + padRight(truncate(who, whoW), whoW) + " " + truncate(subj, subjW)
	line = padRight(line, l.width)
	switch {
	case selected:
		return s.RowSelected.Render(line)
	case l.tagged[m.ID]:
		return s.RowTagged.Render(line)
	case unread:
		return s.RowUnread.Render(line)
	}
	return s.Row.Render(line)
}

// sender names who a row is from (or, in sent mail, to).
func sender(m accounts.Message, showTo bool) string {
	list, prefix := m.From, ""
	if showTo {
		list, prefix = m.To, "to "
	}
	if len(list) == 0 {
		return prefix + "?"
	}
	if list[0].Name != "" {
		return prefix + list[0].Name
	}
	return prefix + list[0].Addr
}

// shortDate is "15:04" today, "Jan 02" this year, "06-01-02" before.
func shortDate(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(now.Location())
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan 02")
	}
	return t.Format("06-01-02")
}

// truncate cuts s to w cells, with an ellipsis.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return ansi.Truncate(s, w, "…")
}

// truncateStyled cuts an already styled line (our own ANSI sequences,
// kept intact) to w cells, with an ellipsis. Untrusted text goes through
// truncate first, which turns control characters, ESC included, into
// spaces.
func truncateStyled(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// padRight pads s with spaces to w cells (s must fit).
func padRight(s string, w int) string {
	n := ansi.StringWidth(s)
	if n >= w {
		return ansi.Truncate(s, w, "")
	}
	return s + strings.Repeat(" ", w-n)
}

// position describes where the cursor is, for the header.
func (l listModel) position() string {
	if l.total <= 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", l.cursor+1, l.total)
}

// plural is "1 message", "3 messages".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
