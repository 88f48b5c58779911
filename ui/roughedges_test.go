package ui

import (
	"strings"
	"testing"
)

// Issue 15 item 6: the rough edges.

func TestOneMessageNotMessages(t *testing.T) {
	f := newFake("alice", 1)
	h := newHarness(t, 90, 24, Options{Accounts: []Backend{f}})
	h.wantView("1 message, 0 unread")
	h.notView("1 messages")
	h.keys("t", "d")
	h.wantView("deleted message")
}

func TestNoteOfEarlierMessageCleared(t *testing.T) {
	_, _, opts := twoAccounts(10)
	h := newHarness(t, 90, 24, opts)
	h.keys("enter", "S")
	h.wantView("this message has no attachments")
	h.keys("J")
	h.wantView("Message number 2")
	h.notView("this message has no attachments")
	h.keys("S", "q")
	h.notView("this message has no attachments")
}

// TestSelectionKept: T and Esc after a search keep the selected message
// selected, wherever it is in the new order.
func TestSelectionKept(t *testing.T) {
	f := newFake("alice", 2000)
	h := newHarness(t, 90, 24, Options{Accounts: []Backend{f}})
	h.keys("G", "k", "k")
	if sel, _ := h.m.list.selected(); sel.ID != 1998 {
		t.Fatalf("selected %d", sel.ID)
	}
	h.keys("T")
	h.wantView("threads", "1998/2000")
	if sel, _ := h.m.list.selected(); sel.ID != 1998 {
		t.Fatalf("after T: selected %d", sel.ID)
	}
	h.keys("T")
	h.wantView("1998/2000")
	h.keys("/")
	h.typeText("number 150")
	h.keys("enter")
	h.wantView(`search "number 150": 11`)
	h.keys("j", "j")
	sel, _ := h.m.list.selected()
	h.keys("esc")
	h.wantView("2000 messages")
	if got, _ := h.m.list.selected(); got.ID != sel.ID || !strings.Contains(h.view(), "> ") {
		t.Fatalf("after esc: selected %d, want %d", got.ID, sel.ID)
	}
	if h.m.list.cursor != int(sel.ID)-1 {
		t.Fatalf("cursor %d for message %d", h.m.list.cursor, sel.ID)
	}
}

// TestHeaderKeepsPosition: in a narrow window the header gives up the
// help hint and the subject's tail before the position (the reader's
// lines and match, the list's row), which is what scrolling needs.
func TestHeaderKeepsPosition(t *testing.T) {
	f := newFake("alice", 40)
	f.msgs["INBOX"][0].Subject = "Übersicht drittes Quartal und die Planung für das nächste Jahr"
	for _, w := range []int{MinWidth, 72} {
		h := newHarness(t, w, 20, Options{Accounts: []Backend{f}})
		header := func() string { return strings.SplitN(h.view(), "\n", 2)[0] }
		if !strings.Contains(header(), "1/40") {
			t.Errorf("width %d: the list's header has no position: %q", w, header())
		}
		h.keys("enter")
		h.wantView("Übersicht drittes")
		if p := h.m.reader.position(); len(p) == 0 || !strings.Contains(header(), p[0]) || !strings.Contains(header(), "Übersicht") {
			t.Errorf("width %d: the reader's header has no position or subject: %q", w, header())
		}
		h.keys("/")
		h.typeText("body")
		h.keys("enter")
		if !strings.Contains(header(), "match 1/") {
			t.Errorf("width %d: the reader's header has no match: %q", w, header())
		}
	}
}
