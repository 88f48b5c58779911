package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// letterbox store import|demo.

func storeImportCmd(e *env) *cobra.Command {
	var batch int
	var quiet bool
	c := &cobra.Command{
		Use:   "import SRC...",
		Short: "Import Maildirs (plain, Maildir++ trees) and mbox files",
		Long: `Import Maildirs (plain, Maildir++ trees, directories of Maildirs) and
mbox files. A progress bar on a terminal, one summary line otherwise.
Messages are durable when a batch is reported done: a killed import loses
nothing it reported, and the next open of the store indexes any file that
landed before the kill.`,
		Args: minArgs(1, "SRC: a Maildir, a Maildir++ tree or an mbox file"),
	}
	dir := storeFlag(c)
	c.Flags().IntVar(&batch, "batch", 256, "`N` messages per fsync and transaction")
	c.Flags().BoolVar(&quiet, "quiet", false, "print nothing but errors")
	c.RunE = func(cmd *cobra.Command, srcs []string) error {
		if batch < 1 {
			return usagef("store import: --batch must be at least 1")
		}
		for _, p := range srcs {
			if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
				return notFoundError{fmt.Errorf("store import: %s: no such file or directory", p)}
			} else if err != nil {
				return fmt.Errorf("store import: %w", err)
			}
		}
		return storeImport(cmd.Context(), e, *dir, srcs, batch, quiet)
	}
	return c
}

func storeImport(ctx context.Context, e *env, dir string, srcs []string, batch int, quiet bool) error {
	s, err := e.openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer s.Close()
	var progress *progressLine
	total := 0
	if !quiet && e.drawsProgress(e.stderr) {
		progress = &progressLine{w: e.stderr}
		// Count first so the bar has an end; walking is cheap beside
		// parsing and indexing.
		if err := store.WalkSources(ctx, srcs, func(store.SourceMessage) error { total++; return nil }); err != nil {
			total = 0
		}
	}
	start := time.Now()
	update := func(done int) {
		if progress == nil {
			return
		}
		rate := float64(done) / time.Since(start).Seconds()
		if total <= 0 {
			progress.show("import", fmt.Sprintf("importing: %d messages (%.0f/s)", done, rate), false)
			return
		}
		progress.show("import", fmt.Sprintf("%s %3.0f%% (%.0f/s)", bar(done, total, 30), 100*float64(min(done, total))/float64(total), rate), done >= total)
	}
	st, err := s.Import(ctx, srcs, store.ImportOptions{BatchSize: batch, Progress: update})
	if progress != nil {
		progress.end(true)
	}
	if st != nil {
		for _, f := range st.Failed {
			fmt.Fprintf(e.stderr, "letterbox: not imported: %s\n", f)
		}
	}
	if err != nil {
		// A source that is no Maildir or mbox is a bad argument.
		if errors.Is(err, store.ErrInvalid) {
			err = usageError{err}
		}
		if st != nil && st.Imported > 0 {
			return fmt.Errorf("store import: after %d messages: %w", st.Imported, err)
		}
		if strings.HasPrefix(err.Error(), "import: ") { // Import's own prefix
			return fmt.Errorf("store %w", err)
		}
		return fmt.Errorf("store import: %w", err)
	}
	if !quiet {
		el := time.Since(start)
		fmt.Fprintf(e.stdout, "imported %d messages (%s) into %d mailboxes in %s (%.0f msg/s), %d failed\n",
			st.Imported, humanSize(st.Bytes), st.Mailboxes, el.Round(time.Millisecond), float64(st.Imported)/el.Seconds(), len(st.Failed))
	}
	return nil
}

func storeDemoCmd(e *env) *cobra.Command {
	var dir string
	var count int
	var seed int64
	c := &cobra.Command{
		Use:   "demo",
		Short: "Generate sample mail, import it, list and search it",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 1 {
				return usagef("store demo: --count must be at least 1")
			}
			return storeDemo(cmd.Context(), e, dir, count, seed)
		},
	}
	c.Flags().StringVar(&dir, "store", "", "store `DIR` to fill (default: a temporary directory, removed afterwards)")
	c.Flags().IntVar(&count, "count", 2000, "`N` messages to generate")
	c.Flags().Int64Var(&seed, "seed", 1, "generator seed")
	return c
}

// storeDemo shows the store on its own: generated mail imported, then
// the first page, a thread and two searches, each with its time.
func storeDemo(ctx context.Context, e *env, dir string, count int, seed int64) error {
	tmp, err := os.MkdirTemp("", "letterbox-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if dir == "" {
		dir = filepath.Join(tmp, "store")
	}
	src := filepath.Join(tmp, "Maildir")
	fmt.Fprintf(e.stdout, "generating %d sample messages into %s ...\n", count, src)
	if _, err := mailgen.WriteMaildir(src, mailgen.Options{Seed: seed, Count: count}); err != nil {
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
	page, err := s.List(ctx, store.ListOptions{Mailbox: store.Inbox, Sort: store.SortDate, Limit: 10})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n== INBOX, newest 10 (%s)\n", time.Since(t0).Round(time.Microsecond))
	printMessages(e.stdout, page, false)
	for _, m := range page {
		th, err := s.Thread(ctx, m.ThreadID)
		if err != nil {
			return err
		}
		if len(th) >= 2 {
			fmt.Fprintf(e.stdout, "\n== thread of %q (%d messages)\n", clip(m.Subject, 50), len(th))
			printMessages(e.stdout, th, false)
			break
		}
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
		printMessages(e.stdout, res, false)
	}
	fmt.Fprintf(e.stdout, "\nTry: letterbox store ls --store DIR, store search --store DIR 'from:... has:attachment'\n")
	return nil
}
