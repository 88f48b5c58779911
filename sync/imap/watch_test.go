package imapsync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// eventually waits up to 20 seconds for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWatch: new mail arrives through IDLE, local changes are replayed at
// once, a dropped connection is reconnected, and cancelling ends Watch.
func TestWatch(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		a := admin{t, p}
		mids := a.seed("INBOX", "watch", 3, 400)
		st := newStore(t)
		changes := make(chan struct{}, 1)
		opts := testOptions(p)
		opts.Changes = changes
		opts.Backoff = Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
		var ev events
		opts.Report = ev.reporter()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Watch(ctx, st, opts) }()
		has := func(mid string) func() bool {
			return func() bool {
				msgs, _ := st.Fetch(context.Background(), "INBOX", nil)
				for _, m := range msgs {
					if normMID(m.MessageID) == mid {
						return true
					}
				}
				return false
			}
		}
		eventually(t, "the first sync", has(mids[2]))
		a.seed("INBOX", "idle", 1, 400)
		eventually(t, "new mail through IDLE", has("idle-0@example.test"))

		l := &Local{Store: st, Changed: func() {
			select {
			case changes <- struct{}{}:
			default:
			}
		}}
		if _, err := l.SetFlags(context.Background(), "INBOX", []uint32{localUID(t, st, "INBOX", mids[0])}, store.FlagsAdd, []string{`\Flagged`}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the local flag on the server", func() bool { return a.state("INBOX").flags[mids[0]] == `\Flagged` })

		p.proxy.kill()
		eventually(t, "the drop to be reported", func() bool {
			return strings.Contains(strings.Join(ev.notes(), "\n"), "offline; retrying")
		})
		a.seed("INBOX", "after", 1, 400)
		eventually(t, "new mail after reconnecting", has("after-0@example.test"))
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Watch returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Watch did not return after cancel")
		}
		var idles int
		ev.mu.Lock()
		for _, e := range ev.list {
			if e.Phase == lbsync.PhaseIdle {
				idles++
			}
		}
		ev.mu.Unlock()
		if idles == 0 {
			t.Error("never idled")
		}
	})
}

// TestWatchFatal: Watch gives up only on what retrying cannot fix.
func TestWatchFatal(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		opts := testOptions(p)
		opts.Server.Password = "wrong"
		opts.Backoff = Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := Watch(ctx, newStore(t), opts); !errors.Is(err, lbsync.ErrAuth) {
			t.Errorf("Watch with a wrong password: %v, want lbsync.ErrAuth", err)
		}
	})
}

// TestWatchOtherFolders: mail the server files into a folder other than
// INBOX reaches the store while Watch runs, without a full sync (the
// interval is an hour): through NOTIFY on Dovecot (the poll is an hour
// too, so nothing else could bring it), through the STATUS poll on our
// server, which has no NOTIFY. Only the folder that changed is synced.
// Before, Watch saw INBOX only until the next full sync.
func TestWatchOtherFolders(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		a := admin{t, p}
		a.create("Lists")
		a.create("Quiet")
		a.seed("Lists", "lists", 1, 400)
		a.seed("Quiet", "quiet", 1, 400)
		st := newStore(t)
		opts := testOptions(p)
		opts.Interval = time.Hour
		opts.PollInterval = time.Hour
		if p.name == "letterbox" {
			opts.PollInterval = 200 * time.Millisecond
		}
		opts.Backoff = Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
		var ev events
		opts.Report = ev.reporter()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Watch(ctx, st, opts) }()
		has := func(mb, mid string) func() bool {
			return func() bool {
				msgs, _ := st.Fetch(context.Background(), mb, nil)
				for _, m := range msgs {
					if normMID(m.MessageID) == mid {
						return true
					}
				}
				return false
			}
		}
		eventually(t, "the first sync", has("Quiet", "quiet-0@example.test"))
		eventually(t, "the first sync", has("Lists", "lists-0@example.test"))
		// Let the watch settle in IDLE, then file mail into Lists.
		eventually(t, "IDLE", func() bool {
			ev.mu.Lock()
			defer ev.mu.Unlock()
			return slices.ContainsFunc(ev.list, func(e lbsync.Event) bool { return e.Phase == lbsync.PhaseIdle })
		})
		a.seed("Lists", "filed", 1, 400)
		eventually(t, "mail filed into Lists", has("Lists", "filed-0@example.test"))
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Watch: %v", err)
		}
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, e := range ev.list {
			if e.Note == "changed on the server" && e.Mailbox != "Lists" {
				t.Errorf("%s was synced as changed; only Lists changed", e.Mailbox)
			}
		}
	})
}
