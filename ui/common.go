package ui

import (
	"log/slog"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Common is what every component shares: the terminal size, the styles,
// the key map and the clock. It is built once and passed by pointer; only
// the root's Update changes it (on a window resize).
type Common struct {
	Width, Height int
	Styles        Styles
	// Keys is the key map of the main screen (sidebar, list), the help,
	// the picker and the composer; ReaderKeys that of the reader.
	Keys       KeyMap
	ReaderKeys KeyMap
	Renderer   *lipgloss.Renderer
	// Wrap is the widest the reader lays text out, in cells; 0 for the
	// window's width.
	Wrap int
	// Now is the clock (fixed in tests, so dates in goldens are stable).
	Now func() time.Time
	// Log receives diagnostics; it writes to a file, never the terminal.
	Log *slog.Logger
}

// NewCommon returns a Common with the theme's styles on renderer r and the
// key maps keys; a nil logger discards.
func NewCommon(r *lipgloss.Renderer, theme Theme, keys KeyMaps, log *slog.Logger) *Common {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Common{Styles: NewStyles(r, theme), Keys: keys.List, ReaderKeys: keys.Reader, Renderer: r, Now: time.Now, Log: log, Wrap: defaultWrap}
}

// Minimum size the layout is designed for; smaller terminals get a notice.
const (
	MinWidth  = 60
	MinHeight = 15
)

// sidebarWidth returns the width of the folder sidebar for a screen width.
func sidebarWidth(w int) int {
	return clamp(w/5, 14, 26)
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// ansiWidth is the display width of s in cells.
func ansiWidth(s string) int { return ansi.StringWidth(s) }
