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
