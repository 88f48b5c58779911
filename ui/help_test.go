package ui

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// TestStyledLinesKeepTheirEscapes: the help overlay and the status line
// cut lines that carry our own colours; cutting them must keep the
// escape sequences whole (a cut that sanitised them printed "[1;38;5;111m"
// on the screen), whatever the colour profile.
func TestStyledLinesKeepTheirEscapes(t *testing.T) {
	for _, p := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.ANSI} {
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(p)
		c := NewCommon(r, DefaultTheme(), DefaultKeyMap(), nil)
		h := helpModel{c: c, width: 80, height: 30}
		view := h.View()
		plain := ansi.Strip(view)
		if strings.Contains(plain, "[1;") || strings.Contains(plain, "38;5;") || strings.Contains(plain, "[0m") {
			t.Fatalf("profile %v: escape sequences shown as text:\n%s", p, plain)
		}
		if !strings.Contains(plain, "search") {
			t.Fatalf("profile %v: help lacks the descriptions:\n%s", p, plain)
		}
	}
}
