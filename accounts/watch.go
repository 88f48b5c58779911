package accounts

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	lbsync "github.com/letterbox-mail/letterbox/sync"
	imapsync "github.com/letterbox-mail/letterbox/sync/imap"
)

// Watch keeps the account in sync until ctx ends: for IMAP, IDLE on INBOX
// with a full sync every interval and local changes replayed at once
// (imapsync.Watch, which reconnects with backoff); for POP3, a download
// every interval. The outbox is flushed every interval in both modes.
// It returns nil when ctx ends, or an error retrying cannot fix (a
// refused password, an untrusted certificate). Several Watch calls may
// run on one account; each hears of every local change.
func (a *Account) Watch(ctx context.Context, interval time.Duration, opts SyncOptions) error {
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	flush := func(ctx context.Context) {
		if _, err := a.FlushOutbox(ctx, false, opts.Report); err != nil && ctx.Err() == nil {
			opts.Report.Report(lbsync.Event{Account: a.Config.Name, Mailbox: OutboxName, Phase: lbsync.PhaseSend, Err: err})
		}
	}
	if a.Config.Mode == ModeIMAP {
		cr, err := a.credential(ctx)
		if err != nil {
			return err
		}
		o, err := a.imapOptions(cr, opts)
		if err != nil {
			return err
		}
		changes, stop := a.listen()
		defer stop()
		o.Changes, o.Interval = changes, interval
		// The outbox ticker stops with the IMAP watch, also when that
		// fails for good (a refused login): else it would hold Watch
		// open until ctx ends.
		fctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				flush(fctx)
				select {
				case <-fctx.Done():
					return
				case <-t.C:
				}
			}
		}()
		err = imapsync.Watch(ctx, a.store, o)
		cancel()
		<-done
		if err != nil {
			return fmt.Errorf("%s: %w", a.Config.Name, err)
		}
		return nil
	}
	for {
		if _, err := a.Sync(ctx, opts); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !Temporary(err) {
				return err
			}
			opts.Report.Report(lbsync.Event{Account: a.Config.Name, Phase: lbsync.PhaseConnect, Err: err, Note: "will try again"})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// localChanged is the account's imapsync.Local.Changed, set once when the
// account opens: it tells every running Watch that a local action was
// journaled. It never blocks: a Watch that has not taken the last signal
// yet will replay everything anyway.
func (a *Account) localChanged() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for c := range a.listeners {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// listen registers a channel that localChanged signals; stop removes it.
func (a *Account) listen() (changes <-chan struct{}, stop func()) {
	c := make(chan struct{}, 1)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.listeners == nil {
		a.listeners = map[chan struct{}]bool{}
	}
	a.listeners[c] = true
	return c, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		delete(a.listeners, c)
	}
}

// watchers returns how many Watch calls listen for local changes.
func (a *Account) watchers() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.listeners)
}

// WatchOptions configure WatchAll.
type WatchOptions struct {
	// SyncOptions are passed to every account's Watch (Force, Report;
	// Mailboxes applies to IMAP accounts).
	SyncOptions
	// Interval is the period of full syncs and outbox flushes; 5
	// minutes when zero.
	Interval time.Duration
}

// WatchAll runs Watch on every account at once until ctx ends or one of
// them fails for good (a refused password, an untrusted certificate):
// then the others are stopped through a context derived from ctx. It
// returns only after every Watch has returned, with the first failure
// (nil when ctx ended), so the caller closes the accounts after it and
// never under a running Watch. The failure names its account.
func WatchAll(ctx context.Context, accts []*Account, opts WatchOptions) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, a := range accts {
		g.Go(func() error {
			if err := a.Watch(ctx, opts.Interval, opts.SyncOptions); err != nil {
				return fmt.Errorf("watch %s: %w", a.Config.Name, err)
			}
			return nil
		})
	}
	return g.Wait()
}
