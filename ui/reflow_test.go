package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/letterbox-mail/letterbox/accounts"
)

const prose72 = `Thanks for the notes from Tuesday. I went through the numbers again and
the travel line is still above what we agreed in March, mostly because of
the two extra trips to the Lyon office. Could you check whether those can
move to the next quarter? If not, we should tell finance before Friday so
that the forecast is right.`

func layoutText(text string, w int) []string {
	var out []string
	for _, l := range layoutBody(text, w) {
		p := ""
		if l.depth > 0 {
			p = strings.Repeat(">", l.depth)
			if l.text != "" {
				p += " "
			}
		}
		out = append(out, p+l.text)
	}
	return out
}

// TestReflow: one wrap rule for plain and HTML text (issue 15 item 6).
func TestReflow(t *testing.T) {
	// 72-column prose in 60 columns: even lines, not long and short.
	lines := layoutText(prose72, 60)
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 60 || i < len(lines)-1 && w < 45 {
			t.Fatalf("line %d is %d cells:\n%s", i, w, strings.Join(lines, "\n"))
		}
	}
	// It fits in 80: its own lines stay.
	if got := layoutText(prose72, 80); strings.Join(got, "\n") != prose72 {
		t.Fatalf("at 80:\n%s", strings.Join(got, "\n"))
	}
	for _, tc := range []struct {
		name, in string
		w        int
		want     []string
	}{
		{"flowed", "This line was flowed \nand goes on here.\n\nNew paragraph.", 80,
			[]string{"This line was flowed and goes on here.", "", "New paragraph."}},
		{"flowed quote", "> quoted and \n> flowed\n>> deeper \n>> still", 80,
			[]string{"> quoted and flowed", ">> deeper still"}},
		{"quote wraps with its marks", "> " + strings.Repeat("word ", 20) + "end", 40,
			[]string{"> word word word word word word word", "> word word word word word word word", "> word word word word word word end"}},
		{"code kept", "Run this:\n\n    go test ./...\n    go vet ./...\n", 80,
			[]string{"Run this:", "", "    go test ./...", "    go vet ./..."}},
		{"list kept", "- one thing that is here\n- another thing\n1. first\n2. second", 20,
			[]string{"- one thing that is", "here", "- another thing", "1. first", "2. second"}},
		{"signature", "Bye\n-- \nAnn Archer, Example Corp", 80,
			[]string{"Bye", "-- ", "Ann Archer, Example Corp"}},
		{"html paragraph", strings.Repeat("long html text ", 12), 80, nil},
	} {
		got := layoutText(tc.in, tc.w)
		if tc.want == nil {
			for _, l := range got {
				if ansi.StringWidth(l) > tc.w {
					t.Errorf("%s: line wider than %d: %q", tc.name, tc.w, l)
				}
			}
			continue
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// TestReaderWrapRule: HTML and plain text wrap by the same rule: at the
// window's width, at most 80 columns; 72-column prose in a 60-column
// window reads evenly.
func TestReaderWrapRule(t *testing.T) {
	f := newFake("alice", 3)
	f.rendered = map[int64]*accounts.Rendered{
		1: {Text: strings.Repeat("An HTML paragraph rendered as one long line of text. ", 10), FromHTML: true},
		2: {Text: prose72},
	}
	h := newHarness(t, 200, 40, Options{Accounts: []Backend{f}})
	h.keys("enter")
	h.wantView("An HTML paragraph")
	for _, l := range strings.Split(h.m.reader.body(), "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Fatalf("HTML line of %d cells at 200 columns: %q", w, l)
		}
	}
	h.send(tea.WindowSizeMsg{Width: 60, Height: 30})
	h.keys("J")
	h.wantView("Thanks for the notes")
	lines := strings.Split(strings.TrimRight(h.m.reader.body(), "\n"), "\n")
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 60 || i < len(lines)-1 && w < 45 {
			t.Fatalf("line %d of %d cells at 60 columns:\n%s", i, w, strings.Join(lines, "\n"))
		}
	}
}
