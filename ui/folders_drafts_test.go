package ui

import (
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/accounts"
)

// TestMovePickerCreates: a name that matches no folder is offered as a
// new folder; choosing it creates the folder, then moves there.
func TestMovePickerCreates(t *testing.T) {
	f, _, opts := twoAccounts(10)
	h := newHarness(t, 80, 24, opts)
	h.keys("m")
	h.typeText("Projects/2026")
	h.wantView(`+ create folder "Projects/2026"`)
	h.keys("enter")
	wantCalls(t, f, "create Projects/2026", "move 1 Projects/2026")
	h.wantView("created Projects/2026 and moved message there")
	// A name that is a folder already is not offered.
	h.keys("m")
	h.typeText("archive")
	h.notView("+ create folder")
	h.keys("esc")
}

// TestEditDraft: e on a message of Drafts opens it in the composer;
// saving replaces the saved draft, sending queues it and removes the
// draft. e on another message says it is not a draft.
func TestEditDraft(t *testing.T) {
	f, _, opts := twoAccounts(5)
	f.msgs["Drafts"] = []accounts.Message{{ID: 77, Mailbox: "Drafts", UID: 1, Date: testNow, Subject: "half written",
		To: []accounts.Address{{Addr: "bob@example.test"}}}}
	h := newHarness(t, 90, 26, opts)
	h.keys("e")
	h.wantView("not a draft")
	h.send(folderMsg{account: "alice", folder: "Drafts"})
	h.wantView("half written")
	h.keys("e")
	if h.m.screen != screenComposer || h.m.composer.draftID != 77 {
		t.Fatalf("screen %d, draft id %d", h.m.screen, h.m.composer.draftID)
	}
	h.wantView("draft text of half written", "bob@example.test")
	h.typeText("More. ")
	h.keys("ctrl+o")
	wantCalls(t, f, "replace draft 77 half written")
	h.wantView("draft saved")
	if d := f.drafts[len(f.drafts)-1]; !strings.HasPrefix(d.Body, "More. draft text") {
		t.Errorf("saved body %q", d.Body)
	}
	h.keys("enter", "e", "ctrl+s")
	wantCalls(t, f, "queue half written", "delete draft 77")
}

// TestFailedChangesView: a change the server refused shows after a sync
// as a notice and as "!1" beside the account; C lists it with the
// server's words; r retries it, d drops another after a yes.
func TestFailedChangesView(t *testing.T) {
	f, _, opts := twoAccounts(5)
	h := newHarness(t, 100, 26, opts)
	f.mu.Lock()
	f.failed = []FailedChange{{ID: 7, What: "move 1 message from INBOX to ~home", Error: "NO [CANNOT] Invalid mailbox name"},
		{ID: 9, What: "rename folder Plans to Ideas", Error: "NO [ALREADYEXISTS] Mailbox already exists"}}
	f.mu.Unlock()
	h.keys("s")
	h.waitView("2 change(s) refused by the server (C shows them)")
	h.wantView("!2")
	h.keys("C")
	h.wantView("Changes the server refused · alice", "7  move 1 message from INBOX to ~home", "the server said: NO [CANNOT] Invalid mailbox name")
	h.keys("r")
	wantCalls(t, f, "retry 7")
	h.waitView("change 7 goes again")
	h.notView("~home")
	h.keys("d")
	h.wantView("Drop")
	h.keys("y")
	wantCalls(t, f, "drop 9")
	h.waitView("none: every change reached the server")
	h.notView("!1", "!2")
	h.keys("q")
	if h.m.screen != screenMain {
		t.Fatalf("q: screen %d", h.m.screen)
	}
}
