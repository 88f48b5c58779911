package imapsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// engine is one sync over one connection; the goroutine that runs it owns
// the connection.
type engine struct {
	st      Store
	opts    Options
	c       *conn
	boxes   map[string]remoteBox // by local name
	learned map[int64]learnedRef
	// later are the journal entries after the one being replayed.
	later []entry
	// mu guards res: the store writers and the store lane (lane.go)
	// count beside the connection's goroutine. rmu serialises reports.
	mu  sync.Mutex
	rmu sync.Mutex
	res Result
}

// count changes the result under mu.
func (e *engine) count(f func(r *Result)) {
	e.mu.Lock()
	f(&e.res)
	e.mu.Unlock()
}

// Sync runs one two-way sync of the account (see the package doc for the
// steps) and returns what it did. Errors of single mailboxes are reported
// as events and joined into the returned error, after the other mailboxes
// were synced. A connection lost in the middle (a reset, a timeout) is
// resumed inside the run, as Options.Resume says: Sync reconnects and
// goes over the steps again, which fetch only what the store lacks and
// replay only what the journal still holds. When the resumes run out, or
// the connection cannot be set up at all, the run ends with an error for
// which lbsync.IsTemporary holds. Local changes are never lost by a
// failed run.
func Sync(ctx context.Context, st Store, opts Options) (Result, error) {
	e := &engine{st: st, opts: opts}
	e.report(lbsync.Event{Phase: lbsync.PhaseConnect})
	var err error
	for n := 0; ; n++ {
		var c *conn
		if c, err = dial(ctx, opts.Server); err != nil {
			e.report(lbsync.Event{Phase: lbsync.PhaseConnect, Err: err})
			if n == 0 || !lbsync.IsTemporary(err) {
				return e.res, err // the server is not there: nothing to resume
			}
		} else {
			e.c = c
			err = e.locked(ctx, func() error { return e.run(ctx) })
			again := err != nil && resumable(c, err)
			c.close()
			if !again {
				break
			}
		}
		if ctx.Err() != nil || n >= opts.Resume.Tries() {
			break
		}
		d := opts.Resume.DelayOf(n)
		e.note("", lbsync.PhaseConnect, fmt.Sprintf("connection lost (%v); resuming in %s (%d of %d)",
			err, lbsync.Seconds(d), n+1, opts.Resume.Tries()))
		if !lbsync.Sleep(ctx, d) {
			break
		}
	}
	if ctx.Err() != nil {
		// A cancelled run fails its commands with network errors: say why.
		err = lbsync.E("imap sync", lbsync.Other, ctx.Err())
	}
	e.report(lbsync.Event{Phase: lbsync.PhaseDone, Err: err})
	return e.res, err
}

// resumable reports whether a run that ended with err is worth resuming:
// the error that stopped it (the last one joined) is the connection
// failing for a Temporary reason (a reset, a cut, a timeout, BYE), not a
// server's NO or BAD to a command (the connection is fine: retrying
// at once would get the same answer) nor a bound the server broke.
func resumable(c *conn, err error) bool {
	if gerr := c.failure(); gerr != nil {
		return lbsync.IsTemporary(gerr)
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if errs := j.Unwrap(); len(errs) > 0 {
			err = errs[len(errs)-1]
		}
	}
	return lbsync.IsTemporary(err) && !isNo(err)
}

// report sends an event with the account filled in, one at a time (the
// store writers and the store lane report too).
func (e *engine) report(ev lbsync.Event) {
	ev.Account = e.opts.Account
	e.rmu.Lock()
	defer e.rmu.Unlock()
	e.opts.Report.Report(ev)
}

// note records a remark in the result and reports it.
func (e *engine) note(mb string, phase lbsync.Phase, text string) {
	e.count(func(r *Result) {
		if mb != "" {
			r.Notes = append(r.Notes, mb+": "+text)
		} else {
			r.Notes = append(r.Notes, text)
		}
	})
	e.report(lbsync.Event{Mailbox: mb, Phase: phase, Note: text})
}

// run lists mailboxes, replays the journal and syncs the mailboxes
// Options choose: first headers, flags and expunges of every mailbox, then
// their bodies.
func (e *engine) run(ctx context.Context) error {
	list, err := e.c.list()
	if err != nil {
		return err
	}
	e.boxes = map[string]remoteBox{}
	for _, rb := range list {
		if !rb.NoSelect {
			e.boxes[rb.Local] = rb
		}
	}
	if e.learned, err = e.loadLearned(ctx); err != nil {
		return err
	}
	// The journal first: its folder changes (a rename, a delete, a
	// subscription made offline) decide which mailboxes there are.
	var errs []error
	if err := e.replay(ctx); err != nil {
		if !errors.Is(err, ErrMassDelete) {
			return err
		}
		errs = append(errs, err)
	}
	targets, err := e.targets()
	if err != nil {
		return err
	}
	if err := e.ensureLocal(ctx, targets); err != nil {
		return err
	}
	// Each mailbox's store work (flags, expunges, saved state) runs on the
	// lane while the next mailbox is fetched; every mailbox's work is done
	// before the bodies, before returning, and before the sync lock is
	// let go.
	ok := map[string]bool{}
	lane := newLane(func(rb remoteBox, err error) {
		if err == nil {
			ok[rb.Local] = true
			return
		}
		e.report(lbsync.Event{Mailbox: rb.Local, Phase: lbsync.PhaseHeaders, Err: err})
		errs = append(errs, err)
	})
	for _, rb := range targets {
		tail, err := e.syncMailbox(ctx, rb)
		if err == nil {
			lane.run(rb, tail)
			continue
		}
		e.report(lbsync.Event{Mailbox: rb.Local, Phase: lbsync.PhaseHeaders, Err: err})
		if ctx.Err() != nil || lbsync.IsTemporary(err) {
			lane.wait()
			return errors.Join(append(errs, err)...)
		}
		lane.wait()
		errs = append(errs, err)
	}
	lane.wait()
	var synced []remoteBox
	for _, rb := range targets {
		if ok[rb.Local] {
			synced = append(synced, rb)
		}
	}
	for _, rb := range synced {
		if err := e.fetchBodies(ctx, rb); err != nil {
			e.report(lbsync.Event{Mailbox: rb.Local, Phase: lbsync.PhaseBodies, Err: err})
			if ctx.Err() != nil || lbsync.IsTemporary(err) {
				return errors.Join(append(errs, err)...)
			}
			errs = append(errs, err)
		}
	}
	if err := e.forgetLearned(ctx, synced); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// targets picks the mailboxes to sync, INBOX first.
func (e *engine) targets() ([]remoteBox, error) {
	names := e.opts.Mailboxes
	var out []remoteBox
	if len(names) > 0 {
		for _, n := range names {
			cn, err := store.CanonicalName(n)
			if err != nil {
				return nil, fmt.Errorf("imap sync: %w", err)
			}
			rb, ok := e.boxes[cn]
			if !ok {
				e.note(cn, lbsync.PhaseConnect, "no such mailbox on the server")
				continue
			}
			if !slices.ContainsFunc(out, func(o remoteBox) bool { return o.Local == cn }) {
				out = append(out, rb)
			}
		}
		return out, nil
	}
	for _, rb := range e.boxes {
		if e.opts.AllMailboxes || rb.Subscribed {
			out = append(out, rb)
		}
	}
	slices.SortFunc(out, func(a, b remoteBox) int {
		switch {
		case a.Local == store.Inbox:
			return -1
		case b.Local == store.Inbox:
			return 1
		case a.Local < b.Local:
			return -1
		case a.Local > b.Local:
			return 1
		}
		return 0
	})
	return out, nil
}

// ensureLocal creates the local mailboxes of the targets and of every
// special-use server mailbox (so Local can move to Trash and append to
// Sent at once), and mirrors their roles and subscriptions.
func (e *engine) ensureLocal(ctx context.Context, targets []remoteBox) error {
	have, err := e.st.Mailboxes(ctx)
	if err != nil {
		return fmt.Errorf("imap sync: %w", err)
	}
	local := map[string]store.Mailbox{}
	for _, m := range have {
		local[m.Name] = m
	}
	want := map[string]remoteBox{}
	for _, rb := range targets {
		want[rb.Local] = rb
	}
	for _, rb := range e.boxes {
		if rb.SpecialUse != "" {
			want[rb.Local] = rb
		}
	}
	for name, rb := range want {
		m, ok := local[name]
		if !ok {
			if _, err := e.st.CreateMailbox(ctx, name, rb.SpecialUse); err != nil && !errors.Is(err, store.ErrExists) {
				// A role another local mailbox holds: create without it.
				if _, err2 := e.st.CreateMailbox(ctx, name, ""); err2 != nil && !errors.Is(err2, store.ErrExists) {
					return fmt.Errorf("imap sync: create %s: %w", name, err)
				}
			}
			if !rb.Subscribed {
				if err := e.st.SetSubscribed(ctx, name, false); err != nil {
					return fmt.Errorf("imap sync: %w", err)
				}
			}
			continue
		}
		if rb.SpecialUse != "" && m.SpecialUse != rb.SpecialUse {
			if err := e.st.SetSpecialUse(ctx, name, rb.SpecialUse); err != nil {
				e.note(name, lbsync.PhaseConnect, "cannot set role "+rb.SpecialUse+": "+err.Error())
			}
		}
		if m.Subscribed != rb.Subscribed {
			if err := e.st.SetSubscribed(ctx, name, rb.Subscribed); err != nil {
				return fmt.Errorf("imap sync: %w", err)
			}
		}
	}
	return nil
}

// saveLearned persists the learned map (with other state in one write).
func (e *engine) saveLearned(ctx context.Context, extra map[string]string) error {
	kv := map[string]string{keyLearned: learnedValue(e.learned)}
	for k, v := range extra {
		kv[k] = v
	}
	return e.st.SetSyncState(ctx, kv)
}

// forgetLearned drops what replays taught about the synced mailboxes once
// the journal is empty: those mailboxes now know their remote UIDs.
func (e *engine) forgetLearned(ctx context.Context, synced []remoteBox) error {
	if len(e.learned) == 0 {
		return nil
	}
	entries, err := pendingEntries(ctx, e.st)
	if err != nil {
		return err
	}
	for _, en := range entries {
		if !en.Failed {
			return nil // failed changes wait for the user, not for this
		}
	}
	for id, l := range e.learned {
		if slices.ContainsFunc(synced, func(rb remoteBox) bool { return rb.Local == l.Mailbox }) {
			delete(e.learned, id)
		}
	}
	return e.saveLearned(ctx, nil)
}
