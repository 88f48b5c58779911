package ui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

func wheel(x, y int, down bool) tea.MouseMsg {
	b := tea.MouseButtonWheelUp
	if down {
		b = tea.MouseButtonWheelDown
	}
	return tea.MouseMsg{X: x, Y: y, Action: tea.MouseActionPress, Button: b}
}

func click(x, y int) tea.MouseMsg {
	return tea.MouseMsg{X: x, Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft}
}

// TestMouseEverywhere: the wheel scrolls the reader, the help and the
// folder list under it; a click on an account opens its INBOX; a drag
// or a release does not act as a click (issue 15 item 10).
func TestMouseEverywhere(t *testing.T) {
	f, b, opts := twoAccounts(50)
	f.rendered = map[int64]*accounts.Rendered{1: {Text: longText()}}
	for i := 0; i < 30; i++ {
		b.msgs["Folder "+string(rune('A'+i))] = nil
	}
	h := newHarness(t, 90, 20, opts)
	h.keys("enter")
	h.send(wheel(40, 10, true))
	if h.m.reader.vp.YOffset == 0 {
		t.Fatal("the wheel did not scroll the reader")
	}
	h.wantView("lines 4–")
	h.send(wheel(40, 10, false))
	if h.m.reader.vp.YOffset != 0 {
		t.Fatalf("wheel up: offset %d", h.m.reader.vp.YOffset)
	}
	h.keys("q", "?")
	h.send(tea.WindowSizeMsg{Width: 60, Height: 15})
	h.send(wheel(10, 5, true))
	if h.m.help.offset == 0 {
		t.Fatal("the wheel did not scroll the help")
	}
	h.keys("q")
	h.send(tea.WindowSizeMsg{Width: 90, Height: 20})
	// Drags and releases are not clicks.
	h.send(tea.MouseMsg{X: 50, Y: 5, Action: tea.MouseActionMotion, Button: tea.MouseButtonLeft})
	h.send(tea.MouseMsg{X: 50, Y: 5, Action: tea.MouseActionRelease, Button: tea.MouseButtonLeft})
	if h.m.list.cursor != 0 {
		t.Fatalf("a drag moved the cursor to %d", h.m.list.cursor)
	}
	// bob's many folders: click bob, then wheel over the sidebar.
	h.send(click(2, 7)) // alice, her five folders, then bob
	h.wantView("bob › INBOX")
	before := h.m.sidebar.offset
	h.send(wheel(2, 5, true))
	if h.m.sidebar.offset <= before {
		t.Fatal("the wheel did not scroll the sidebar")
	}
	if h.m.folder != accounts.Inbox {
		t.Fatalf("the wheel opened %s", h.m.folder)
	}
}

// syncBuffer is a bytes.Buffer safe for the program's writer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMouseSetting: [ui] mouse = false leaves the mouse to the terminal
// (the program does not turn mouse reporting on).
func TestMouseSetting(t *testing.T) {
	for _, mouse := range []bool{true, false} {
		var out syncBuffer
		in, keys := io.Pipe()
		o := RunOptions{Accounts: []Backend{newFake("alice", 3)}, In: in, Out: &out}
		o.Settings.Keys, o.Settings.Theme, o.Settings.NoMouse = DefaultKeyMaps(), DefaultTheme(), !mouse
		done := make(chan error, 1)
		go func() { done <- Run(context.Background(), o) }()
		io.WriteString(keys, "Q")
		if err := waitRun(t, done); err != nil {
			t.Fatal(err)
		}
		keys.Close()
		if on := strings.Contains(out.String(), "\x1b[?1002h"); on != mouse {
			t.Fatalf("mouse %v: reporting turned on: %v", mouse, on)
		}
	}
	s, err := LoadSettingsWith(Config{UI: map[string]any{"mouse": false}}, "config.toml", "", env(nil))
	if err != nil || !s.NoMouse {
		t.Fatalf("[ui] mouse = false: %+v %v", s.NoMouse, err)
	}
}
