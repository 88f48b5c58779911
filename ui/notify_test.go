package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
)

// notices records what the interface notified.
type notices struct {
	mu      sync.Mutex
	desktop []string // "summary | body"
	bells   int
	fail    bool // the desktop call fails (no notification service)
	got     chan struct{}
}

func newNotices() *notices { return &notices{got: make(chan struct{}, 16)} }

func (n *notices) Desktop(ctx context.Context, summary, body string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	defer func() { n.got <- struct{}{} }()
	if n.fail {
		return errOffline
	}
	n.desktop = append(n.desktop, summary+" | "+body)
	return nil
}

func (n *notices) Bell() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.bells++
	n.got <- struct{}{}
}

// wait runs the harness until a notice comes.
func (n *notices) wait(t *testing.T, h *harness) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-n.got:
			return
		case msg := <-h.out:
			h.process(msg)
		case <-deadline:
			t.Fatal("no notice")
		}
	}
}

// arrive puts a new unread message in the fake's INBOX and publishes it.
func arrive(f *fakeBackend, id int64, from, subject string) {
	f.mu.Lock()
	m := accounts.Message{ID: id, Mailbox: "INBOX", Subject: subject, Date: testNow, From: []accounts.Address{{Name: from, Addr: "x@example.test"}}}
	f.msgs["INBOX"] = append([]accounts.Message{m}, f.msgs["INBOX"]...)
	f.mu.Unlock()
	f.feed.publish(accounts.Change{Kind: accounts.ChangeMessageAdded, Mailbox: "INBOX", ID: id})
}

// TestNewMailNotice: new mail in INBOX is announced once, with the
// count and the senders, on the desktop (or with the bell when that
// fails, or by choice); a message moved into INBOX, or read already,
// is not new; "off" says nothing (issue 15 item 11).
func TestNewMailNotice(t *testing.T) {
	for _, mode := range []string{"auto", "dbus", "bell", "off"} {
		t.Run(mode, func(t *testing.T) {
			n := newNotices()
			f := newFake("alice", 5)
			opts := Options{Accounts: []Backend{f}, Notify: mode, Desktop: n.Desktop, Bell: n.Bell, NotifyDelay: time.Millisecond, FeedCoalesce: -1}
			h := newHarness(t, 100, 24, opts)
			arrive(f, 101, "Ann Archer", "Budget for Q3")
			arrive(f, 102, "Bob Baker", "Lunch")
			h.waitView("Lunch")
			switch mode {
			case "off":
				h.settle()
				if len(n.desktop)+n.bells != 0 {
					t.Fatalf("off notified: %v %d", n.desktop, n.bells)
				}
				return
			case "bell":
				n.wait(t, h)
				if n.bells == 0 || len(n.desktop) != 0 {
					t.Fatalf("bell: %v %d", n.desktop, n.bells)
				}
				return
			}
			n.wait(t, h)
			h.settle()
			n.mu.Lock()
			got := slices.Clone(n.desktop)
			n.mu.Unlock()
			joined := strings.Join(got, "\n")
			if !strings.Contains(joined, "Ann Archer") || !strings.Contains(joined, "Bob Baker") || !strings.Contains(joined, "alice") {
				t.Fatalf("notices %q", got)
			}
			if !strings.Contains(joined, "2 new messages") && len(got) != 2 {
				t.Fatalf("notices %q", got)
			}
			// Moved in (expunged elsewhere in the same batch), or read: not new.
			before := len(got)
			f.mu.Lock()
			f.msgs["INBOX"][0].Flags = nil
			f.mu.Unlock()
			f.feed.publish(accounts.Change{Kind: accounts.ChangeExpunged, Mailbox: "Archive", ID: 3},
				accounts.Change{Kind: accounts.ChangeMessageAdded, Mailbox: "INBOX", ID: 3},
				accounts.Change{Kind: accounts.ChangeMessageAdded, Mailbox: "INBOX", ID: 103, Flags: []string{accounts.FlagSeen}},
				accounts.Change{Kind: accounts.ChangeMessageAdded, Mailbox: "Sent", ID: 104})
			// The same message again (a flag change republished): once.
			f.feed.publish(accounts.Change{Kind: accounts.ChangeMessageAdded, Mailbox: "INBOX", ID: 101})
			h.settle()
			h.settle()
			n.mu.Lock()
			defer n.mu.Unlock()
			if len(n.desktop) != before || n.bells != 0 {
				t.Fatalf("not-new mail notified: %q, %d bells", n.desktop[before:], n.bells)
			}
		})
	}
	// auto without a working desktop: the bell.
	n := newNotices()
	n.fail = true
	f := newFake("alice", 5)
	h := newHarness(t, 100, 24, Options{Accounts: []Backend{f}, Notify: "auto", Desktop: n.Desktop, Bell: n.Bell, NotifyDelay: time.Millisecond, FeedCoalesce: -1})
	arrive(f, 101, "Ann Archer", "Budget")
	h.waitView("Budget")
	n.wait(t, h)
	n.wait(t, h)
	if n.bells != 1 {
		t.Fatalf("auto with a failing desktop: %d bells", n.bells)
	}
}

func TestNotifySetting(t *testing.T) {
	s, err := LoadSettings("", env(nil))
	if err != nil || s.Notify != "auto" {
		t.Fatalf("default %q %v", s.Notify, err)
	}
	for _, v := range []string{"dbus", "bell", "off"} {
		s, err := LoadSettingsWith(Config{UI: map[string]any{"notify": v}}, "config.toml", "", env(nil))
		if err != nil || s.Notify != v {
			t.Fatalf("%s: %q %v", v, s.Notify, err)
		}
	}
	if _, err := LoadSettingsWith(Config{UI: map[string]any{"notify": "loud"}}, "config.toml", "", env(nil)); err == nil {
		t.Fatal("notify = loud accepted")
	}
}

// TestNoNoticeForFirstSync: the mail an account's first sync of the
// session brings is not announced (a new account would otherwise ring
// every few seconds for minutes); mail that arrives afterwards is.
func TestNoNoticeForFirstSync(t *testing.T) {
	n := newNotices()
	f := newFake("alice", 5)
	f.syncGate = make(chan struct{})
	opts := Options{Accounts: []Backend{f}, Notify: "bell", Desktop: n.Desktop, Bell: n.Bell, NotifyDelay: time.Millisecond, FeedCoalesce: -1, SyncOnStart: true}
	h := newHarness(t, 100, 24, opts)
	// While the first sync runs, its mail arrives through the feed.
	for id := int64(201); id <= 210; id++ {
		arrive(f, id, "Old Sender", fmt.Sprintf("Old mail %d", id))
	}
	h.waitView("Old mail 210")
	close(f.syncGate)
	h.waitFor(func() bool { return h.m.accts[0].notify.synced })
	h.m.accts[0].notify.quietUntil = time.Time{} // the quiet window is not what this tests
	if n.bells != 0 {
		t.Fatalf("the first sync's mail rang %d times", n.bells)
	}
	arrive(f, 301, "New Sender", "Fresh mail")
	n.wait(t, h)
	if n.bells != 1 {
		t.Fatalf("%d bells for one new message after the first sync", n.bells)
	}
}
