package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

func twoAccounts(n int) (*fakeBackend, *fakeBackend, Options) {
	a, b := newFake("alice", n), newFake("bob", 3)
	return a, b, Options{Accounts: []Backend{a, b}}
}

func wantCalls(t *testing.T, f *fakeBackend, want ...string) {
	t.Helper()
	got := f.Calls()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Fatalf("calls %q lack %q", got, w)
		}
	}
}

func TestMainScreen(t *testing.T) {
	_, _, opts := twoAccounts(40)
	h := newHarness(t, 100, 30, opts)
	h.wantView("alice › INBOX", "40 messages, 13 unread", "Message number 1", "Ann Archer", "INBOX", "Archive", "bob")
	// Outbox is empty: not listed.
	h.notView("Outbox")
	checkFrame(t, h.m.View(), 100, 30)
}

func TestListVirtualised(t *testing.T) {
	f := newFake("alice", 100000)
	h := newHarness(t, 100, 30, Options{Accounts: []Backend{f}})
	if h.m.list.total != 100000 || len(h.m.list.win) > winSize {
		t.Fatalf("total %d, window %d rows", h.m.list.total, len(h.m.list.win))
	}
	h.keys("G")
	h.wantView("Message number 100000", "100000/100000")
	if len(h.m.list.win) > winSize || h.m.list.winFrom < 100000-winSize {
		t.Fatalf("after G: window of %d rows from %d", len(h.m.list.win), h.m.list.winFrom)
	}
	h.keys("g")
	h.wantView("> ", "Message number 1 ")
	// Scrolling page by page through 2,000 rows fetches a window now
	// and then, by keyset, and never holds more than winSize rows.
	before := f.pages
	for i := 0; i < 70; i++ {
		h.process(keyMsg("pgdown"))
	}
	h.settle()
	if got := h.m.list.cursor; got != 70*27 {
		t.Fatalf("cursor %d after 70 pages", got)
	}
	if n := f.pages - before; n == 0 || n > 30 {
		t.Fatalf("%d page fetches for 70 page-downs", n)
	}
	if m, ok := h.m.list.selected(); !ok || m.ID != int64(70*27+1) {
		t.Fatalf("selected %+v %v", m.ID, ok)
	}
}

func TestStaleResultsDropped(t *testing.T) {
	_, _, opts := twoAccounts(10)
	h := newHarness(t, 80, 20, opts)
	old := h.m.list.pageID - 1
	h.send(pageMsg{id: old, start: 0, msgs: []accounts.Message{{ID: 999, Subject: "stale"}}})
	h.notView("stale")
	h.send(renderedMsg{id: h.m.reader.id - 1, r: &accounts.Rendered{Text: "stale body"}})
	if h.m.reader.r != nil {
		t.Fatal("stale render kept")
	}
}

func TestOpenMarksRead(t *testing.T) {
	f, _, opts := twoAccounts(10)
	h := newHarness(t, 80, 24, opts)
	h.keys("j", "j", "enter") // message 3 is unread
	if h.m.screen != screenReader {
		t.Fatal("not in the reader")
	}
	h.wantView("Subject: Message number 3", "this is the body of Message number 3", "> the quoted text")
	wantCalls(t, f, `flags 3 +\Seen -`)
	h.keys("J")
	h.wantView("Message number 4")
	h.keys("q")
	if h.m.screen != screenMain {
		t.Fatal("q did not close the reader")
	}
}

func TestReaderWrapsAndListsAttachments(t *testing.T) {
	_, _, opts := twoAccounts(10)
	h := newHarness(t, 60, 20, opts)
	h.keys("4", "j", "j", "j", "j", "enter") // message 5 has an attachment
	h.keys("G")
	h.wantView("[1] report.pdf", "application/pdf", "120 KB")
	checkFrame(t, h.m.View(), 60, 20)
	content := h.m.reader.content()
	for _, l := range strings.Split(content, "\n") {
		if w := ansiWidth(l); w > 60 {
			t.Fatalf("line not wrapped (%d cells): %q", w, l)
		}
	}
}

func TestToggleFlags(t *testing.T) {
	f, _, opts := twoAccounts(10)
	h := newHarness(t, 80, 24, opts)
	h.keys("F")
	wantCalls(t, f, `flags 1 +\Flagged -`)
	h.wantView("!")
	h.keys("u")
	wantCalls(t, f, `flags 1 + -\Seen`)
}

func TestDeleteSingleAndBulk(t *testing.T) {
	f, _, opts := twoAccounts(10)
	h := newHarness(t, 80, 24, opts)
	h.keys("d")
	wantCalls(t, f, "delete 1")
	h.wantView("deleted message", "9 messages")
	h.keys("t", "t", "d")
	h.wantView("Delete 2 messages? [y/N]")
	if slices.Contains(f.Calls(), "delete 2,3") {
		t.Fatal("deleted before the answer")
	}
	h.keys("n")
	h.wantView("cancelled")
	h.keys("d", "y") // the tags stay after a "no"
	wantCalls(t, f, "delete 2,3")
}

func TestArchiveAndMovePicker(t *testing.T) {
	f, _, opts := twoAccounts(10)
	h := newHarness(t, 80, 24, opts)
	h.keys("a")
	wantCalls(t, f, "archive 1")
	h.keys("m")
	h.wantView("Move 1 message to…", "Archive", "Trash")
	h.typeText("tr")
	if h.m.picker.matches[0] != "Trash" {
		t.Fatalf("fuzzy matches %q", h.m.picker.matches)
	}
	h.keys("enter")
	wantCalls(t, f, "move 2 Trash")
	if h.m.screen != screenMain {
		t.Fatal("picker still open")
	}
	h.keys("m", "esc")
	if h.m.screen != screenMain {
		t.Fatal("esc did not close the picker")
	}
}

func TestReplyAndSend(t *testing.T) {
	f, _, opts := twoAccounts(10)
	h := newHarness(t, 90, 26, opts)
	h.keys("enter", "r")
	if h.m.screen != screenComposer {
		t.Fatal("no composer")
	}
	h.wantView("To:", "Bob Baker <bob@example.test>", "Re: Message number 1", "> quoted")
	h.typeText("Thanks!")
	h.keys("ctrl+s")
	wantCalls(t, f, "queue Re: Message number 1", "answered 1", "flush")
	if h.m.screen != screenReader {
		t.Fatalf("after send: screen %d", h.m.screen)
	}
	if d := f.queued[0]; !strings.HasPrefix(d.Body, "Thanks!") || d.InReplyTo != "m1@example.test" {
		t.Fatalf("queued %+v", d)
	}
	h.keys("q", "R")
	h.wantView("list@example.test")
	h.keys("esc")
	if h.m.screen != screenMain {
		t.Fatal("esc on an unchanged reply did not close it")
	}
	h.keys("f")
	h.wantView("Fwd: Message number 1", "Forwarded message")
}

func TestComposeCompletionAndErrors(t *testing.T) {
	f, _, opts := twoAccounts(10)
	h := newHarness(t, 90, 26, opts)
	h.keys("c")
	h.typeText("dm")
	h.wantView("Dmitri Volkov <dmitri@example.test>")
	h.keys("tab")
	if v := h.m.composer.fields[fieldTo].Value(); v != "Dmitri Volkov <dmitri@example.test>, " {
		t.Fatalf("To after completion: %q", v)
	}
	h.keys("tab", "tab", "tab")
	h.typeText("Plans")
	h.keys("ctrl+o")
	wantCalls(t, f, "draft Plans")
	h.wantView("draft saved")

	h.keys("c", "ctrl+s")
	h.wantView("no recipient")
	h.typeText("not an address")
	h.keys("ctrl+s")
	h.wantView("To:")
	if h.m.screen != screenComposer {
		t.Fatal("sent with a bad address")
	}
	h.keys("esc")
	h.wantView("Discard this message? [y/N]")
	h.keys("y")
	if h.m.screen != screenMain {
		t.Fatal("not discarded")
	}
}

func TestComposerAttach(t *testing.T) {
	_, _, opts := twoAccounts(3)
	h := newHarness(t, 90, 26, opts)
	h.keys("c", "ctrl+a")
	h.wantView("attach file:")
	h.typeText("/nonexistent/file.pdf")
	h.keys("enter")
	h.wantView("attach: stat /nonexistent/file.pdf")
	h.keys("ctrl+a")
	h.typeText("harness_test.go")
	h.keys("enter")
	h.wantView("Attach:    harness_test.go")
}

func TestSearchAsYouType(t *testing.T) {
	_, _, opts := twoAccounts(30)
	h := newHarness(t, 90, 26, opts)
	h.keys("/")
	h.typeText("number 2")
	// "number 2", "number 20".."number 29": 11 matches, shown while typing.
	if h.m.list.total != 11 || h.m.query != "number 2" {
		t.Fatalf("while typing: %d rows for %q", h.m.list.total, h.m.query)
	}
	h.wantView(`search "number 2": 11`)
	h.keys("enter", "n")
	if h.m.list.cursor != 1 {
		t.Fatal("n did not go to the next match")
	}
	h.keys("esc")
	if h.m.query != "" || h.m.list.total != 30 {
		t.Fatalf("esc: query %q, %d rows", h.m.query, h.m.list.total)
	}
	h.keys("/")
	h.typeText("(")
	h.wantView("unbalanced parenthesis")
}

func TestSyncProgressAndOffline(t *testing.T) {
	f, b, opts := twoAccounts(5)
	f.syncEv = []accounts.SyncEvent{{Account: "alice", Mailbox: "INBOX", Phase: accounts.PhaseHeaders, Done: 5, Total: 5}}
	b.syncErr = errOffline
	h := newHarness(t, 100, 24, opts)
	h.keys("s")
	wantCalls(t, f, "sync")
	h.wantView("alice: 2 new", "alice ●")
	h.keys("]", "s")
	h.wantView("bob ○ offline", "offline")
}

func TestStatusProgressBars(t *testing.T) {
	c := testCommon()
	s := newStatus(c, []string{"alice"})
	s.width = 100
	s, _ = s.Update(syncStartedMsg{account: "alice"})
	s, _ = s.Update(syncEventMsg{account: "alice", ev: accounts.SyncEvent{Account: "alice", Mailbox: "INBOX", Phase: accounts.PhaseHeaders, Done: 40, Total: 100}})
	s, _ = s.Update(syncEventMsg{account: "alice", ev: accounts.SyncEvent{Account: "alice", Mailbox: "Sent", Phase: accounts.PhaseBodies, Done: 1, Total: 4}})
	v := s.View()
	for _, want := range []string{"alice Sent bodies ██░░░░░░░░ 1/4", "alice INBOX headers ████░░░░░░ 40/100", "alice ·"} {
		if !strings.Contains(v, want) {
			t.Fatalf("status %q lacks %q", v, want)
		}
	}
	s, _ = s.Update(syncDoneMsg{account: "alice"})
	if v := s.View(); strings.Contains(v, "INBOX") || !strings.Contains(v, "alice ●") {
		t.Fatalf("after done: %q", v)
	}
	s, cmd := s.Update(errMsg{errOffline})
	if !strings.Contains(s.View(), "connection refused") || cmd == nil {
		t.Fatal("error not shown or not expiring")
	}
	s, _ = s.Update(statusExpireMsg{seq: s.seq})
	if strings.Contains(s.View(), "connection refused") {
		t.Fatal("error did not expire")
	}
}

func TestFeedRefreshesList(t *testing.T) {
	f, _, opts := twoAccounts(5)
	// Longer than the harness's settle window, which the test must not
	// rely on.
	opts.FeedCoalesce = 8 * settleIdle
	h := newHarness(t, 90, 24, opts)
	f.mu.Lock()
	m := f.msgs["INBOX"][0]
	m.ID, m.Subject = 77, "Fresh arrival"
	f.msgs["INBOX"] = append([]accounts.Message{m}, f.msgs["INBOX"]...)
	f.mu.Unlock()
	f.feed.publish(accounts.Change{Kind: accounts.ChangeMessageAdded, Mailbox: "INBOX", ID: 77})
	// The feed Cmd gathers changes for opts.FeedCoalesce before the
	// refresh: wait for the refresh itself, not for a settle window.
	h.waitView("Fresh arrival", "6 messages")
	// The selection stays on the message it was on.
	if sel, _ := h.m.list.selected(); sel.ID != 1 {
		t.Fatalf("selection moved to %d", sel.ID)
	}
}

func TestAccountsAndFolders(t *testing.T) {
	_, _, opts := twoAccounts(5)
	h := newHarness(t, 90, 24, opts)
	h.keys("]")
	h.wantView("bob › INBOX", "3 messages", "alice")
	h.keys("[", "}")
	h.wantView("alice › Drafts", "(no messages)")
	h.keys("tab", "j", "j", "enter")
	h.wantView("alice › Archive")
	h.keys("T")
	h.wantView("threads")
}

func TestHelpOverlay(t *testing.T) {
	_, _, opts := twoAccounts(5)
	h := newHarness(t, 120, 40, opts)
	h.keys("?")
	h.wantView("Keys", "delete (to Trash)", "reply to all", "save attachment", "send")
	h.keys("?")
	if h.m.screen != screenMain {
		t.Fatal("? did not close help")
	}
}

func TestResizeDownTo60x15(t *testing.T) {
	_, _, opts := twoAccounts(50)
	h := newHarness(t, 120, 40, opts)
	for _, size := range [][2]int{{60, 15}, {80, 24}, {200, 60}, {61, 16}} {
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		checkFrame(t, h.m.View(), size[0], size[1])
		h.keys("enter")
		checkFrame(t, h.m.View(), size[0], size[1])
		h.keys("q", "?")
		checkFrame(t, h.m.View(), size[0], size[1])
		h.keys("q", "c")
		checkFrame(t, h.m.View(), size[0], size[1])
		h.keys("esc")
	}
	h.send(tea.WindowSizeMsg{Width: 40, Height: 10})
	h.wantView("needs a 60×15 terminal")
}

func TestMouse(t *testing.T) {
	_, _, opts := twoAccounts(50)
	h := newHarness(t, 90, 24, opts)
	h.send(tea.MouseMsg{X: 50, Y: 4, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if h.m.list.cursor != 3 {
		t.Fatalf("click selected row %d", h.m.list.cursor)
	}
	h.send(tea.MouseMsg{X: 50, Y: 4, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if h.m.screen != screenReader {
		t.Fatal("second click did not open")
	}
	h.keys("q")
	h.send(tea.MouseMsg{X: 50, Y: 4, Action: tea.MouseActionPress, Button: tea.MouseButtonWheelDown})
	if h.m.list.top != 3 {
		t.Fatalf("wheel: top %d", h.m.list.top)
	}
	h.send(tea.MouseMsg{X: 2, Y: 4, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if h.m.folder != "Sent" {
		t.Fatalf("click in the sidebar opened %s", h.m.folder)
	}
}

func TestEditorResult(t *testing.T) {
	_, _, opts := twoAccounts(3)
	h := newHarness(t, 90, 26, opts)
	h.keys("c")
	t.Setenv("EDITOR", "true")
	if cmd := h.m.composer.editor(); cmd == nil {
		t.Fatal("no editor command")
	}
	path := t.TempDir() + "/body.txt"
	if err := os.WriteFile(path, []byte("written in vi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.send(editorDoneMsg{path: path})
	if v := h.m.composer.body.Value(); v != "written in vi\n" {
		t.Fatalf("body %q", v)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("temporary file left behind")
	}
	h.send(editorDoneMsg{path: path, err: errOffline})
	h.wantView("$EDITOR")
}

func TestOutboxShownWhenNotEmpty(t *testing.T) {
	f, _, opts := twoAccounts(3)
	f.msgs["Outbox"] = []accounts.Message{{ID: 50, Mailbox: "Outbox", Subject: "waiting", To: []accounts.Address{{Addr: "x@example.test"}}, Date: testNow}}
	h := newHarness(t, 90, 24, opts)
	h.wantView("Outbox")
	h.keys("tab", "G", "k", "enter") // the last entries: Outbox, bob
	h.wantView("alice › Outbox", "to x@example.test", "waiting")
}

func TestAttachmentSaveAndOpen(t *testing.T) {
	_, _, opts := twoAccounts(10)
	h := newHarness(t, 90, 26, opts)
	h.keys("4", "j", "j", "j", "j", "enter", "tab", "S")
	h.wantView("save to:", "report.pdf")
	dir := t.TempDir()
	h.m.prompt.input.SetValue(dir + "/saved.pdf")
	h.keys("enter")
	if h.m.status.note != "saved "+dir+"/saved.pdf" {
		t.Fatalf("status %q", h.m.status.note)
	}
	if data, err := os.ReadFile(dir + "/saved.pdf"); err != nil || !strings.HasPrefix(string(data), "%PDF") {
		t.Fatalf("saved file: %q %v", data, err)
	}
	// Saving over an existing file is refused.
	h.keys("S")
	h.m.prompt.input.SetValue(dir + "/saved.pdf")
	h.keys("enter")
	if !strings.Contains(h.m.status.note, "file exists") {
		t.Fatalf("overwrite: %q", h.m.status.note)
	}

	// o hands a private copy to xdg-open.
	bin := t.TempDir()
	marker := dir + "/opened"
	os.WriteFile(bin+"/xdg-open", []byte("#!/bin/sh\necho \"$1\" > "+marker+"\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	h.keys("o")
	h.wantView("opened report.pdf")
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(marker)
		if err == nil && strings.Contains(string(data), "report.pdf") {
			os.RemoveAll(filepath.Dir(strings.TrimSpace(string(data))))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("xdg-open was not run")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFirstSyncKeepsCursorOnTop: while the session's first sync fills the
// folder, a cursor nobody has moved stays on the newest message (it
// drifted down to row 67 of the demo's 500 before); once the user moves
// it, it stays on the message they chose.
func TestFirstSyncKeepsCursorOnTop(t *testing.T) {
	f := newFake("alice", 5)
	f.syncGate = make(chan struct{})
	opts := Options{Accounts: []Backend{f}, FeedCoalesce: -1, SyncOnStart: true}
	h := newHarness(t, 100, 24, opts)
	h.waitFor(func() bool { return h.m.accts[0].syncing })
	for id := int64(201); id <= 203; id++ {
		arrive(f, id, "Sender", fmt.Sprintf("Filling %d", id))
		h.waitView(fmt.Sprintf("Filling %d", id), fmt.Sprintf("%d messages", 5+id-200))
		if sel, _ := h.m.list.selected(); sel.ID != id {
			t.Fatalf("after %d arrived the cursor is on %d, not on the newest", id, sel.ID)
		}
	}
	h.keys("j")
	chosen, _ := h.m.list.selected()
	arrive(f, 204, "Sender", "Filling 204")
	h.waitView("Filling 204", "9 messages")
	if sel, _ := h.m.list.selected(); sel.ID != chosen.ID {
		t.Fatalf("a moved cursor left its message %d for %d", chosen.ID, sel.ID)
	}
	close(f.syncGate)
}
