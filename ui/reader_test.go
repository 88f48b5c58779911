package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
)

// Issue 15 item 9: the reader.

func longText() string {
	var b strings.Builder
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&b, "Line %d of the message.", i)
		if i == 5 || i == 30 || i == 55 {
			b.WriteString(" The Budget is here.")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestReaderFindAndPosition(t *testing.T) {
	f := newFake("alice", 3)
	f.rendered = map[int64]*accounts.Rendered{1: {Headers: []accounts.HeaderField{{Key: "Subject", Value: "long"}}, Text: longText()}}
	h := newHarness(t, 90, 24, Options{Accounts: []Backend{f}})
	h.keys("enter")
	h.wantView("Line 1 of the message", "lines 1–22/62")
	h.keys("/")
	h.typeText("budget")
	h.wantView("match 1/3", "Line 5 of the message. The Budget is here.")
	h.keys("enter", "n")
	h.wantView("match 2/3", "Line 30 of the message. The Budget")
	h.notView("Line 1 of the message")
	h.keys("n")
	h.wantView("match 3/3", "Line 55")
	h.keys("n")
	h.wantView("match 1/3")
	h.keys("N")
	h.wantView("match 3/3")
	h.keys("G")
	h.wantView("lines 41–62/62")
	// The hits are marked.
	if !strings.Contains(h.m.reader.render(), h.m.c.Styles.MatchCurrent.Render("Budget")) {
		t.Fatal("the current hit is not marked")
	}
	h.keys("/")
	h.typeText("nowhere")
	h.wantView(`"nowhere" not found`)
	h.keys("esc")
	h.notView("not found", "match")
}

func TestReaderAttachmentsAbove(t *testing.T) {
	_, _, opts := twoAccounts(10)
	h := newHarness(t, 90, 30, opts)
	h.keys("4", "j", "j", "j", "j", "enter") // message 5 has an attachment
	v := h.view()
	above := strings.Index(v, "Attach:  [1] report.pdf (120 KB)")
	sep := strings.Index(v, "────")
	body := strings.Index(v, "this is the body")
	if above < 0 || sep < above || body < sep {
		t.Fatalf("the attachment is not listed above the text:\n%s", v)
	}
	h.keys("G")
	h.wantView("1 attachment — tab selects", "[1] report.pdf  application/pdf")
}

// fakeBrowser points $BROWSER at a script that appends its argument to
// a file, and returns a function that waits for n lines of it.
func fakeBrowser(t *testing.T) func(n int) []string {
	dir := t.TempDir()
	log := filepath.Join(dir, "opened")
	script := filepath.Join(dir, "browser")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" >> "+log+"\n"), 0o755)
	t.Setenv("BROWSER", "/nonexistent/browser:"+script)
	return func(n int) []string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			data, _ := os.ReadFile(log)
			lines := strings.Fields(string(data))
			if len(lines) >= n {
				return lines
			}
			if time.Now().After(deadline) {
				t.Fatalf("the browser was run %d times, want %d", len(lines), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestReaderHTMLAndLinks(t *testing.T) {
	opened := fakeBrowser(t)
	f := newFake("alice", 3)
	f.html = map[int64]string{1: "<p>Grüße</p>"}
	f.rendered = map[int64]*accounts.Rendered{
		1: {Text: "See https://example.test/a, and (https://example.test/b) or https://example.test/a again.\n", FromHTML: true},
		2: {Text: "Only <https://example.test/one>.\n"},
	}
	h := newHarness(t, 100, 24, Options{Accounts: []Backend{f}})
	h.keys("enter")
	h.wantView("See https://example.test/a [1], and (https://example.test/b [2]) or", "https://example.test/a [1] again.")
	h.keys("v")
	h.wantView("opened the HTML part")
	page := opened(1)[0]
	if !strings.HasPrefix(page, "file://") {
		t.Fatalf("browser opened %q", page)
	}
	data, err := os.ReadFile(strings.TrimPrefix(page, "file://"))
	if err != nil || !strings.Contains(string(data), "<p>Grüße</p>") || !strings.Contains(string(data), `charset="utf-8"`) {
		t.Fatalf("HTML file %q %v", data, err)
	}
	os.RemoveAll(filepath.Dir(strings.TrimPrefix(page, "file://")))
	h.keys("l")
	h.wantView("open link (1–2):")
	h.typeText("2")
	h.keys("enter")
	if got := opened(2)[1]; got != "https://example.test/b" {
		t.Fatalf("link 2 opened %q", got)
	}
	h.keys("l")
	h.typeText("7")
	h.keys("enter")
	h.wantView("no link 7")
	// One link opens at once; no HTML part says so.
	h.keys("J", "l")
	if got := opened(3)[2]; got != "https://example.test/one" {
		t.Fatalf("the only link opened %q", got)
	}
	h.keys("v")
	h.wantView("no HTML part")
}

func TestNumberLinks(t *testing.T) {
	for in, want := range map[string]string{
		"x https://a.test/p?q=1. y":       "x https://a.test/p?q=1 [1]. y",
		"(see https://a.test/x_(y))":      "(see https://a.test/x_(y) [1])",
		"mailto:ann@example.test, please": "mailto:ann@example.test [1], please",
		"no links here":                   "no links here",
	} {
		if got, _ := numberLinks(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestReaderRefreshAfterSync: a message opened while the first sync has
// only its header (the body comes in a later pass) says its text is on
// its way, and shows the text once the sync is done, where the reader was
// scrolled to.
func TestReaderRefreshAfterSync(t *testing.T) {
	f := newFake("alice", 3)
	f.rendered = map[int64]*accounts.Rendered{1: {Headers: []accounts.HeaderField{{Key: "Subject", Value: "Message number 1"}}, Partial: true}}
	h := newHarness(t, 100, 24, Options{Accounts: []Backend{f}})
	h.keys("enter")
	h.wantView("Message number 1", "still being downloaded")
	f.mu.Lock()
	f.rendered[1] = &accounts.Rendered{Headers: f.rendered[1].Headers, Text: strings.Repeat("the body arrived\n", 60)}
	f.mu.Unlock()
	h.send(syncDoneMsg{account: "alice"})
	h.waitView("the body arrived")
	h.notView("still being downloaded")
	h.keys("j", "j")
	off := h.m.reader.vp.YOffset
	h.send(syncDoneMsg{account: "alice"})
	h.settle()
	if h.m.reader.vp.YOffset != off || h.m.screen != screenReader {
		t.Fatalf("after a second sync: offset %d (was %d), screen %d", h.m.reader.vp.YOffset, off, h.m.screen)
	}
}
