package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Color is one theme colour, given for each terminal depth: True as
// "#rrggbb", ANSI256 as "0".."255", ANSI as "0".."15". A colour set from
// ui.toml as one value is used for every depth and downsampled by the
// renderer. The zero Color means "the terminal's default".
type Color struct {
	True, ANSI256, ANSI string
}

func (c Color) terminal() lipgloss.TerminalColor {
	switch {
	case c.True == "" && c.ANSI256 == "" && c.ANSI == "":
		return lipgloss.NoColor{}
	case c.ANSI256 == "" && c.ANSI == "":
		return lipgloss.Color(c.True)
	}
	return lipgloss.CompleteColor{TrueColor: c.True, ANSI256: c.ANSI256, ANSI: c.ANSI}
}

// Theme is the palette the styles are built from. NoColor drops every
// colour but keeps bold, faint and reverse (what NO_COLOR asks for).
type Theme struct {
	Accent   Color // titles, the active folder, the cursor
	Text     Color // ordinary text
	Dim      Color // dates, counts, quoted text
	Unread   Color // unread messages and counts
	Flagged  Color // flagged marks
	Error    Color // errors
	OK       Color // online, success
	Warn     Color // offline, pending
	SelectFG Color // the selected row
	SelectBG Color
	Border   Color
	NoColor  bool
}

// DefaultTheme is a dark-terminal palette with 256- and 16-colour
// fallbacks.
func DefaultTheme() Theme {
	return Theme{
		Accent:   Color{"#7aa2f7", "111", "12"},
		Text:     Color{"#c0caf5", "252", "7"},
		Dim:      Color{"#737aa2", "244", "8"},
		Unread:   Color{"#e0af68", "179", "11"},
		Flagged:  Color{"#f7768e", "204", "9"},
		Error:    Color{"#f7768e", "204", "9"},
		OK:       Color{"#9ece6a", "149", "10"},
		Warn:     Color{"#e0af68", "179", "11"},
		SelectFG: Color{"#1a1b26", "234", "0"},
		SelectBG: Color{"#7aa2f7", "111", "12"},
		Border:   Color{"#3b4261", "238", "8"},
	}
}

// Set changes the colour called name ("accent", "dim", ...) to value: a
// "#rrggbb" hex colour or an ANSI number 0-255.
func (t *Theme) Set(name, value string) error {
	value = strings.TrimSpace(value)
	if !validColor(value) {
		return fmt.Errorf("theme.%s = %q: want #rrggbb or a colour number 0-255", name, value)
	}
	c := Color{True: value}
	fields := map[string]*Color{"accent": &t.Accent, "text": &t.Text, "dim": &t.Dim, "unread": &t.Unread,
		"flagged": &t.Flagged, "error": &t.Error, "ok": &t.OK, "warn": &t.Warn, "select_fg": &t.SelectFG,
		"select_bg": &t.SelectBG, "border": &t.Border}
	f, ok := fields[name]
	if !ok {
		return fmt.Errorf("theme.%s: unknown colour (accent, text, dim, unread, flagged, error, ok, warn, select_fg, select_bg, border)", name)
	}
	*f = c
	return nil
}

func validColor(v string) bool {
	if strings.HasPrefix(v, "#") {
		if len(v) != 7 {
			return false
		}
		_, err := strconv.ParseUint(v[1:], 16, 32)
		return err == nil
	}
	n, err := strconv.Atoi(v)
	return err == nil && n >= 0 && n <= 255
}

// Styles are the lipgloss styles of every component, built from a Theme.
type Styles struct {
	Header, HeaderDim           lipgloss.Style
	SidebarAccount, SidebarItem lipgloss.Style
	SidebarActive, SidebarCount lipgloss.Style
	SidebarUnread, Separator    lipgloss.Style
	Row, RowUnread, RowSelected lipgloss.Style
	RowTagged, RowDim           lipgloss.Style
	FlagMark, Thread            lipgloss.Style
	HeaderKey, HeaderValue      lipgloss.Style
	Quote, Body, Attachment     lipgloss.Style
	AttachmentSelected          lipgloss.Style
	Status, StatusError         lipgloss.Style
	StatusInfo, Online, Offline lipgloss.Style
	BarFull, BarEmpty           lipgloss.Style
	HelpKey, HelpDesc, Title    lipgloss.Style
	Overlay, Prompt, Dim        lipgloss.Style
	Error, OK, Warn, Label      lipgloss.Style
	// Match and MatchCurrent mark the reader's search hits.
	Match, MatchCurrent lipgloss.Style
}

// NewStyles builds the styles of theme on renderer r.
func NewStyles(r *lipgloss.Renderer, t Theme) Styles {
	if t.NoColor {
		t = Theme{NoColor: true}
	}
	fg := func(c Color) lipgloss.Style { return r.NewStyle().Foreground(c.terminal()) }
	var s Styles
	s.Header = fg(t.Accent).Bold(true)
	s.HeaderDim = fg(t.Dim)
	s.SidebarAccount = fg(t.Accent).Bold(true)
	s.SidebarItem = fg(t.Text)
	s.SidebarActive = fg(t.SelectFG).Background(t.SelectBG.terminal()).Bold(true)
	s.SidebarCount = fg(t.Dim)
	s.SidebarUnread = fg(t.Unread).Bold(true)
	s.Separator = fg(t.Border)
	s.Row = fg(t.Text)
	s.RowUnread = fg(t.Unread).Bold(true)
	s.RowSelected = fg(t.SelectFG).Background(t.SelectBG.terminal())
	s.RowTagged = fg(t.Flagged)
	s.RowDim = fg(t.Dim)
	s.FlagMark = fg(t.Flagged).Bold(true)
	s.Thread = fg(t.Dim)
	s.HeaderKey = fg(t.Accent).Bold(true)
	s.HeaderValue = fg(t.Text)
	s.Quote = fg(t.Dim).Faint(true)
	s.Body = fg(t.Text)
	s.Attachment = fg(t.Accent)
	s.AttachmentSelected = fg(t.SelectFG).Background(t.SelectBG.terminal())
	s.Status = fg(t.Text)
	s.StatusError = fg(t.Error).Bold(true)
	s.StatusInfo = fg(t.OK)
	s.Online = fg(t.OK)
	s.Offline = fg(t.Warn)
	s.BarFull = fg(t.Accent)
	s.BarEmpty = fg(t.Border)
	s.HelpKey = fg(t.Accent).Bold(true)
	s.HelpDesc = fg(t.Text)
	s.Title = fg(t.Accent).Bold(true)
	s.Overlay = r.NewStyle().Border(lipgloss.NormalBorder()).BorderForeground(t.Border.terminal()).Padding(0, 1)
	s.Prompt = fg(t.Accent).Bold(true)
	s.Dim = fg(t.Dim)
	s.Error = fg(t.Error)
	s.OK = fg(t.OK)
	s.Warn = fg(t.Warn)
	s.Label = fg(t.Dim).Bold(true)
	s.Match = r.NewStyle().Reverse(true)
	s.MatchCurrent = fg(t.SelectFG).Background(t.Flagged.terminal()).Bold(true)
	if t.NoColor {
		// Without colours, selection and unread stand out by attributes.
		s.SidebarActive = s.SidebarActive.Reverse(true)
		s.RowSelected = s.RowSelected.Reverse(true)
		s.AttachmentSelected = s.AttachmentSelected.Reverse(true)
		s.Quote = r.NewStyle().Faint(true)
		s.MatchCurrent = r.NewStyle().Reverse(true).Bold(true).Underline(true)
	}
	return s
}
