package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/store"
)

// letterbox store ls|search|show|check|export (import and demo are in
// cmd_store_import.go).

func storeCmd(e *env) *cobra.Command {
	c := groupCmd("store", "Work with a mail store directory: import, ls, search, show, check, export, demo",
		storeImportCmd(e), storeLsCmd(e), storeSearchCmd(e), storeShowCmd(e), storeCheckCmd(e), storeExportCmd(e), storeDemoCmd(e))
	c.Long = `Work with a mail store directory: index.db (SQLite in WAL mode, with an
FTS5 full-text index) and mail/<mailbox>/{tmp,new,cur} Maildirs that
notmuch, mutt and mbsync can read. Without --store DIR the store is
DATA/store (see --data).`
	return c
}

// storeFlag adds --store DIR.
func storeFlag(c *cobra.Command) *string {
	return c.Flags().String("store", "", "store `DIR` (default DATA/store)")
}

func storeLsCmd(e *env) *cobra.Command {
	var mailbox string
	var offset int
	var thread, asJSON, mailboxes bool
	c := &cobra.Command{
		Use:   "ls",
		Short: "List a mailbox page by page, or the mailboxes",
		Args:  noArgs,
	}
	dir := storeFlag(c)
	limit := limitFlag(c.Flags(), 50, "`N` rows per page")
	c.Flags().StringVar(&mailbox, "mailbox", store.Inbox, "the `MAILBOX` to list")
	c.Flags().IntVar(&offset, "offset", 0, "`N` rows to skip")
	c.Flags().BoolVar(&thread, "thread", false, "order by thread")
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	c.Flags().BoolVar(&mailboxes, "mailboxes", false, "list the mailboxes with their counts instead")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if offset < 0 {
			return usagef("store ls: --offset must be 0 or more")
		}
		ctx := cmd.Context()
		s, err := e.openExistingStore(ctx, *dir)
		if err != nil {
			return err
		}
		defer s.Close()
		if mailboxes {
			mbs, err := s.Mailboxes(ctx)
			if err != nil {
				return err
			}
			for _, mb := range mbs {
				if asJSON {
					if err := writeJSONLine(e.stdout, mailboxJSON{mb.Name, mb.SpecialUse, mb.Total, mb.Unread, mb.UIDValidity, mb.UIDNext}); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(e.stdout, "%-30s %7d %7d unread %s\n", mb.Name, mb.Total, mb.Unread, mb.SpecialUse)
			}
			return nil
		}
		sort := store.SortDate
		if thread {
			sort = store.SortThread
		}
		msgs, err := s.List(ctx, store.ListOptions{Mailbox: mailbox, Sort: sort, Limit: int(*limit), Offset: offset})
		if err != nil {
			return err
		}
		return printMessages(e.stdout, msgs, asJSON)
	}
	return c
}

func storeSearchCmd(e *env) *cobra.Command {
	var mailbox string
	var all, asJSON bool
	c := &cobra.Command{
		Use:   "search QUERY...",
		Short: "Search a store with the query language",
		Long: `Search a store with the query language (README, Search queries). A
word that begins with "-" and is not a flag of this command is a negated
query term.`,
		DisableFlagParsing: true,
	}
	dir := storeFlag(c)
	limit := limitFlag(c.Flags(), 50, "at most `N` results")
	c.Flags().BoolVar(&all, "all", false, "every result (no --limit)")
	c.Flags().StringVar(&mailbox, "mailbox", "", "search only this `MAILBOX`")
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		pos, help, err := parseDashArgs(cmd, args)
		if err != nil || help {
			return helpOr(cmd, help, err)
		}
		if len(pos) == 0 {
			return usagef("store search: missing QUERY")
		}
		if all && cmd.Flags().Changed("limit") {
			return usagef("store search: --all and --limit exclude each other")
		}
		n := int(*limit)
		if all {
			n = -1
		}
		ctx := cmd.Context()
		s, err := e.openExistingStore(ctx, *dir)
		if err != nil {
			return err
		}
		defer s.Close()
		msgs, err := s.Search(ctx, strings.Join(pos, " "), store.SearchOptions{Mailbox: mailbox, Limit: n})
		if err != nil {
			return queryError(err)
		}
		return printMessages(e.stdout, msgs, asJSON)
	}
	return c
}

func storeShowCmd(e *env) *cobra.Command {
	var raw bool
	var part, output string
	c := &cobra.Command{
		Use:   "show ID",
		Short: "Print a message, or save one of its attachments",
		Args:  wantArgs(1, "one message ID"),
	}
	dir := storeFlag(c)
	c.Flags().BoolVar(&raw, "raw", false, "print the raw message")
	c.Flags().StringVar(&part, "attachment", "", "save the attachment with this `PART` number (see the list)")
	c.Flags().StringVar(&output, "output", "", "`FILE` to save the attachment to (default: its name, in the current directory)")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id <= 0 {
			return usagef("store show: bad message ID %q", args[0])
		}
		ctx := cmd.Context()
		s, err := e.openExistingStore(ctx, *dir)
		if err != nil {
			return err
		}
		defer s.Close()
		if raw {
			f, err := s.OpenRaw(ctx, id)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(e.stdout, f)
			return err
		}
		r, err := s.Render(ctx, id)
		if err != nil && r == nil {
			return err
		}
		if part == "" {
			printRendered(e.stdout, e.stderr, r)
			return nil
		}
		path := attachmentPath(r, part, output)
		n, err := s.SaveAttachmentFile(ctx, id, part, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "saved %s (%s)\n", path, humanSize(n))
		return nil
	}
	return c
}

// attachmentPath is where store show --attachment saves part: --output,
// else the attachment's own file name, else attachment-PART.
func attachmentPath(r *store.Rendered, part, output string) string {
	if output != "" {
		return output
	}
	for _, a := range r.Attachments {
		if a.Part == part && a.Filename != "" {
			output = filepath.Base(a.Filename)
		}
	}
	if output == "" || output == "." || output == "/" {
		output = "attachment-" + part
	}
	return output
}

func storeCheckCmd(e *env) *cobra.Command {
	var repair, asJSON bool
	c := &cobra.Command{
		Use:   "check",
		Short: "Compare files and index; exit 1 if the store is not clean",
		Long: `Compare files and index (files without rows, rows without files,
counters, full-text rows) and report duplicates. Exit 1 if the store is
not clean; --repair fixes what it finds.`,
		Args: noArgs,
	}
	dir := storeFlag(c)
	c.Flags().BoolVar(&repair, "repair", false, "fix what is found")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		s, err := e.openExistingStore(ctx, *dir)
		if err != nil {
			return err
		}
		defer s.Close()
		rep, err := s.Check(ctx, repair)
		if err != nil {
			return err
		}
		if open := s.OpenReport(); !open.Clean() {
			fmt.Fprintf(e.stderr, "opening reconciled: %d indexed, %d dropped\n", len(open.Indexed), len(open.Dropped))
		}
		if asJSON {
			if err := writeJSONLine(e.stdout, toCheckJSON(rep)); err != nil {
				return err
			}
		} else {
			for _, f := range rep.Indexed {
				fmt.Fprintln(e.stdout, "file without index row:", f)
			}
			for _, f := range rep.Dropped {
				fmt.Fprintln(e.stdout, "index row without file:", f)
			}
			for _, p := range rep.Problems {
				fmt.Fprintln(e.stdout, "problem:", p)
			}
			for _, d := range rep.Duplicates {
				fmt.Fprintln(e.stdout, "duplicate:", d)
			}
			state := "clean"
			switch {
			case rep.Clean():
			case rep.Repaired && len(rep.Duplicates) == 0:
				state = "repaired"
			case rep.Repaired:
				state = "NOT clean: repaired, but duplicates are reported, not removed (delete the extra copies)"
			default:
				state = "NOT clean"
			}
			fmt.Fprintf(e.stdout, "%d mailboxes, %d messages: %s\n", rep.Mailboxes, rep.Messages, state)
		}
		if n := len(rep.Indexed) + len(rep.Dropped) + len(rep.Problems); n > 0 && !rep.Repaired {
			return fmt.Errorf("store check: %d problems (run with --repair)", n+len(rep.Duplicates))
		}
		if len(rep.Duplicates) > 0 {
			return fmt.Errorf("store check: %d messages stored more than once", len(rep.Duplicates))
		}
		return nil
	}
	return c
}

func storeExportCmd(e *env) *cobra.Command {
	var mailbox, format string
	c := &cobra.Command{
		Use:   "export DEST",
		Short: "Export a mailbox as a new mbox file or into a Maildir",
		Long: `Export a mailbox: --format mbox writes the new file DEST (never over an
existing one); --format maildir writes into the Maildir DEST, created if
needed. A failed export leaves no partial mbox file and no partial new
Maildir.`,
		Args: wantArgs(1, "one DEST"),
	}
	dir := storeFlag(c)
	c.Flags().StringVar(&mailbox, "mailbox", store.Inbox, "the `MAILBOX` to export")
	c.Flags().StringVar(&format, "format", store.ExportMbox, "maildir or mbox")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if format != store.ExportMbox && format != store.ExportMaildir {
			return usagef("store export: unknown format %q (maildir or mbox)", format)
		}
		ctx := cmd.Context()
		s, err := e.openExistingStore(ctx, *dir)
		if err != nil {
			return err
		}
		defer s.Close()
		n, err := s.ExportMailbox(ctx, mailbox, format, args[0])
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("%w (choose a new file name)", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "exported %d messages from %s to %s (%s)\n", n, mailbox, args[0], format)
		return nil
	}
	return c
}
