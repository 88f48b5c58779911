package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

func storeImport(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("store import", "store import --store DIR [--batch N] [--quiet] SRC...")
	dir := storeFlag(e, fs)
	batch := fs.Int("batch", 256, "messages per fsync and transaction")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	srcs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(srcs) == 0 {
		return usageError{"store import: missing SRC (a Maildir, a Maildir++ tree or an mbox file)"}
	}
	for _, p := range srcs {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("store import: %w", err)
		}
	}
	s, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer s.Close()

	bar := newProgress(e.stderr, *quiet)
	if bar.tty {
		// Count first so the bar has an end; walking is cheap beside
		// parsing and indexing.
		total := 0
		if err := store.WalkSources(ctx, srcs, func(store.SourceMessage) error { total++; return nil }); err == nil {
			bar.total = total
		}
	}
	start := time.Now()
	st, err := s.Import(ctx, srcs, store.ImportOptions{BatchSize: *batch, Progress: bar.update})
	bar.done()
	if st != nil {
		for _, f := range st.Failed {
			fmt.Fprintf(e.stderr, "letterbox: not imported: %s\n", f)
		}
	}
	if err != nil {
		if st != nil {
			return fmt.Errorf("store import: after %d messages: %w", st.Imported, err)
		}
		return fmt.Errorf("store import: %w", err)
	}
	if !*quiet {
		el := time.Since(start)
		rate := float64(st.Imported) / el.Seconds()
		fmt.Fprintf(e.stdout, "imported %d messages (%s) into %d mailboxes in %s (%.0f msg/s), %d failed\n",
			st.Imported, humanSize(st.Bytes), st.Mailboxes, el.Round(time.Millisecond), rate, len(st.Failed))
	}
	return nil
}

// progress draws a one-line bar on a terminal and nothing otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && !quiet {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb" {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(done int) {
	if !p.tty {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != p.total {
		return
	}
	p.last = now
	const width = 30
	rate := float64(done) / now.Sub(p.start).Seconds()
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r\x1b[Kimporting: %d messages (%.0f/s)", done, rate)
		return
	}
	frac := float64(done) / float64(p.total)
	if frac > 1 {
		frac = 1
	}
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %d/%d %3.0f%% (%.0f/s)", strings.Repeat("█", n), strings.Repeat("░", width-n),
		done, p.total, frac*100, rate)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func storeDemo(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("store demo", "store demo [--store DIR] [--count N] [--seed N]")
	storeDir := fs.String("store", "", "store `DIR` to fill (default: a temporary directory, removed afterwards)")
	count := fs.Int("count", 2000, "messages to generate")
	seed := fs.Int64("seed", 1, "generator seed")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArgs(fs.Name(), pos); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "letterbox-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := *storeDir
	if dir == "" {
		dir = filepath.Join(tmp, "store")
	}
	src := filepath.Join(tmp, "Maildir")
	fmt.Fprintf(e.stdout, "generating %d sample messages into %s ...\n", *count, src)
	if _, err := mailgen.WriteMaildir(src, mailgen.Options{Seed: *seed, Count: *count}); err != nil {
		return err
	}
	s, err := store.Open(ctx, dir, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	st, err := s.Import(ctx, []string{src}, store.ImportOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported %d messages in %s into %s\n\n", st.Imported, time.Since(start).Round(time.Millisecond), dir)

	mbs, err := s.Mailboxes(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "== mailboxes")
	for _, mb := range mbs {
		fmt.Fprintf(e.stdout, "%-20s %6d messages %6d unread\n", mb.Name, mb.Total, mb.Unread)
	}
	t0 := time.Now()
	page, err := s.List(ctx, store.ListOptions{Mailbox: "INBOX", Sort: store.SortDate, Limit: 10})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n== INBOX, newest 10 (%s)\n", time.Since(t0).Round(time.Microsecond))
	if err := printMessages(e.stdout, page, false); err != nil {
		return err
	}
	for _, m := range page {
		th, err := s.Thread(ctx, m.ThreadID)
		if err != nil {
			return err
		}
		if len(th) < 2 {
			continue
		}
		fmt.Fprintf(e.stdout, "\n== thread of %q (%d messages)\n", clip(m.Subject, 50), len(th))
		if err := printMessages(e.stdout, th, false); err != nil {
			return err
		}
		break
	}
	for _, q := range []string{"has:attachment is:unread", "subject:meeting OR subject:report"} {
		t0 := time.Now()
		n, err := s.Count(ctx, q, store.SearchOptions{})
		if err != nil {
			return err
		}
		res, err := s.Search(ctx, q, store.SearchOptions{Limit: 5})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "\n== search %q: %d matches (%s), first 5\n", q, n, time.Since(t0).Round(time.Microsecond))
		if err := printMessages(e.stdout, res, false); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "\nTry: letterbox store ls --store DIR, store search --store DIR 'from:... has:attachment'\n")
	return nil
}
