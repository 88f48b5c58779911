package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/accounts"
)

// letterbox sync.

type syncFlags struct {
	watch, force, json bool
	interval           time.Duration
}

func syncCmd(e *env) *cobra.Command {
	var f syncFlags
	c := &cobra.Command{
		Use:   "sync [ACCOUNT...]",
		Short: "Sync accounts with their servers (IMAP two-way, POP3 download), then send the outbox",
		Long: `Sync the named accounts, or all of them: IMAP accounts both ways, POP3
accounts by downloading (and deleting on the server by their policy, only
what is durable locally), then each account's outbox. One summary line per
account; a failed account says why on its line, and the exit code is 1.

A sync that would delete more than half of a folder (and over 100
messages) stops before deleting and says so; --force lets it go on.`,
		ValidArgsFunction: e.accountNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSync(cmd.Context(), e, args, f)
		},
	}
	fs := c.Flags()
	fs.BoolVar(&f.watch, "watch", false, "keep running: IMAP accounts wait for news (IDLE), all sync again every --interval")
	fs.DurationVar(&f.interval, "interval", 5*time.Minute, "with --watch, the time between syncs")
	fs.BoolVar(&f.force, "force", false, "go past the mass-delete guard")
	fs.BoolVar(&f.json, "json", false, "print JSON Lines: one object per progress event, then one result per account")
	return c
}

func runSync(ctx context.Context, e *env, names []string, f syncFlags) error {
	if e.process {
		boundSyncMemory(e.getenv)
	}
	cfg, _, err := e.loadConfig()
	if err != nil {
		return err
	}
	if len(names) == 0 {
		for _, a := range cfg.Accounts {
			names = append(names, a.Name)
		}
	}
	if len(names) == 0 {
		return notFoundError{errors.New("sync: no accounts: add one with letterbox account add NAME --email ADDRESS")}
	}
	for _, n := range names {
		if _, err := cfg.Find(n); err != nil {
			return err
		}
	}
	out := newSyncPrinter(e, f.json)
	if f.watch {
		return watch(ctx, e, names, f.interval, f.force, out)
	}
	var failed []string
	for i, n := range names {
		if ctx.Err() != nil {
			// Ctrl-C: the accounts not begun are left alone.
			return reportedError{fmt.Sprintf("sync interrupted: %s not synced", strings.Join(names[i:], ", "))}
		}
		if !syncOne(ctx, e, n, f.force, out) {
			failed = append(failed, n)
		}
	}
	if last := names[len(names)-1]; ctx.Err() != nil && len(failed) > 0 && failed[len(failed)-1] == last {
		return reportedError{fmt.Sprintf("sync interrupted: %s did not finish", last)}
	}
	if len(failed) > 0 {
		return reportedError{fmt.Sprintf("sync failed for %s (the reason is on its line above)", strings.Join(failed, ", "))}
	}
	return nil
}

// watch runs Account.Watch for every account at once until ctx ends
// (Ctrl-C) or one fails for good, which stops the others
// (accounts.WatchAll): IMAP accounts IDLE, POP3 accounts poll; both
// flush the outbox. Every account is opened before any watch starts and
// closed after every watch returned.
func watch(ctx context.Context, e *env, names []string, interval time.Duration, force bool, out *syncPrinter) error {
	var opened []*accounts.Account
	defer func() {
		for _, a := range opened {
			a.Close()
		}
	}()
	for _, n := range names {
		a, err := e.openAccount(ctx, n)
		if err != nil {
			return err
		}
		opened = append(opened, a)
	}
	// The error, if any, is printed once, by reportError.
	return accounts.WatchAll(ctx, opened, accounts.WatchOptions{Interval: interval,
		SyncOptions: accounts.SyncOptions{Force: force, Report: out.report}})
}

// syncOne syncs one account and prints its summary line; it reports
// whether everything went.
func syncOne(ctx context.Context, e *env, name string, force bool, out *syncPrinter) bool {
	a, err := e.openAccount(ctx, name)
	if err != nil {
		out.finish(name, "", accounts.SyncResult{}, err)
		return false
	}
	defer a.Close()
	res, err := a.Sync(ctx, accounts.SyncOptions{Force: force, Report: out.report})
	if res.OutboxErr != nil {
		res.OutboxErr = errors.New(outboxTrouble(res.OutboxErr, a.Config))
	}
	out.finish(name, a.Config.Mode, res, massDeleteHint(err, name))
	return err == nil && res.OutboxErr == nil
}

// massDeleteHint adds the way past the mass-delete guard to its error.
func massDeleteHint(err error, name string) error {
	if errors.Is(err, accounts.ErrMassDelete) {
		return fmt.Errorf("%w (run letterbox sync %s --force if this is what you want)", err, name)
	}
	return err
}

// syncPrinter shows sync progress: JSON Lines; or a redrawn progress
// line on a terminal; or one line per folder and phase when it ends. The
// summary of each account is one line on stdout.
type syncPrinter struct {
	mu       sync.Mutex
	out, err io.Writer
	json     bool
	progress *progressLine // nil unless stderr is a terminal
	start    time.Time
}

func newSyncPrinter(e *env, asJSON bool) *syncPrinter {
	p := &syncPrinter{out: e.stdout, err: e.stderr, json: asJSON, start: time.Now()}
	// A person watching (stdout a terminal) sees a progress line on
	// stderr; a log (stdout redirected) gets the event lines.
	if !asJSON && e.drawsProgress(e.stdout) && e.drawsProgress(e.stderr) {
		p.progress = &progressLine{w: e.stderr}
	}
	return p
}

func (p *syncPrinter) report(ev accounts.SyncEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.json:
		j := eventJSON{Type: "event", Time: time.Since(p.start).Seconds(), Account: ev.Account, Mailbox: ev.Mailbox,
			Phase: string(ev.Phase), Done: ev.Done, Total: ev.Total, Bytes: ev.Bytes, Note: ev.Note}
		if ev.Err != nil {
			j.Error = ev.Err.Error()
		}
		writeJSONLine(p.out, j)
	case p.progress != nil:
		line := eventLine(ev)
		if ev.Total > 0 {
			line = fmt.Sprintf("%-40s %s", clip(eventLabel(ev), 40), bar(ev.Done, ev.Total, 30))
		}
		key := ev.Account + "\x00" + ev.Mailbox + "\x00" + string(ev.Phase)
		p.progress.show(key, line, ev.Total == 0 || ev.Done >= ev.Total || ev.Err != nil)
	case ev.Err != nil || ev.Note != "" || ev.Total == 0 || ev.Done >= ev.Total:
		// Not a terminal: one line when a phase of a folder ends (or
		// fails, or has no count), so logs stay short.
		fmt.Fprintln(p.out, eventLine(ev))
	}
}

// finish prints an account's summary: a result object, or one line that
// gives the counts, or the reason it failed.
func (p *syncPrinter) finish(name string, mode accounts.Mode, res accounts.SyncResult, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.progress != nil {
		p.progress.end(false)
	}
	if p.json {
		writeJSONLine(p.out, toSyncResultJSON(name, mode, res, err))
		return
	}
	if err != nil {
		// The outbox goes even when the incoming server failed.
		line := strings.TrimPrefix(err.Error(), name+": ")
		if res.Sent > 0 {
			line += fmt.Sprintf("; the outbox went: %d sent", res.Sent)
		}
		if res.OutboxErr != nil {
			line += "; " + res.OutboxErr.Error()
		}
		fmt.Fprintf(p.out, "%s: sync failed: %s\n", name, line)
		return
	}
	var parts []string
	if r := res.IMAP; r != nil {
		parts = append(parts, fmt.Sprintf("%d folders, %d new, %d flag changes, %d removed, %d bodies, %d changes pushed", r.Mailboxes, r.New, r.Flags, r.Expunged, r.Bodies, r.Replayed))
	}
	if r := res.POP3; r != nil {
		parts = append(parts, fmt.Sprintf("%d on the server, %d downloaded, %d deleted there", r.OnServer, r.Downloaded, r.Deleted))
	}
	if res.Sent > 0 {
		parts = append(parts, fmt.Sprintf("%d sent", res.Sent))
	}
	if res.OutboxErr != nil {
		parts = append(parts, "the outbox was not sent: "+res.OutboxErr.Error())
		fmt.Fprintf(p.out, "%s: sync failed: %s\n", name, strings.Join(parts, "; "))
		return
	}
	fmt.Fprintf(p.out, "%s: sync done: %s\n", name, strings.Join(parts, "; "))
}

// syncMemoryLimit is the soft limit of the Go memory of a sync process.
// A sync holds at most three fetched chunks of 2 MiB (sync/imap), the
// full text of the messages staged for the next commit (at most 1 MiB)
// and what the store parses: a live heap of 8-13 MB. At the default
// GOGC=100 the heap grew to twice that before each collection; the limit
// makes the collector run sooner instead, so that the whole process
// (about 18 MB of program text, the SQLite caches and the Go memory)
// stays under 64 MB for a full sync of 19,000 messages (bench/all.sh,
// row "peak RSS": 58-62 MB). Much lower and the collector runs without
// pause (at 24 MiB, before the staging of sync/imap, 2,500 collections in
// one sync and a fifth more CPU).
const syncMemoryLimit = 26 << 20

// boundSyncMemory sets syncMemoryLimit unless GOMEMLIMIT says otherwise,
// and then, unless GOGC says otherwise, leaves collections to the limit
// alone: with GOGC=100 the collector also ran whenever the small live
// heap doubled, for the same peak (full sync of 19,000 messages: 13.8 s
// median against 14.65 s, 59-61 MB either way; docs/BENCHMARKS.md).
func boundSyncMemory(getenv func(string) string) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(syncMemoryLimit)
	if getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
}
