package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
)

// threadFake is an INBOX of two threads, in thread order (each thread's
// messages parent before child, as the store lists them):
//
//	Plans for Q3            (1)
//	├─ Re: Plans for Q3     (2)
//	│ └─ Re: Plans for Q3   (3)
//	│   └─ Budget numbers   (4, a new subject)
//	├─ Re: Plans for Q3     (5)
//	└─ Re: Plans for Q3     (6)
//	Lunch                   (7)
//	└─ Re: Lunch            (8)
func threadFake() *fakeBackend {
	f := newFake("alice", 0)
	add := func(id int64, thread int64, depth int, subj string) {
		f.msgs["INBOX"] = append(f.msgs["INBOX"], accounts.Message{ID: id, Mailbox: "INBOX", ThreadID: thread, Depth: depth,
			Subject: subj, Date: testNow.Add(-time.Duration(10-id) * time.Hour), Flags: []string{accounts.FlagSeen},
			From: []accounts.Address{{Name: "Ann Archer", Addr: "ann@example.test"}}})
	}
	add(1, 1, 0, "Plans for Q3")
	add(2, 1, 1, "Re: Plans for Q3")
	add(3, 1, 2, "RE: Plans for Q3")
	add(4, 1, 3, "Budget numbers")
	add(5, 1, 1, "Re: Plans for Q3")
	add(6, 1, 1, "Re: Plans for Q3")
	add(7, 2, 0, "Lunch")
	add(8, 2, 1, "Re: Lunch")
	return f
}

// TestThreadTree: the tree is drawn with ├ │ └ and a subject shows only
// where it changes (issue 15 item 6).
func TestThreadTree(t *testing.T) {
	f := threadFake()
	h := newHarness(t, 100, 20, Options{Accounts: []Backend{f}, Threads: true})
	h.wantView("Plans for Q3")
	var rows []string
	for _, l := range strings.Split(h.view(), "\n")[1:9] {
		i := strings.Index(l, "Ann Archer")
		rows = append(rows, strings.TrimRight(strings.TrimSpace(l[i+len("Ann Archer"):]), " "))
	}
	want := []string{
		"Plans for Q3",
		"├─",
		"│ └─",
		"│   └─ Budget numbers",
		"├─",
		"└─",
		"Lunch",
		"└─",
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Fatalf("row %d: %q, want %q\n%s", i, rows[i], want[i], strings.Join(rows, "\n"))
		}
	}
}

// TestCollapseThread: space (or za) folds the selected message's thread
// to its first row, with the number of messages hidden, and unfolds
// it; the selection stays on the thread; in a flat list it says how to
// turn threads on (issue 15 item 12).
func TestCollapseThread(t *testing.T) {
	f := threadFake()
	h := newHarness(t, 100, 20, Options{Accounts: []Backend{f}})
	h.keys("space")
	h.wantView("threads are off")
	h.keys("T", "j", "j")
	if sel, _ := h.m.list.selected(); sel.ID != 3 {
		t.Fatalf("selected %d", sel.ID)
	}
	h.keys("space")
	h.wantView("▸ Plans for Q3 (+5)", "Lunch", "1/3")
	h.notView("Budget numbers")
	if sel, _ := h.m.list.selected(); sel.ID != 1 {
		t.Fatalf("after folding: selected %d", sel.ID)
	}
	h.keys("j", "z", "a") // Lunch folds too, by the sequence
	h.wantView("▸ Lunch (+1)", "2/2")
	h.keys("k", "z", "a")
	h.wantView("Budget numbers", "├─", "▸ Lunch (+1)", "1/7")
	// z then something else: z is dropped, the other key acts.
	h.keys("z", "j")
	h.wantView("2/7")
}

// TestCollapsedThreadUnread: a folded thread whose hidden replies are
// unread still looks new: the N mark, the unread style, and how many of
// its messages are new; once read, the plain count.
func TestCollapsedThreadUnread(t *testing.T) {
	f := threadFake()
	f.msgs["INBOX"][4].Flags = nil // "Re: Plans for Q3" (5), hidden when folded
	h := newHarness(t, 100, 20, Options{Accounts: []Backend{f}, Threads: true})
	h.keys("space")
	h.wantView("▸ Plans for Q3 (+5, 1 new)")
	for _, l := range strings.Split(h.view(), "\n") {
		if strings.Contains(l, "▸ Plans for Q3") && !strings.Contains(l, " N ") {
			t.Fatalf("folded thread with an unread reply has no N mark: %q", l)
		}
	}
	f.msgs["INBOX"][4].Flags = []string{accounts.FlagSeen}
	h.keys("space", "space") // unfold, fold: listed again
	h.wantView("▸ Plans for Q3 (+5)")
}
