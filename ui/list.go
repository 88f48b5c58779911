package ui

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// The message list is virtualised: it knows how many rows its source has
// (a Count) and keeps only a window of at most winSize rows around what
// is on screen, fetched from the store a page at a time. Moving the
// cursor near an edge of the window fetches the window around the new
// position: by keyset (PageRequest.After, the row just before the new
// window) when that row is at hand, by offset otherwise. So a 100,000-row
// folder costs what a 100-row one does, in memory and per key press.
const (
	winSize   = 300 // rows kept
	winMargin = 40  // rows kept ready beyond the screen in each direction
)

// listModel is the message list of one folder or search.
type listModel struct {
	c       *Common
	ctx     context.Context
	b       Backend
	req     PageRequest // source: Folder, Query, Threaded
	showTo  bool        // a folder of sent mail: show recipients
	total   int         // rows in the source; -1 until counted
	cursor  int         // selected row
	top     int         // first row on screen
	height  int         // rows on screen
	width   int
	win     []accounts.Message
	winFrom int        // row of win[0]
	tree    []treeCell // threaded: the tree of each row of win
	// pageID and countID are the latest requests; older results drop.
	pageID, countID int
	pendingFrom     int // start of the page being fetched; -1 if none
	keepID          int64
	// moved is set once the user moves the cursor in this source (or it
	// opened on a chosen message); until then a reload during the first
	// sync leaves it on the first row.
	moved  bool
	tagged map[int64]bool
	err    error
}

func newList(c *Common, ctx context.Context) listModel {
	return listModel{c: c, ctx: ctx, total: -1, pendingFrom: -1, tagged: map[int64]bool{}}
}

// load points the list at a new source and starts fetching it. With
// keep, a message id, the list opens where that message is in the new
// source (T, leaving a search), asking the backend for its row first.
func (l listModel) load(b Backend, req PageRequest, showTo bool, keep int64) (listModel, tea.Cmd) {
	l.b, l.req, l.showTo = b, req, showTo
	l.total, l.cursor, l.top, l.win, l.winFrom, l.err, l.tree = -1, 0, 0, nil, 0, nil, nil
	l.keepID = 0
	l.tagged = map[int64]bool{}
	l.pendingFrom = -1
	l.moved = false
	if keep == 0 || req.Query != "" {
		return l.reload()
	}
	l.moved = true
	l.countID++
	l.pageID++ // a page on its way belongs to the old source
	l.keepID = keep
	return l, positionCmd(l.ctx, b, req, keep, l.countID)
}

// positionCmd counts the source and finds the row of message keep in it.
func positionCmd(ctx context.Context, b Backend, req PageRequest, keep int64, id int) tea.Cmd {
	return func() tea.Msg {
		n, err := b.Count(ctx, req)
		if err != nil {
			return countMsg{id: id, err: err, row: -1}
		}
		row, err := b.Position(ctx, req, keep)
		if err != nil {
			row = -1 // not there (any more): the list opens at the top
		}
		return countMsg{id: id, n: n, row: row}
	}
}

// reload re-counts the source and re-fetches the window where it is (a
// store change), keeping the selected message selected.
func (l listModel) reload() (listModel, tea.Cmd) { return l.refill(true) }

// refill is reload; with keep false a cursor the user has not moved
// stays on its row instead of following its message (the folder is
// being filled by the first sync: the newest message stays selected).
func (l listModel) refill(keep bool) (listModel, tea.Cmd) {
	if l.b == nil {
		return l, nil
	}
	if m, ok := l.selected(); ok && (keep || l.moved) {
		l.keepID = m.ID
	}
	l.countID++
	from := max(0, l.top-winMargin)
	if len(l.win) > 0 {
		from = l.winFrom
	}
	var page tea.Cmd
	l, page = l.fetch(from, false)
	return l, tea.Batch(countCmd(l.ctx, l.b, l.req, l.countID), page)
}

func countCmd(ctx context.Context, b Backend, req PageRequest, id int) tea.Cmd {
	return func() tea.Msg {
		n, err := b.Count(ctx, req)
		return countMsg{id: id, n: n, err: err, row: -1}
	}
}

// fetch asks for the window starting at row from. With keyset it
// continues after the row before from when that row is in the window.
func (l listModel) fetch(from int, keyset bool) (listModel, tea.Cmd) {
	l.pageID++
	l.pendingFrom = from
	req := l.req
	req.Limit = winSize
	req.Offset = from
	if i := from - 1 - l.winFrom; keyset && from > 0 && req.Query == "" && i >= 0 && i < len(l.win) {
		req.After = l.win[i].Key()
		req.Offset = 0
	}
	id, b, ctx := l.pageID, l.b, l.ctx
	return l, func() tea.Msg {
		msgs, err := b.Page(ctx, req)
		return pageMsg{id: id, start: from, msgs: msgs, err: err}
	}
}

// ensure fetches a new window when the screen (plus margins) is not
// covered by the current one.
func (l listModel) ensure() (listModel, tea.Cmd) {
	if l.b == nil || l.total <= 0 {
		return l, nil
	}
	need0 := max(0, l.top-winMargin)
	need1 := min(l.total, l.top+l.height+winMargin)
	end := l.winFrom + len(l.win)
	if need0 >= l.winFrom && need1 <= end {
		return l, nil
	}
	if p := l.pendingFrom; p >= 0 && need0 >= p && need1 <= p+winSize {
		return l, nil // the page on its way covers it
	}
	from := clamp(l.top-(winSize-l.height)/2, 0, max(0, l.total-winSize))
	return l.fetch(from, true)
}

func (l listModel) Update(msg tea.Msg) (listModel, tea.Cmd) {
	switch msg := msg.(type) {
	case countMsg:
		if msg.id != l.countID {
			return l, nil
		}
		if msg.err != nil {
			return l.fail(msg.err)
		}
		l.total = msg.n
		if msg.row >= 0 {
			// The kept message's row: the cursor there, mid-screen.
			l.cursor, l.top = msg.row, msg.row-l.height/2
		}
		l.clampCursor()
		return l.ensure()
	case pageMsg:
		if msg.id != l.pageID {
			return l, nil
		}
		l.pendingFrom = -1
		if msg.err != nil {
			return l.fail(msg.err)
		}
		l.err = nil
		if len(msg.msgs) == 0 && msg.start > 0 {
			// Rows went away under us: the source is shorter now.
			l.total = msg.start
			l.clampCursor()
			return l.fetch(max(0, msg.start-winSize/2), false)
		}
		l.win, l.winFrom = msg.msgs, msg.start
		l.tree = nil
		if l.req.Threaded {
			l.tree = threadTree(l.win)
		}
		if len(msg.msgs) < winSize && l.total != msg.start+len(msg.msgs) && l.total >= 0 {
			l.total = msg.start + len(msg.msgs)
		}
		if l.total < 0 {
			l.total = msg.start + len(msg.msgs)
		}
		if l.keepID != 0 {
			for i, m := range l.win {
				if m.ID == l.keepID {
					// The selection stays on its message and on its
					// screen row, but a list scrolled to the top stays
					// there, so new mail shows.
					row := l.cursor - l.top
					atTop := l.top == 0
					l.cursor = l.winFrom + i
					if !atTop {
						l.top = max(0, l.cursor-row)
					}
					break
				}
			}
			l.keepID = 0
		}
		l.clampCursor()
		return l.ensure()
	case tea.KeyMsg:
		k := l.c.Keys
		switch {
		case key.Matches(msg, k.Down):
			l.move(1)
		case key.Matches(msg, k.Up):
			l.move(-1)
		case key.Matches(msg, k.PageDown):
			l.move(max(1, l.height-1))
		case key.Matches(msg, k.PageUp):
			l.move(-max(1, l.height-1))
		case key.Matches(msg, k.HalfDown):
			l.move(max(1, l.height/2))
		case key.Matches(msg, k.HalfUp):
			l.move(-max(1, l.height/2))
		case key.Matches(msg, k.Top):
			l.move(-l.cursor)
		case key.Matches(msg, k.Bottom):
			l.move(l.total)
		case key.Matches(msg, k.Tag):
			if m, ok := l.selected(); ok {
				if l.tagged[m.ID] {
					delete(l.tagged, m.ID)
				} else {
					l.tagged[m.ID] = true
				}
				l.move(1)
			}
		case key.Matches(msg, k.NextMatch):
			l.nextMatch(1)
		case key.Matches(msg, k.PrevMatch):
			l.nextMatch(-1)
		default:
			return l, nil
		}
		l.moved = true
		return l.ensure()
	case tea.MouseMsg:
		l.moved = true
		switch msg.Button {
		case tea.MouseButtonWheelDown:
			l.scroll(3)
		case tea.MouseButtonWheelUp:
			l.scroll(-3)
		}
		return l.ensure()
	}
	return l, nil
}

// fail records that the count or a page of the source failed (a bad
// query, a folder gone): the list shows the error instead of rows, and
// the status line shows it once (the count and the page of one source
// usually fail alike).
func (l listModel) fail(err error) (listModel, tea.Cmd) {
	same := l.err != nil && l.err.Error() == err.Error()
	l.err = err
	l.win, l.winFrom, l.total, l.cursor, l.top = nil, 0, 0, 0, 0
	if same {
		return l, nil
	}
	return l, func() tea.Msg { return errMsg{err} }
}

// move moves the cursor by n rows, scrolling to keep it on screen.
func (l *listModel) move(n int) {
	l.cursor += n
	l.clampCursor()
}

// scroll moves the view by n rows, dragging the cursor along.
func (l *listModel) scroll(n int) {
	maxTop := max(0, l.total-l.height)
	l.top = clamp(l.top+n, 0, maxTop)
	l.cursor = clamp(l.cursor, l.top, l.top+l.height-1)
	l.clampCursor()
}

// click selects screen row y (0 = first row of the list); it reports
// whether the row was already selected (a second click opens).
func (l *listModel) click(y int) bool {
	row := l.top + y
	if row < 0 || row >= l.total {
		return false
	}
	again := row == l.cursor
	l.cursor = row
	l.moved = true
	l.clampCursor()
	return again
}

func (l *listModel) clampCursor() {
	if l.total <= 0 {
		l.cursor, l.top = 0, 0
		return
	}
	l.cursor = clamp(l.cursor, 0, l.total-1)
	h := max(1, l.height)
	if l.cursor < l.top {
		l.top = l.cursor
	}
	if l.cursor >= l.top+h {
		l.top = l.cursor - h + 1
	}
	l.top = clamp(l.top, 0, max(0, l.total-h))
}

// nextMatch moves to the next (dir 1) or previous row: in a search, the
// next match; in a folder, the next unread message among loaded rows.
func (l *listModel) nextMatch(dir int) {
	if l.req.Query != "" {
		l.move(dir)
		return
	}
	for i := l.cursor + dir; i >= l.winFrom && i < l.winFrom+len(l.win); i += dir {
		if !l.win[i-l.winFrom].HasFlag(accounts.FlagSeen) {
			l.cursor = i
			l.clampCursor()
			return
		}
	}
}

// setSize sets the rows and columns the list has on screen.
func (l listModel) setSize(w, h int) (listModel, tea.Cmd) {
	l.width, l.height = w, max(1, h)
	l.clampCursor()
	return l.ensure()
}

// row returns row i if it is loaded.
func (l listModel) row(i int) (accounts.Message, bool) {
	if i < l.winFrom || i >= l.winFrom+len(l.win) {
		return accounts.Message{}, false
	}
	return l.win[i-l.winFrom], true
}

// selected returns the message under the cursor, if loaded.
func (l listModel) selected() (accounts.Message, bool) { return l.row(l.cursor) }

// targets returns the ids an action applies to: the tagged messages, or
// the selected one.
func (l listModel) targets() []int64 {
	if len(l.tagged) > 0 {
		ids := make([]int64, 0, len(l.tagged))
		for id := range l.tagged {
			ids = append(ids, id)
		}
		return ids
	}
	if m, ok := l.selected(); ok {
		return []int64{m.ID}
	}
	return nil
}

// patch changes the loaded copy of message id (an optimistic update, the
// store change feed brings the truth).
func (l *listModel) patch(id int64, f func(*accounts.Message)) {
	for i := range l.win {
		if l.win[i].ID == id {
			f(&l.win[i])
		}
	}
}

func (l listModel) View() string {
	s := l.c.Styles
	var b strings.Builder
	if l.err != nil && len(l.win) == 0 {
		// A failed count or page (a bad query): say so where the rows
		// would be, since the status line's note expires.
		msg := "cannot list this folder: "
		if l.req.Query != "" {
			msg = "search failed: "
		}
		b.WriteString(s.Error.Render(padRight(truncate("  "+msg+l.err.Error(), l.width), l.width)))
		for i := 1; i < l.height; i++ {
			b.WriteString("\n" + strings.Repeat(" ", l.width))
		}
		return b.String()
	}
	if l.total == 0 {
		msg := "(no messages)"
		if l.req.Query != "" {
			msg = "(no messages match)"
		}
		b.WriteString(s.Dim.Render(padRight("  "+msg, l.width)))
		for i := 1; i < l.height; i++ {
			b.WriteString("\n" + strings.Repeat(" ", l.width))
		}
		return b.String()
	}
	now := l.c.Now()
	for y := 0; y < l.height; y++ {
		if y > 0 {
			b.WriteByte('\n')
		}
		i := l.top + y
		if l.total < 0 || i >= l.total {
			if y == 0 && l.total < 0 {
				b.WriteString(s.Dim.Render(padRight("  loading…", l.width)))
				continue
			}
			b.WriteString(strings.Repeat(" ", l.width))
			continue
		}
		m, ok := l.row(i)
		if !ok {
			b.WriteString(s.Dim.Render(padRight("  …", l.width)))
			continue
		}
		b.WriteString(l.renderRow(i, m, i == l.cursor, now))
	}
	return b.String()
}
