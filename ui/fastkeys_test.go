package ui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// A terminal read that holds several letters reaches Update as one
// KeyRunes message (Bubble Tea v1 groups them). Each must act as its own
// key, in order, wherever the focus is.
func TestFastTypedKeysActInOrder(t *testing.T) {
	tests := []struct {
		name  string
		runes string
		check func(t *testing.T, h *harness)
	}{
		{"jjjj moves four rows", "jjjj", func(t *testing.T, h *harness) {
			if h.m.list.cursor != 4 {
				t.Fatalf("cursor %d, want 4", h.m.list.cursor)
			}
		}},
		{"twenty j", "jjjjjjjjjjjjjjjjjjjj", func(t *testing.T, h *harness) {
			if h.m.list.cursor != 20 {
				t.Fatalf("cursor %d, want 20", h.m.list.cursor)
			}
		}},
		{"jjk nets one", "jjk", func(t *testing.T, h *harness) {
			if h.m.list.cursor != 1 {
				t.Fatalf("cursor %d, want 1", h.m.list.cursor)
			}
		}},
		{"slash then a query goes to the prompt", "/abc", func(t *testing.T, h *harness) {
			if !h.m.prompt.active() || h.m.prompt.input.Value() != "abc" {
				t.Fatalf("prompt active %v with %q, want the search prompt with abc", h.m.prompt.active(), h.m.prompt.input.Value())
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, opts := twoAccounts(40)
			h := newHarness(t, 100, 30, opts)
			h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(tc.runes)})
			tc.check(t, h)
		})
	}
}

// Seven `}` in one read switch seven folders forward (or stop at the
// last), like seven separate presses.
func TestFastFolderSwitches(t *testing.T) {
	_, _, opts := twoAccounts(5)
	one := newHarness(t, 100, 30, opts)
	for i := 0; i < 7; i++ {
		one.keys("}")
	}
	_, _, opts = twoAccounts(5)
	fast := newHarness(t, 100, 30, opts)
	fast.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("}}}}}}}")})
	if fast.m.cur != one.m.cur || fast.m.folder != one.m.folder {
		t.Fatalf("fast: account %d folder %q; one by one: account %d folder %q", fast.m.cur, fast.m.folder, one.m.cur, one.m.folder)
	}
	if one.m.cur == 0 && one.m.folder == "INBOX" {
		t.Fatal("} did not switch folders at all")
	}
}

// A bracketed paste stays one message (into the prompt, as text).
func TestPasteStaysWhole(t *testing.T) {
	_, _, opts := twoAccounts(40)
	h := newHarness(t, 100, 30, opts)
	h.keys("/")
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjjj"), Paste: true})
	if got := h.m.prompt.input.Value(); got != "jjjj" {
		t.Fatalf("prompt %q after paste", got)
	}
}

// An Esc typed just before another key reaches Update as that key with
// Alt: one terminal read held both, or tmux (escape-time, 500 ms by
// default) sent them as Meta. Where nothing binds the Alt key, it is the
// Esc, then the key. In a text field Alt keeps its word motions.
func TestEscThenKeyTypedFast(t *testing.T) {
	alt := func(k string) tea.KeyMsg { m := keyMsg(k); m.Alt = true; return m }
	t.Run("reader: esc j goes back and moves", func(t *testing.T) {
		_, _, opts := twoAccounts(40)
		h := newHarness(t, 100, 30, opts)
		h.keys("enter")
		h.wantView("this is the body")
		h.send(alt("j"))
		if h.m.screen != screenMain || h.m.list.cursor != 1 {
			t.Fatalf("screen %d cursor %d, want the list with the cursor on row 2", h.m.screen, h.m.list.cursor)
		}
	})
	t.Run("search prompt: esc j cancels and moves", func(t *testing.T) {
		_, _, opts := twoAccounts(40)
		h := newHarness(t, 100, 30, opts)
		h.keys("/")
		h.typeText("number")
		h.send(alt("j"))
		if h.m.prompt.active() || h.m.list.cursor != 1 {
			t.Fatalf("prompt active %v with %q, cursor %d; want no prompt and the cursor on row 2", h.m.prompt.active(), h.m.prompt.input.Value(), h.m.list.cursor)
		}
	})
	t.Run("search prompt: alt+b moves a word back", func(t *testing.T) {
		_, _, opts := twoAccounts(40)
		h := newHarness(t, 100, 30, opts)
		h.keys("/")
		h.typeText("one two")
		h.send(alt("b"))
		h.typeText("x")
		if got := h.m.prompt.input.Value(); !h.m.prompt.active() || got != "one xtwo" {
			t.Fatalf("prompt active %v with %q, want one xtwo", h.m.prompt.active(), got)
		}
	})
	t.Run("a bound alt key acts", func(t *testing.T) {
		_, _, opts := twoAccounts(40)
		h := newHarness(t, 100, 30, opts)
		if err := h.m.c.Keys.Override("top", []string{"g", "alt+g"}); err != nil {
			t.Fatal(err)
		}
		h.keys("j", "j")
		h.send(alt("g"))
		if h.m.quitting || h.m.list.cursor != 0 {
			t.Fatalf("quitting %v, cursor %d; want alt+g to go to the top", h.m.quitting, h.m.list.cursor)
		}
	})
}

// Esc goes back but never quits: on the list with nothing to go back
// from it says how to quit, so Esc pressed twice in the reader (or
// typed twice at once, Esc with Alt) leaves the list showing; q quits.
func TestEscDoesNotQuit(t *testing.T) {
	_, _, opts := twoAccounts(40)
	h := newHarness(t, 100, 30, opts)
	h.keys("esc")
	if h.m.quitting {
		t.Fatal("esc on the list quit")
	}
	h.wantView("q quits")
	h.keys("enter")
	h.send(tea.KeyMsg{Type: tea.KeyEsc, Alt: true})
	if h.m.quitting || h.m.screen != screenMain {
		t.Fatalf("esc esc in the reader: quitting %v, screen %d", h.m.quitting, h.m.screen)
	}
	h.keys("q")
	if !h.m.quitting {
		t.Fatal("q on the list did not quit")
	}
}
