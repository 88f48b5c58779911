package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// openIMAPOffline opens an IMAP-mode account whose servers refuse every
// connection (a closed port on 127.0.0.1), with a password in a fake
// keyring and n messages in INBOX: Watch keeps retrying, and local
// actions are journaled.
func openIMAPOffline(t *testing.T, name string, n int) *Account {
	t.Helper()
	ctx := context.Background()
	port := closedPort(t)
	acct := AccountConfig{Name: name, Email: name + "@example.test", Mode: ModeIMAP,
		IMAP: ServerConfig{Host: "127.0.0.1", Port: port, Security: "none"},
		SMTP: ServerConfig{Host: "127.0.0.1", Port: port, Security: "none"}}
	kr := &fakeKeyring{entries: map[string]string{KeyringService + "/" + name: "secret"}}
	a, err := OpenAccount(ctx, acct, t.TempDir(), &Secrets{Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	for i := range n {
		raw := fmt.Sprintf("From: a@example.test\r\nSubject: %d\r\nMessage-ID: <w%d@example.test>\r\n\r\nbody\r\n", i, i)
		if _, err := a.store.Append(ctx, store.Inbox, strings.NewReader(raw), store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// TestWatchLocalChanges: Watch learns of local actions without writing
// to state that SetFlags reads concurrently (run with -race), two Watch
// calls on one account both hear of a change, and nothing of a Watch is
// left registered once it returned.
func TestWatchLocalChanges(t *testing.T) {
	a := openIMAPOffline(t, "w", 3)
	msgs, err := a.Page(context.Background(), PageRequest{Folder: Inbox})
	if err != nil || len(msgs) != 3 {
		t.Fatal(len(msgs), err)
	}
	// Each Watch has its own context, so that nothing but the account is
	// shared between them; each reports once it is retrying.
	var wg sync.WaitGroup
	var cancels []context.CancelFunc
	retrying := make(chan struct{}, 2)
	for range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		var once sync.Once
		report := func(ev SyncEvent) {
			if ev.Err != nil {
				once.Do(func() { retrying <- struct{}{} })
			}
		}
		wg.Go(func() {
			if err := a.Watch(ctx, time.Hour, SyncOptions{Report: report}); err != nil {
				t.Errorf("Watch: %v", err)
			}
		})
	}
	var flags sync.WaitGroup
	for i := range 20 {
		flags.Go(func() {
			add := []string{"$k" + strconv.Itoa(i)}
			if err := a.SetFlags(context.Background(), []int64{msgs[i%3].ID}, add, nil); err != nil {
				t.Errorf("SetFlags: %v", err)
			}
		})
	}
	flags.Wait()
	for range 2 {
		<-retrying
	}
	for _, cancel := range cancels {
		cancel()
	}
	wg.Wait()
	if n := a.watchers(); n != 0 {
		t.Errorf("%d watchers left after Watch returned", n)
	}
}

// TestLocalChangedSignalsEveryWatch: a journaled action signals every
// registered listener, and a full listener is not waited for.
func TestLocalChangedSignalsEveryWatch(t *testing.T) {
	a := openIMAPOffline(t, "l", 1)
	msgs, err := a.Page(context.Background(), PageRequest{Folder: Inbox})
	if err != nil || len(msgs) != 1 {
		t.Fatal(len(msgs), err)
	}
	c1, stop1 := a.listen()
	c2, stop2 := a.listen()
	for _, flag := range []string{FlagFlagged, FlagSeen} { // the second finds both full
		if err := a.SetFlags(context.Background(), []int64{msgs[0].ID}, []string{flag}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []<-chan struct{}{c1, c2} {
		select {
		case <-c:
		default:
			t.Errorf("listener %d not signalled", i+1)
		}
	}
	stop1()
	stop2()
	if n := a.watchers(); n != 0 {
		t.Errorf("%d listeners after stop", n)
	}
}

// TestWatchAll: an account that fails for good (no password anywhere)
// stops the others, and WatchAll returns only once every Watch has
// returned, with the failure naming its account; a cancelled context
// ends them all with nil.
func TestWatchAll(t *testing.T) {
	offline := openIMAPOffline(t, "offline", 0)
	broken := openIMAPOffline(t, "broken", 0)
	broken.secrets = &Secrets{Keyring: &fakeKeyring{}}

	err := WatchAll(context.Background(), []*Account{offline, broken}, WatchOptions{Interval: time.Hour})
	if !errors.Is(err, ErrNoPassword) || !strings.Contains(err.Error(), "watch broken") {
		t.Fatalf("WatchAll = %v, want the broken account's ErrNoPassword", err)
	}
	if n := offline.watchers(); n != 0 {
		t.Fatalf("the offline account's Watch is still running (%d listeners)", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	retrying := make(chan struct{}, 1)
	report := func(ev SyncEvent) {
		if ev.Err != nil {
			select {
			case retrying <- struct{}{}:
			default:
			}
		}
	}
	done := make(chan error, 1)
	go func() {
		done <- WatchAll(ctx, []*Account{offline}, WatchOptions{Interval: time.Hour, SyncOptions: SyncOptions{Report: report}})
	}()
	<-retrying
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("WatchAll after cancel = %v", err)
	}
}
