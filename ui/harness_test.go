package ui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// harness drives a Model the way the Bubble Tea runtime does, but
// synchronously enough for assertions: every Cmd runs on its own
// goroutine, the messages they return are fed back to Update, and send
// returns once no message arrived for settleIdle. Cursor blinks and
// spinner ticks are dropped (they would re-arm forever).
type harness struct {
	t    testing.TB
	m    Model
	out  chan tea.Msg
	quit bool
}

const settleIdle = 250 * time.Millisecond

func testCommon() *Common {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	c := NewCommon(r, DefaultTheme(), DefaultKeyMaps(), nil)
	c.Now = func() time.Time { return testNow }
	return c
}

func newHarness(t testing.TB, w, h int, opts Options) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	hs := &harness{t: t, m: New(ctx, testCommon(), opts), out: make(chan tea.Msg, 256)}
	hs.run(hs.m.Init())
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs
}

func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() { h.out <- cmd() }()
}

func ignored(msg tea.Msg) bool {
	name := fmt.Sprintf("%T", msg)
	return strings.HasPrefix(name, "cursor.") || strings.HasPrefix(name, "spinner.") || strings.Contains(name, "blink")
}

func (h *harness) process(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
		return
	case tea.QuitMsg:
		h.quit = true
		return
	}
	if ignored(msg) {
		return
	}
	next, cmd := h.m.Update(msg)
	h.m = next.(Model)
	h.run(cmd)
}

// send feeds msg and everything it causes.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	h.process(msg)
	h.settle()
}

func (h *harness) settle() { h.settleFor(settleIdle) }

// settleFor processes messages until none came for idle.
func (h *harness) settleFor(idle time.Duration) {
	for {
		select {
		case msg := <-h.out:
			h.process(msg)
		case <-time.After(idle):
			return
		}
	}
}

// keys types each key: single characters, or names like "enter",
// "ctrl+s", "esc", "tab", "up".
func (h *harness) keys(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.process(keyMsg(k))
		h.settleFor(30 * time.Millisecond)
	}
	h.settle()
}

// typeText types s as runes.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.process(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	h.settle()
}

var keyNames = map[string]tea.KeyType{
	"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
	"up": tea.KeyUp, "down": tea.KeyDown, "ctrl+s": tea.KeyCtrlS, "ctrl+o": tea.KeyCtrlO, "ctrl+c": tea.KeyCtrlC,
	"ctrl+d": tea.KeyCtrlD, "ctrl+u": tea.KeyCtrlU, "ctrl+a": tea.KeyCtrlA, "ctrl+n": tea.KeyCtrlN,
	"pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "backspace": tea.KeyBackspace, "space": tea.KeySpace,
}

func keyMsg(k string) tea.KeyMsg {
	if t, ok := keyNames[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// view returns the screen as plain text.
func (h *harness) view() string { return ansi.Strip(h.m.View()) }

func (h *harness) wantView(subs ...string) {
	h.t.Helper()
	v := h.view()
	for _, s := range subs {
		if !strings.Contains(v, s) {
			h.t.Fatalf("screen lacks %q:\n%s", s, v)
		}
	}
}

// waitFor processes messages until cond holds, for up to 10 seconds.
func (h *harness) waitFor(cond func() bool) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case msg := <-h.out:
			h.process(msg)
		case <-deadline:
			h.t.Fatal("condition never held")
		}
	}
}

// waitView processes messages until the screen shows every one of subs,
// for up to 10 seconds: for results that arrive after a delay of the
// model's own (the change feed's coalescing), which a settle window must
// not be assumed to cover.
func (h *harness) waitView(subs ...string) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		v := h.view()
		missing := ""
		for _, s := range subs {
			if !strings.Contains(v, s) {
				missing = s
				break
			}
		}
		if missing == "" {
			return
		}
		select {
		case msg := <-h.out:
			h.process(msg)
		case <-deadline:
			h.t.Fatalf("screen never showed %q:\n%s", missing, v)
		}
	}
}

func (h *harness) notView(subs ...string) {
	h.t.Helper()
	v := h.view()
	for _, s := range subs {
		if strings.Contains(v, s) {
			h.t.Fatalf("screen has %q:\n%s", s, v)
		}
	}
}

// checkFrame asserts the frame is exactly w×h cells.
func checkFrame(t testing.TB, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("frame has %d lines, want %d:\n%s", len(lines), h, view)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Fatalf("line %d is %d cells wide, want %d: %q", i, n, w, ansi.Strip(l))
		}
	}
}
