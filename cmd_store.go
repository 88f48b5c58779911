package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mattn/go-runewidth"

	"github.com/letterbox-mail/letterbox/store"
)

// errNotFound is matched by exitCode for exit code 3.
var errNotFound = store.ErrNotFound

func runStore(ctx context.Context, e *env, args []string) error {
	subs := map[string]func(context.Context, *env, []string) error{
		"import": storeImport, "ls": storeLs, "search": storeSearch, "show": storeShow,
		"check": storeCheck, "export": storeExport, "demo": storeDemo,
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stdout, `usage: letterbox store SUBCOMMAND [flags]

subcommands:
  import   --store DIR SRC...                       import Maildirs (plain, Maildir++) and mbox files
  ls       --store DIR [--mailbox M] [--limit N] [--offset N] [--thread] [--json]
  search   --store DIR [--json] [--limit N] QUERY
  show     --store DIR [--raw] [--attachment PART --output FILE] ID
  check    --store DIR [--repair] [--json]
  export   --store DIR --mailbox M --format maildir|mbox DEST
  demo     [--store DIR] [--count N]                generate sample mail, import it, list and search

Without --store, the store is DATA/store (see --data).`)
		if len(args) == 0 {
			return usageError{"store: missing subcommand"}
		}
		return nil
	}
	fn, ok := subs[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("store: unknown subcommand %q", args[0])}
	}
	return fn(ctx, e, args[1:])
}

// storeFlag adds --store and returns a function resolving its default.
func storeFlag(e *env, fs interface {
	StringVar(*string, string, string, string)
}) func() (string, error) {
	var dir string
	fs.StringVar(&dir, "store", "", "store `DIR` (default DATA/store)")
	return func() (string, error) {
		if dir != "" {
			return dir, nil
		}
		data, err := e.dataHome()
		if err != nil {
			return "", err
		}
		return filepath.Join(data, "store"), nil
	}
}

func openStore(ctx context.Context, dir func() (string, error)) (*store.Store, error) {
	d, err := dir()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, d, nil)
}

// jsonMessage is the stable --json form of a message (documented in the
// README); add fields, never rename them.
type jsonMessage struct {
	ID            int64    `json:"id"`
	Mailbox       string   `json:"mailbox"`
	UID           uint32   `json:"uid"`
	Date          string   `json:"date"`
	From          string   `json:"from"`
	To            string   `json:"to"`
	Subject       string   `json:"subject"`
	Flags         []string `json:"flags"`
	Size          int64    `json:"size"`
	MessageID     string   `json:"message_id"`
	ThreadID      int64    `json:"thread_id"`
	HasAttachment bool     `json:"has_attachment"`
}

func toJSON(m store.Message) jsonMessage {
	flags := m.Flags
	if flags == nil {
		flags = []string{}
	}
	return jsonMessage{
		ID: m.ID, Mailbox: m.Mailbox, UID: m.UID, Date: m.Date.UTC().Format(time.RFC3339),
		From: store.FormatAddresses(m.From), To: store.FormatAddresses(m.To), Subject: m.Subject,
		Flags: flags, Size: m.Size, MessageID: m.MessageID, ThreadID: m.ThreadID, HasAttachment: m.HasAttachment,
	}
}

func printMessages(w io.Writer, msgs []store.Message, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, m := range msgs {
			if err := enc.Encode(toJSON(m)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, m := range msgs {
		mark := []byte("   ")
		if !m.HasFlag(store.FlagSeen) {
			mark[0] = 'N'
		}
		if m.HasFlag(store.FlagFlagged) {
			mark[1] = '!'
		}
		if m.HasAttachment {
			mark[2] = '@'
		}
		from := ""
		if len(m.From) > 0 {
			from = m.From[0].Name
			if from == "" {
				from = m.From[0].Addr
			}
		}
		indent := strings.Repeat("  ", min(m.Depth, 8))
		fmt.Fprintf(w, "%7d %s %s %s %s%s\n", m.ID, m.Date.Local().Format("2006-01-02 15:04"), mark, pad(clip(from, 22), 22), indent, clip(m.Subject, 70))
	}
	return nil
}

// clip shortens s to n terminal cells (wide CJK runes take two), ending
// in "…" when cut. Control characters are shown as spaces.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if runewidth.StringWidth(s) <= n {
		return s
	}
	return runewidth.Truncate(s, n, "…")
}

// pad fills s with spaces to n terminal cells.
func pad(s string, n int) string {
	return runewidth.FillRight(s, n)
}

func storeLs(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("store ls", "store ls --store DIR [--mailbox M] [--limit N] [--offset N] [--thread] [--json]")
	dir := storeFlag(e, fs)
	mailbox := fs.String("mailbox", "INBOX", "mailbox to list")
	limit := fs.Int("limit", 50, "rows per page")
	offset := fs.Int("offset", 0, "rows to skip")
	thread := fs.Bool("thread", false, "order by thread")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	mailboxes := fs.Bool("mailboxes", false, "list the mailboxes instead")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArgs(fs.Name(), pos); err != nil {
		return err
	}
	s, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer s.Close()
	if *mailboxes {
		mbs, err := s.Mailboxes(ctx)
		if err != nil {
			return err
		}
		for _, mb := range mbs {
			if *asJSON {
				json.NewEncoder(e.stdout).Encode(map[string]any{"name": mb.Name, "special_use": mb.SpecialUse, "total": mb.Total, "unread": mb.Unread, "uidvalidity": mb.UIDValidity, "uidnext": mb.UIDNext})
				continue
			}
			fmt.Fprintf(e.stdout, "%-30s %7d %7d unread %s\n", mb.Name, mb.Total, mb.Unread, mb.SpecialUse)
		}
		return nil
	}
	sort := store.SortDate
	if *thread {
		sort = store.SortThread
	}
	msgs, err := s.List(ctx, store.ListOptions{Mailbox: *mailbox, Sort: sort, Limit: *limit, Offset: *offset})
	if err != nil {
		return err
	}
	return printMessages(e.stdout, msgs, *asJSON)
}

func storeSearch(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("store search", "store search --store DIR [--json] [--limit N] [--mailbox M] QUERY")
	dir := storeFlag(e, fs)
	asJSON := fs.Bool("json", false, "one JSON object per line")
	limit := fs.Int("limit", 50, "maximum results (-1 for all)")
	mailbox := fs.String("mailbox", "", "search only this mailbox")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"store search: missing QUERY"}
	}
	s, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer s.Close()
	msgs, err := s.Search(ctx, joinArgs(pos), store.SearchOptions{Mailbox: *mailbox, Limit: *limit})
	var qe *store.QueryError
	if errors.As(err, &qe) {
		return usageError{qe.Error() + "\n" + qe.Caret()}
	}
	if err != nil {
		return err
	}
	return printMessages(e.stdout, msgs, *asJSON)
}

func storeShow(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("store show", "store show --store DIR [--raw] [--attachment PART --output FILE] ID")
	dir := storeFlag(e, fs)
	raw := fs.Bool("raw", false, "print the raw message")
	part := fs.String("attachment", "", "save the attachment with this part number (see the list)")
	output := fs.String("output", "", "file to save the attachment to (default: its name, in the current directory)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"store show: want one message ID"}
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return usageError{fmt.Sprintf("store show: bad ID %q", pos[0])}
	}
	s, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer s.Close()
	if *raw {
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
	if *part != "" {
		return saveAttachment(ctx, e, s, id, r, *part, *output)
	}
	printRendered(e, r)
	return nil
}

// printRendered prints a decoded message: headers, text, attachments.
func printRendered(e *env, r *store.Rendered) {
	for _, h := range r.Headers {
		fmt.Fprintf(e.stdout, "%s: %s\n", h.Key, h.Value)
	}
	fmt.Fprintln(e.stdout)
	fmt.Fprintln(e.stdout, strings.TrimRight(r.Text, "\n"))
	if len(r.Attachments) > 0 {
		fmt.Fprintln(e.stdout, "\nAttachments:")
		for _, a := range r.Attachments {
			fmt.Fprintf(e.stdout, "  [%s] %s (%s, %s)\n", a.Part, a.Filename, a.ContentType, humanSize(a.Size))
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintln(e.stderr, "warning:", p)
	}
}

func saveAttachment(ctx context.Context, e *env, s *store.Store, id int64, r *store.Rendered, part, output string) error {
	if output == "" {
		for _, a := range r.Attachments {
			if a.Part == part && a.Filename != "" {
				output = filepath.Base(a.Filename)
			}
		}
		if output == "" || output == "." || output == "/" {
			output = "attachment-" + part
		}
	}
	f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("save attachment: %w", err)
	}
	n, err := s.SaveAttachment(ctx, id, part, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(output)
		return err
	}
	fmt.Fprintf(e.stdout, "saved %s (%s)\n", output, humanSize(n))
	return nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

func storeCheck(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("store check", "store check --store DIR [--repair] [--json]")
	dir := storeFlag(e, fs)
	repair := fs.Bool("repair", false, "fix what is found")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArgs(fs.Name(), pos); err != nil {
		return err
	}
	s, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := s.Check(ctx, *repair)
	if err != nil {
		return err
	}
	if open := s.OpenReport(); !open.Clean() {
		fmt.Fprintf(e.stderr, "opening reconciled: %d indexed, %d dropped\n", len(open.Indexed), len(open.Dropped))
	}
	if *asJSON {
		json.NewEncoder(e.stdout).Encode(rep)
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
		state := "clean"
		if !rep.Clean() {
			state = "NOT clean"
			if rep.Repaired {
				state = "repaired"
			}
		}
		fmt.Fprintf(e.stdout, "%d mailboxes, %d messages: %s\n", rep.Mailboxes, rep.Messages, state)
	}
	if !rep.Clean() && !rep.Repaired {
		return fmt.Errorf("store check: %d problems (run with --repair)", len(rep.Indexed)+len(rep.Dropped)+len(rep.Problems))
	}
	return nil
}

func storeExport(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("store export", "store export --store DIR --mailbox M --format maildir|mbox DEST")
	dir := storeFlag(e, fs)
	mailbox := fs.String("mailbox", "INBOX", "mailbox to export")
	format := fs.String("format", "mbox", "maildir or mbox")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"store export: want one DEST"}
	}
	if *format != "mbox" && *format != "maildir" {
		return usageError{fmt.Sprintf("store export: unknown format %q (maildir or mbox)", *format)}
	}
	s, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := exportMailbox(ctx, s, *mailbox, *format, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exported %d messages from %s to %s (%s)\n", n, *mailbox, pos[0], *format)
	return nil
}

func exportMailbox(ctx context.Context, s *store.Store, mailbox, format, dest string) (int, error) {
	msgs, err := s.Fetch(ctx, mailbox, nil)
	if err != nil {
		return 0, err
	}
	var mbox *os.File
	if format == "mbox" {
		if mbox, err = os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
	}
	n := 0
	for _, m := range msgs {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		f, err := s.OpenRaw(ctx, m.ID)
		if err != nil {
			return n, err
		}
		if mbox != nil {
			from := "MAILER-DAEMON"
			if len(m.From) > 0 && m.From[0].Addr != "" {
				from = m.From[0].Addr
			}
			err = store.WriteMboxMessage(mbox, from, m.InternalDate, f)
		} else {
			err = store.WriteMaildirMessage(dest, fmt.Sprintf("%d.letterbox-export-%d", m.InternalDate.Unix(), m.ID), m.Flags, f)
		}
		f.Close()
		if err != nil {
			return n, fmt.Errorf("export message %d: %w", m.ID, err)
		}
		n++
	}
	if mbox != nil {
		if err := mbox.Sync(); err != nil {
			mbox.Close()
			return n, err
		}
		if err := mbox.Close(); err != nil {
			return n, err
		}
	}
	return n, nil
}
