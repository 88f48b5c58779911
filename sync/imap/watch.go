package imapsync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Watch mode: IDLE on INBOX (RFC 2177), NOTIFY or STATUS polls for the
// other folders (notify.go), reconnecting with backoff.

// defaultPoll is Options.PollInterval when zero: how often Watch leaves
// IDLE to check INBOX anyway, so that it notices a connection that died
// silently (a laptop that slept) within minutes rather than when the
// server's IDLE timeout hits, and, without NOTIFY, polls the other
// folders.
const defaultPoll = 5 * time.Minute

// Watch keeps the account in sync until ctx ends. It syncs everything on
// start and every Options.Interval; in between it IDLEs on INBOX and runs
// an incremental INBOX sync when the server reports news, syncs another
// folder as soon as NOTIFY (RFC 5465) says it changed or, on a server
// without NOTIFY, when its STATUS polled every Options.PollInterval
// differs from the store's, and replays the journal as soon as
// Options.Changes signals local actions.
//
// A dropped connection, a server that went away or a laptop that slept
// are events, not errors: they are reported (PhaseConnect with Err and a
// Note) and Watch reconnects after a jittered exponential backoff from
// Backoff.Min up to Backoff.Max. Errors of single mailboxes (such as the
// mass-delete guard) are reported and Watch goes on. Watch returns nil
// when ctx ends, and an error only for what retrying cannot fix: a
// connection that cannot be set up for a permanent reason, such as the
// server refusing the credentials (lbsync.ErrAuth) or an untrusted certificate.
func Watch(ctx context.Context, st Store, opts Options) error {
	lo, hi := opts.Backoff.Min, opts.Backoff.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 5 * time.Minute
	}
	if opts.Interval <= 0 {
		opts.Interval = 15 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPoll
	}
	delay := lo
	for {
		start := time.Now()
		fatal, err := watchSession(ctx, st, opts)
		if ctx.Err() != nil {
			return nil
		}
		if fatal {
			return err
		}
		if time.Since(start) > 2*hi {
			delay = lo // the session lived long: start over
		}
		wait := delay/2 + rand.N(delay/2+1) // jitter in [delay/2, delay]
		opts.Report.Report(lbsync.Event{Account: opts.Account, Phase: lbsync.PhaseConnect, Err: err,
			Note: fmt.Sprintf("offline; retrying in %s", wait.Round(time.Millisecond))})
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		delay = min(2*delay, hi)
	}
}

// watchSession runs one connection until it fails or ctx ends; fatal
// reports a connection that cannot be set up whatever the retries.
func watchSession(ctx context.Context, st Store, opts Options) (fatal bool, err error) {
	c, err := dial(ctx, opts.Server)
	if err != nil {
		return !lbsync.IsTemporary(err) && ctx.Err() == nil, err
	}
	defer c.close()
	return false, watchConn(ctx, &engine{st: st, opts: opts, c: c})
}

// watchConn syncs, then idles and syncs on one connection until it fails.
func watchConn(ctx context.Context, e *engine) error {
	c, opts := e.c, e.opts
	full := func() error {
		e.res = Result{}
		err := e.locked(ctx, func() error { return e.run(ctx) })
		e.report(lbsync.Event{Phase: lbsync.PhaseDone, Err: err})
		if err != nil && (lbsync.IsTemporary(err) || ctx.Err() != nil) {
			return err
		}
		return nil // reported; the session goes on
	}
	if err := full(); err != nil {
		return err
	}
	lastFull := time.Now()
	notify, err := e.startNotify()
	if err != nil {
		return err
	}
	for {
		// Folders NOTIFY named meanwhile (during a sync too).
		if changed := e.notified(); len(changed) > 0 {
			if err := e.locked(ctx, func() error { return e.syncChanged(ctx, changed) }); err != nil {
				return err
			}
		}
		// Sync INBOX before each IDLE: mail that came during the last
		// sync was announced to a command, not to IDLE.
		inbox, ok := e.boxes[store.Inbox]
		if !ok {
			return &lbsync.Error{Op: "imap watch " + store.Inbox, Err: store.ErrNotFound}
		}
		if err := e.locked(ctx, func() error { return e.syncInbox(ctx, inbox) }); err != nil {
			return err
		}
		if c.selected != inbox.Name {
			if _, err := c.selectBox(inbox.Name); err != nil {
				return err
			}
		}
		wait := min(opts.PollInterval, time.Until(lastFull.Add(opts.Interval)))
		why, err := e.idle(ctx, max(wait, 0))
		if err != nil {
			return err
		}
		switch why {
		case wakeCancel:
			return nil
		case wakeTimer:
			if time.Since(lastFull) >= opts.Interval {
				if err := full(); err != nil {
					return err
				}
				lastFull = time.Now()
			} else if !notify {
				changed, err := e.poll(ctx)
				if err != nil {
					return err
				}
				if len(changed) > 0 {
					if err := e.locked(ctx, func() error { return e.syncChanged(ctx, changed) }); err != nil {
						return err
					}
				}
			}
		case wakeLocal:
			if err := e.locked(ctx, func() error { return e.replay(ctx) }); err != nil && !errors.Is(err, ErrMassDelete) {
				return err
			}
		}
	}
}

// Reasons idle returns.
const (
	wakeNews = iota
	wakeLocal
	wakeTimer
	wakeCancel
)

// idle waits in IDLE (or, without it, just waits) on the selected mailbox
// until news, local changes, the timer or the end of ctx.
func (e *engine) idle(ctx context.Context, d time.Duration) (int, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	var cmd interface{ Close() error }
	var wait func() error
	if e.c.caps.Has(imap.CapIdle) {
		ic, err := e.c.c.Idle()
		if err != nil {
			return 0, e.c.wrap("idle", store.Inbox, err)
		}
		cmd, wait = ic, ic.Wait
	}
	e.report(lbsync.Event{Mailbox: store.Inbox, Phase: lbsync.PhaseIdle})
	why := wakeNews
	select {
	case <-ctx.Done():
		why = wakeCancel
	case <-e.c.news:
	case <-e.c.status: // NOTIFY named a folder: the loop syncs it
	case <-e.opts.Changes:
		why = wakeLocal
	case <-timer.C:
		why = wakeTimer
	case <-e.c.c.Closed():
		return 0, e.c.wrap("idle", store.Inbox, errors.New("connection closed"))
	}
	if cmd != nil {
		if err := cmd.Close(); err != nil && why != wakeCancel {
			return 0, e.c.wrap("idle", store.Inbox, err)
		}
		if err := wait(); err != nil && why != wakeCancel {
			return 0, e.c.wrap("idle", store.Inbox, err)
		}
	}
	return why, nil
}

// syncInbox is the incremental update of INBOX while watching.
func (e *engine) syncInbox(ctx context.Context, inbox remoteBox) error {
	e.res = Result{}
	err := e.syncMailboxNow(ctx, inbox)
	if err == nil {
		err = e.fetchBodies(ctx, inbox)
	}
	if err != nil {
		e.report(lbsync.Event{Mailbox: store.Inbox, Phase: lbsync.PhaseHeaders, Err: err})
		if lbsync.IsTemporary(err) || ctx.Err() != nil {
			return err
		}
	}
	return nil
}
