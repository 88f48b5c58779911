package ui

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/letterbox-mail/letterbox/accounts"
)

// watchingFake gives f a watch that reports IDLE, then files each
// subject sent on deliver into INBOX (as the server's news would) until
// its context ends; running counts the watches in flight.
func watchingFake(f *fakeBackend, running *atomic.Int32) (deliver chan<- string) {
	ch := make(chan string)
	id := int64(1000)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watch = func(ctx context.Context, report func(accounts.SyncEvent)) error {
		running.Add(1)
		defer running.Add(-1)
		report(accounts.SyncEvent{Account: f.name, Mailbox: "INBOX", Phase: accounts.PhaseIdle})
		for {
			select {
			case <-ctx.Done():
				return nil
			case subject := <-ch:
				f.mu.Lock()
				id++
				m := f.msgs["INBOX"][0]
				m.ID, m.Subject = id, subject
				f.msgs["INBOX"] = append([]accounts.Message{m}, f.msgs["INBOX"]...)
				f.mu.Unlock()
				f.feed.publish(accounts.Change{Kind: accounts.ChangeMessageAdded, Mailbox: "INBOX", ID: id})
			}
		}
	}
	return ch
}

// TestWatchBringsNewMail: with [ui] watch on, each account is watched
// once from the start; what the watch files reaches the list through
// the change feed, with no sync; the periodic sync skips the watched
// account, and a manual sync does not start a second watch.
func TestWatchBringsNewMail(t *testing.T) {
	f, b, opts := twoAccounts(5)
	var running atomic.Int32
	deliver := watchingFake(f, &running)
	opts.Watch = true
	opts.SyncInterval = 1 << 40 // never ticks in the test
	h := newHarness(t, 90, 24, opts)
	h.waitFor(func() bool { return running.Load() == 1 })
	deliver <- "Pushed by the server"
	h.waitView("Pushed by the server", "6 messages")
	if slices.Contains(f.Calls(), "sync") {
		t.Fatalf("the new mail came with a sync: %q", f.Calls())
	}
	// bob cannot be watched (errNoWatch, as POP3): the tick syncs it,
	// not the watched alice.
	h.send(syncTickMsg{})
	wantCalls(t, b, "sync")
	if slices.Contains(f.Calls(), "sync") {
		t.Fatalf("the periodic sync synced a watched account: %q", f.Calls())
	}
	// A manual sync runs, and leaves one watch.
	h.keys("s")
	h.waitFor(func() bool { return slices.Contains(f.Calls(), "sync") })
	h.settle()
	if n := running.Load(); n != 1 {
		t.Fatalf("%d watches of one account", n)
	}
	if n := countCalls(f, "watch"); n != 1 {
		t.Fatalf("Watch called %d times", n)
	}
}

func countCalls(f *fakeBackend, call string) int {
	n := 0
	for _, c := range f.Calls() {
		if c == call {
			n++
		}
	}
	return n
}

// TestWatchOff: [ui] watch = false never calls Watch.
func TestWatchOff(t *testing.T) {
	f, _, opts := twoAccounts(5)
	var running atomic.Int32
	watchingFake(f, &running)
	opts.SyncInterval = 1 << 40
	h := newHarness(t, 90, 24, opts)
	h.send(syncTickMsg{})
	wantCalls(t, f, "sync")
	if n := countCalls(f, "watch"); n != 0 {
		t.Fatalf("Watch called %d times with watch off", n)
	}
}

// TestWatchFails: a watch that stops for good is shown as a failed sync
// is (a refused login as an error, an expired sign-in with the key that
// signs in again), and a sync that succeeds later starts it again; a
// temporary failure is shown as offline.
func TestWatchFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused", fmt.Errorf("alice: imap login: %w", accounts.ErrLoginRefused), "new mail is not watched"},
		{"sign-in", fmt.Errorf("alice: %w", accounts.ErrSignInExpired), "press"},
		{"offline", errOffline, "offline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, opts := twoAccounts(5)
			var calls atomic.Int32
			f.watch = func(ctx context.Context, report func(accounts.SyncEvent)) error {
				if calls.Add(1) == 1 {
					return tc.err
				}
				<-ctx.Done()
				return nil
			}
			opts.Watch = true
			opts.SyncInterval = 1 << 40
			h := newHarness(t, 120, 24, opts)
			h.waitView(tc.want)
			if h.m.accts[0].watching {
				t.Fatal("still marked watching after the watch ended")
			}
			if tc.name == "offline" {
				return // retried after watchRetryMin
			}
			h.keys("s")
			h.waitFor(func() bool { return calls.Load() == 2 })
		})
	}
}
