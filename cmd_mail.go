package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/letterbox-mail/letterbox/store"
)

// The read and change commands work on the account's local store only:
// they never wait for the network, and changes reach the server at the
// next sync (IMAP: through the journal).

func runList(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("list", "list ACCOUNT [--folder F] [--query Q] [--limit N] [--json]")
	folder := fs.String("folder", "INBOX", "folder to list")
	query := fs.String("query", "", "only messages matching this query (see README)")
	limit := fs.Int("limit", 50, "at most N messages")
	asJSON := fs.Bool("json", false, "print JSON")
	name, rest, err := accountArgs(fs, args, "list")
	if err != nil {
		return err
	}
	if err := noArgs("list", rest); err != nil {
		return err
	}
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	msgs, err := a.List(ctx, *folder, *query, *limit)
	if err := queryError(err); err != nil {
		return notFound(err)
	}
	return printMessages(e.stdout, msgs, *asJSON)
}

// queryError turns a query syntax error into a usage error with a caret.
func queryError(err error) error {
	var qe *store.QueryError
	if errors.As(err, &qe) {
		return usageError{qe.Error() + "\n" + qe.Caret()}
	}
	return err
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("search", "search ACCOUNT [--folder F] [--limit N] [--json] QUERY...")
	folder := fs.String("folder", "", "search only this folder (default: all)")
	limit := fs.Int("limit", 50, "at most N messages")
	asJSON := fs.Bool("json", false, "print JSON")
	name, rest, err := accountArgs(fs, args, "search")
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageError{"search: want a QUERY"}
	}
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	msgs, err := a.List(ctx, *folder, joinArgs(rest), *limit)
	if err := queryError(err); err != nil {
		return notFound(err)
	}
	return printMessages(e.stdout, msgs, *asJSON)
}

func runRead(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("read", "read ACCOUNT ID [--raw] [--keep-unread] [--json]")
	raw := fs.Bool("raw", false, "print the raw RFC 5322 message")
	keep := fs.Bool("keep-unread", false, "do not mark the message read")
	asJSON := fs.Bool("json", false, "print JSON (metadata, headers, text, attachments)")
	name, rest, err := accountArgs(fs, args, "read")
	if err != nil {
		return err
	}
	ids, err := parseIDs("read", rest)
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		return usageError{"read: want one message ID"}
	}
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	m, err := a.Message(ctx, ids[0])
	if err != nil {
		return notFound(err)
	}
	if *raw {
		f, err := a.Raw(ctx, m.ID)
		if err != nil {
			return notFound(err)
		}
		defer f.Close()
		if _, err := io.Copy(e.stdout, f); err != nil {
			return err
		}
	} else {
		r, err := a.Render(ctx, m.ID)
		if err != nil && r == nil {
			return notFound(err)
		}
		if *asJSON {
			if err := writeJSON(e.stdout, struct {
				jsonMessage
				Headers     []store.HeaderField `json:"headers"`
				Text        string              `json:"text"`
				Attachments []store.Attachment  `json:"attachments"`
				Problems    []string            `json:"problems,omitempty"`
			}{toJSON(*m), r.Headers, r.Text, r.Attachments, r.Problems}); err != nil {
				return err
			}
		} else {
			printRendered(e, r)
		}
	}
	if !*keep && !m.HasFlag(store.FlagSeen) {
		if err := a.SetFlags(ctx, ids, []string{store.FlagSeen}, nil); err != nil {
			return err
		}
	}
	return nil
}

func runFlag(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("flag", "flag ACCOUNT ID... +seen -flagged ...")
	pos, err := parseFlagsSigned(fs, args)
	if err != nil {
		return err
	}
	name, rest, err := accountFromArgs("flag", pos)
	if err != nil {
		return err
	}
	var idArgs, changes []string
	for _, r := range rest {
		if len(r) > 0 && (r[0] == '+' || r[0] == '-') {
			changes = append(changes, r)
		} else {
			idArgs = append(idArgs, r)
		}
	}
	add, remove, err := flagChanges(changes)
	if err != nil {
		return err
	}
	if len(add)+len(remove) == 0 {
		return usageError{"flag: want at least one +FLAG or -FLAG"}
	}
	ids, err := parseIDs("flag", idArgs)
	if err != nil {
		return err
	}
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	return notFound(a.SetFlags(ctx, ids, add, remove))
}

// parseFlagsSigned is parseFlags for commands whose arguments may start
// with "-" ("-flagged"): only the known flags are flags.
func parseFlagsSigned(fs interface {
	Parse([]string) error
	Args() []string
}, args []string) ([]string, error) {
	var keep, pos []string
	for _, a := range args {
		switch {
		case a == "-h" || a == "--help" || a == "-help":
			keep = append(keep, a)
		case len(a) > 1 && a[0] == '-' && a != "--config" && a != "--data" && !startsWithAny(a, "--config=", "--data=", "-config", "-data"):
			pos = append(pos, a)
		default:
			keep = append(keep, a)
		}
	}
	if err := fs.Parse(keep); err != nil {
		return nil, usageError{err.Error()}
	}
	return append(fs.Args(), pos...), nil
}

func startsWithAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

func runMove(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("move", "move ACCOUNT ID... FOLDER")
	name, rest, err := accountArgs(fs, args, "move")
	if err != nil {
		return err
	}
	if len(rest) < 2 {
		return usageError{"move: want message IDs and a FOLDER"}
	}
	ids, err := parseIDs("move", rest[:len(rest)-1])
	if err != nil {
		return err
	}
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	return notFound(a.Move(ctx, ids, rest[len(rest)-1]))
}

func runDelete(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("delete", "delete ACCOUNT ID...")
	name, rest, err := accountArgs(fs, args, "delete")
	if err != nil {
		return err
	}
	ids, err := parseIDs("delete", rest)
	if err != nil {
		return err
	}
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Delete(ctx, ids); err != nil {
		return notFound(err)
	}
	fmt.Fprintf(e.stderr, "deleted %d message(s)\n", len(ids))
	return nil
}
