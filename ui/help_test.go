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
		c := NewCommon(r, DefaultTheme(), DefaultKeyMaps(), nil)
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

// TestHelpSectionsWhole: every section of the help overlay sits in one
// column under its title, is shown once however far it is scrolled, and
// no entry is cut, at the smallest size and at a wide one (issue 15
// item 5: the Reader section split, Composer twice when scrolled,
// entries cut).
func TestHelpSectionsWhole(t *testing.T) {
	for _, size := range [][2]int{{110, 28}, {60, 13}, {200, 58}, {80, 22}} {
		h := helpModel{c: testCommon(), width: size[0], height: size[1]}
		secs := h.sections()
		seen := map[string]bool{}
		for {
			lines := strings.Split(ansi.Strip(h.View()), "\n")[1:]
			titles := map[string]int{}
			for _, s := range secs {
				for y, l := range lines {
					x := strings.Index(l, s.title)
					if x < 0 || (x > 0 && l[x-1] != ' ') {
						continue
					}
					titles[s.title]++
					// The entries follow in the same column.
					for i, e := range s.entries {
						if y+1+i >= len(lines) {
							break
						}
						row := lines[y+1+i]
						if !strings.Contains(row, e[1]) {
							t.Fatalf("%v: %s: line %d lacks %q under its title:\n%s", size, s.title, y+1+i, e[1], strings.Join(lines, "\n"))
						}
					}
				}
			}
			for title, n := range titles {
				if n > 1 {
					t.Fatalf("%v offset %d: %s shown %d times:\n%s", size, h.offset, title, n, strings.Join(lines, "\n"))
				}
			}
			v := strings.Join(lines, "\n")
			if strings.Contains(v, "…") {
				t.Fatalf("%v: an entry is cut:\n%s", size, v)
			}
			for _, s := range secs {
				for _, e := range s.entries {
					if strings.Contains(v, e[1]) {
						seen[e[1]] = true
					}
				}
			}
			before := h.offset
			h, _ = h.Update(keyMsg("j"))
			if h.offset == before {
				break
			}
		}
		for _, s := range secs {
			for _, e := range s.entries {
				if !seen[e[1]] {
					t.Fatalf("%v: %q never shown", size, e[1])
				}
			}
		}
	}
}
