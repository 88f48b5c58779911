package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
)

func runSync(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("sync", "sync [ACCOUNT...] [--watch] [--interval D] [--force] [--json]")
	watch := fs.Bool("watch", false, "keep running: sync again every --interval, and on new mail")
	interval := fs.Duration("interval", 5*time.Minute, "with --watch, time between syncs")
	force := fs.Bool("force", false, "go past the mass-delete guard (a sync that would delete over half of a folder)")
	asJSON := fs.Bool("json", false, "print one JSON object per progress event, then one per account result")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	cfg, _, err := e.loadConfig()
	if err != nil {
		return err
	}
	names := pos
	if len(names) == 0 {
		for _, a := range cfg.Accounts {
			names = append(names, a.Name)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: no accounts: add one with letterbox account add NAME --email ADDRESS", errNotFound)
	}
	for _, n := range names {
		if _, err := cfg.Find(n); err != nil {
			return fmt.Errorf("%w: %v", errNotFound, err)
		}
	}
	out := newSyncPrinter(e.stdout, e.stderr, *asJSON, isTerminal(e.stdout))
	if *watch {
		return watchAll(ctx, e, names, *interval, *force, out)
	}
	var errs []error
	for _, n := range names {
		if err := syncOne(ctx, e, n, *force, out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// watchAll runs Account.Watch for every account at once until ctx ends
// (Ctrl-C): IMAP accounts IDLE, POP3 accounts poll; both flush the outbox.
func watchAll(ctx context.Context, e *env, names []string, interval time.Duration, force bool, out *syncPrinter) error {
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		a, err := e.openAccount(ctx, n)
		if err != nil {
			return err
		}
		defer a.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.Watch(ctx, interval, accounts.SyncOptions{Force: force, Report: out.report})
			if errs[i] != nil {
				fmt.Fprintf(e.stderr, "letterbox: %s: watch stopped: %v\n", n, errs[i])
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func syncOne(ctx context.Context, e *env, name string, force bool, out *syncPrinter) error {
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Sync(ctx, accounts.SyncOptions{Force: force, Report: out.report})
	out.finish(name, res, err)
	if errors.Is(err, accounts.ErrMassDelete) {
		return fmt.Errorf("%w (run letterbox sync %s --force if this is what you want)", err, name)
	}
	if err != nil {
		return err
	}
	if res.OutboxErr != nil {
		return res.OutboxErr
	}
	return nil
}

// syncPrinter shows sync progress: JSON lines, one plain line per folder
// and phase, or a redrawn progress bar on a terminal.
type syncPrinter struct {
	mu       sync.Mutex
	out, err io.Writer
	json     bool
	tty      bool
	last     string
	start    time.Time
}

func newSyncPrinter(out, errw io.Writer, asJSON, tty bool) *syncPrinter {
	return &syncPrinter{out: out, err: errw, json: asJSON, tty: tty, start: time.Now()}
}

// eventJSON is one --json progress line.
type eventJSON struct {
	Type    string  `json:"type"` // "event"
	Time    float64 `json:"t"`    // seconds since the command started
	Account string  `json:"account"`
	Mailbox string  `json:"mailbox"`
	Phase   string  `json:"phase"`
	Done    int     `json:"done"`
	Total   int     `json:"total"`
	Bytes   int64   `json:"bytes,omitempty"`
	Note    string  `json:"note,omitempty"`
	Error   string  `json:"error,omitempty"`
}

func (p *syncPrinter) report(ev accounts.SyncEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		j := eventJSON{Type: "event", Time: time.Since(p.start).Seconds(), Account: ev.Account, Mailbox: ev.Mailbox,
			Phase: string(ev.Phase), Done: ev.Done, Total: ev.Total, Bytes: ev.Bytes, Note: ev.Note}
		if ev.Err != nil {
			j.Error = ev.Err.Error()
		}
		b, _ := json.Marshal(j)
		fmt.Fprintf(p.out, "%s\n", b)
		return
	}
	key := ev.Account + "\x00" + ev.Mailbox + "\x00" + string(ev.Phase)
	if p.tty {
		line := ev.String()
		if ev.Total > 0 {
			line = fmt.Sprintf("%-40s %s", clip(ev.Account+" "+ev.Mailbox+": "+string(ev.Phase), 40), bar(ev.Done, ev.Total, 30))
		}
		if key != p.last && p.last != "" {
			fmt.Fprintln(p.err)
		}
		fmt.Fprintf(p.err, "\r\x1b[K%s", line)
		p.last = key
		return
	}
	// Not a terminal: one line when a phase of a folder ends (or fails,
	// or has no count), so logs stay short.
	if ev.Err != nil || ev.Note != "" || ev.Total == 0 || ev.Done >= ev.Total {
		fmt.Fprintln(p.out, ev.String())
	}
}

func (p *syncPrinter) finish(name string, res accounts.SyncResult, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.last != "" {
		fmt.Fprintln(p.err)
		p.last = ""
	}
	if p.json {
		j := struct {
			Type    string              `json:"type"` // "result"
			Account string              `json:"account"`
			Result  accounts.SyncResult `json:"result"`
			Error   string              `json:"error,omitempty"`
			Outbox  string              `json:"outbox_error,omitempty"`
		}{Type: "result", Account: name, Result: res}
		if err != nil {
			j.Error = err.Error()
		}
		if res.OutboxErr != nil {
			j.Outbox = res.OutboxErr.Error()
		}
		b, _ := json.Marshal(j)
		fmt.Fprintf(p.out, "%s\n", b)
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
	status := "done"
	if err != nil {
		status = "failed"
	}
	fmt.Fprintf(p.out, "%s: sync %s: %s\n", name, status, strings.Join(parts, "; "))
}

// bar draws a progress bar of width cells.
func bar(done, total, width int) string {
	if total <= 0 {
		return ""
	}
	n := min(done*width/total, width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + fmt.Sprintf("] %d/%d", done, total)
}
