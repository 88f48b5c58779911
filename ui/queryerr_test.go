package ui

import (
	"testing"
)

// TestBadQueryPosition: a bad query typed in the interface gives the
// position the command line gives (the parser's, in the text as typed),
// and the list says the search failed instead of "loading…" (issue 15
// item 3).
func TestBadQueryPosition(t *testing.T) {
	b := openTestAccount(t, 5, map[string][]string{})
	h := newHarness(t, 100, 24, Options{Accounts: []Backend{b}})
	h.wantView("note 4")
	h.keys("/")
	h.typeText("from:ann (budget")
	h.keys("enter")
	h.wantView("position 10")
	h.notView("position 1:", "loading…")
	h.wantView("search failed")
	// A good query after it lists again.
	h.keys("/", "ctrl+u")
	h.typeText("note")
	h.keys("enter")
	h.wantView("note 4")
	h.notView("search failed")
}
