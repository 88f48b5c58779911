package ui

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
)

// blockingBackend's Sync runs until its context ends, as a sync against
// a slow server does; active counts the Sync calls running.
type blockingBackend struct {
	*fakeBackend
	started chan struct{}
	active  atomic.Int32
	closed  atomic.Bool
}

func (b *blockingBackend) Sync(ctx context.Context, report func(accounts.SyncEvent)) (SyncSummary, error) {
	b.active.Add(1)
	defer b.active.Add(-1)
	select {
	case b.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return SyncSummary{}, ctx.Err()
}

func (b *blockingBackend) Close() error {
	b.closed.Store(true)
	return nil
}

// runProgram runs Run on a pipe and returns the pipe's writer (type keys
// into it) and the channel Run's result comes on.
func runProgram(t *testing.T, ctx context.Context, o RunOptions) (io.Writer, <-chan error) {
	t.Helper()
	in, keys := io.Pipe()
	t.Cleanup(func() { keys.Close() })
	o.In, o.Out = in, io.Discard
	o.Settings.Keys, o.Settings.Theme = DefaultKeyMaps(), DefaultTheme()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	return keys, done
}

// waitRun waits for Run's result.
func waitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// TestRunStopsItsWork: quitting cancels the interface's context and Run
// returns only after the Cmds that were using an account returned, so
// the caller may close the accounts at once. A Backend the caller gave
// is not closed by Run.
func TestRunStopsItsWork(t *testing.T) {
	b := &blockingBackend{fakeBackend: newFake("alice", 3), started: make(chan struct{}, 1)}
	keys, done := runProgram(t, context.Background(), RunOptions{Accounts: []Backend{b}, SyncOnStart: true})
	select {
	case <-b.started:
	case <-time.After(20 * time.Second):
		t.Fatal("the sync did not start")
	}
	if _, err := io.WriteString(keys, "Q"); err != nil {
		t.Fatal(err)
	}
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := b.active.Load(); n != 0 {
		t.Fatalf("Run returned while %d sync(s) still used the account", n)
	}
	if b.closed.Load() {
		t.Fatal("Run closed a Backend its caller owns")
	}
}

// closingSetup is the wizard's fakeSetup whose Open returns a Backend
// that records its Close; it signals when Configure is called and takes
// any password.
type closingSetup struct {
	fakeSetup
	configured chan struct{}
	opened     chan *blockingBackend
}

func (s *closingSetup) Configure(ctx context.Context, name, email string, manual ManualServers, log func(string)) (accounts.AccountConfig, error) {
	select {
	case s.configured <- struct{}{}:
	default:
	}
	return s.fakeSetup.Configure(ctx, name, email, manual, log)
}

func (s *closingSetup) TestLogin(ctx context.Context, acct accounts.AccountConfig, password string) error {
	return nil
}

func (s *closingSetup) Open(ctx context.Context, acct accounts.AccountConfig) (Backend, error) {
	b := &blockingBackend{fakeBackend: newFake(acct.Name, 2), started: make(chan struct{}, 1)}
	s.opened <- b
	return b, nil
}

// TestRunClosesWizardAccounts: an account added in the wizard is opened
// by a Cmd, handed to Update in a message, and closed by Run after the
// work on it stopped; the caller never sees it.
func TestRunClosesWizardAccounts(t *testing.T) {
	setup := &closingSetup{configured: make(chan struct{}, 1), opened: make(chan *blockingBackend, 1)}
	keys, done := runProgram(t, context.Background(), RunOptions{Setup: setup})
	io.WriteString(keys, "ann@example.test\r")
	select {
	case <-setup.configured:
	case <-time.After(20 * time.Second):
		t.Fatal("the wizard did not look for the servers")
	}
	// The password step shows once Configure's result reached Update;
	// until then the wizard ignores keys. Type a password and enter until
	// the account is opened.
	var b *blockingBackend
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for b == nil {
		select {
		case b = <-setup.opened:
		case <-tick.C:
			io.WriteString(keys, "x\r")
		case <-deadline:
			t.Fatal("the wizard did not open the account")
		}
	}
	select {
	case <-b.started: // the new account's first sync
	case <-time.After(20 * time.Second):
		t.Fatal("the new account was not synced")
	}
	io.WriteString(keys, "Q")
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := b.active.Load(); n != 0 || !b.closed.Load() {
		t.Fatalf("after Run: %d syncs running, closed %v", n, b.closed.Load())
	}
}

// TestRunRemovesItsCopies: the copy of an HTML part handed to the
// browser (v) lives in a private directory of the interface, which Run
// removes before it returns, so mail does not pile up in /tmp.
func TestRunRemovesItsCopies(t *testing.T) {
	opened := fakeBrowser(t)
	f := newFake("alice", 3)
	f.html = map[int64]string{1: "<p>private</p>"}
	keys, done := runProgram(t, context.Background(), RunOptions{Accounts: []Backend{f}})
	// Enter opens the first message once the list is there; v then
	// hands its HTML to the browser. Until the list has loaded, enter
	// does nothing, so type both until the browser runs.
	stop, typing := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(typing)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				io.WriteString(keys, "\rv")
			}
		}
	}()
	page := strings.TrimPrefix(opened(1)[0], "file://")
	close(stop)
	<-typing
	if _, err := os.Stat(page); err != nil {
		t.Fatalf("the browser's copy is not there while the interface runs: %v", err)
	}
	io.WriteString(keys, "Q")
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Stat(page); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s is still there after Run returned (%v)", page, err)
	}
}
