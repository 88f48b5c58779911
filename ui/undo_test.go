package ui

import (
	"slices"
	"testing"

	"github.com/letterbox-mail/letterbox/accounts"
)

// TestUndo: U reverses the last delete, move or flag change for a few
// seconds after it, and says so in the status line (issue 15 item 8).
func TestUndo(t *testing.T) {
	f, _, opts := twoAccounts(10)
	h := newHarness(t, 100, 24, opts)
	h.keys("d")
	wantCalls(t, f, "delete 1")
	h.wantView("deleted message", "U undoes", "9 messages")
	h.keys("U")
	wantCalls(t, f, "restore 1")
	h.wantView("undone", "10 messages", "Message number 1 ")
	if mb, _ := f.find(1); mb != "INBOX" {
		t.Fatalf("message 1 is in %s", mb)
	}
	// Nothing left to undo.
	h.keys("U")
	h.wantView("nothing to undo")

	// A flag change, from the reader.
	h.keys("enter", "F")
	wantCalls(t, f, `flags 2 +\Flagged -`)
	h.keys("U")
	wantCalls(t, f, "restore 2")
	if _, i := f.find(2); slices.Contains(f.msgs["INBOX"][i].Flags, accounts.FlagFlagged) {
		t.Fatal("flag not undone")
	}

	// A move, then the time runs out.
	h.keys("q", "m")
	h.typeText("Arch")
	h.keys("enter")
	wantCalls(t, f, "move 2 Archive")
	h.send(undoExpireMsg{seq: h.m.undoLast.seq})
	h.keys("U")
	h.wantView("nothing to undo")
	if mb, _ := f.find(2); mb != "Archive" {
		t.Fatalf("undone after the time ran out: in %s", mb)
	}
}

// TestDeleteForGoodAsks: a delete that removes for good (in Trash) asks
// first, whatever screen it comes from, and cannot be undone (issue 15
// item 7).
func TestDeleteForGoodAsks(t *testing.T) {
	f, _, opts := twoAccounts(10)
	f.plainTrash = true
	h := newHarness(t, 100, 24, opts)
	h.keys("d", "d")
	wantCalls(t, f, "delete 1", "delete 2")
	h.keys("tab", "G", "k", "enter") // Trash, above bob
	h.wantView("alice › Trash", "Message number 2")
	h.keys("enter", "d")
	h.wantView("Delete 1 message for good? (no undo) [y/N]")
	h.keys("n")
	h.wantView("cancelled")
	if got := f.Calls(); slices.Contains(got[2:], "delete 2") {
		t.Fatal("deleted without a yes")
	}
	h.keys("d", "y")
	h.waitView("deleted message")
	if mb, i := f.find(2); i >= 0 {
		t.Fatalf("message 2 still in %s", mb)
	}
	h.notView("U undoes")
	h.keys("U")
	h.wantView("nothing to undo")
}
