package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/store"
)

// letterbox list|search|read|flag|move|delete: they work on the
// account's local store only, never wait for the network, and changes
// reach the server at the next sync (IMAP: through the journal).

func listCmd(e *env) *cobra.Command {
	var folder, query string
	var asJSON bool
	c := &cobra.Command{
		Use:               "list ACCOUNT",
		Short:             "List a folder of an account, newest first",
		Args:              wantArgs(1, "one ACCOUNT (see letterbox account list)"),
		ValidArgsFunction: e.firstArgAccount,
	}
	limit := limitFlag(c.Flags(), 50, "at most `N` messages")
	c.Flags().StringVar(&folder, "folder", store.Inbox, "the `FOLDER` to list")
	c.Flags().StringVar(&query, "query", "", "only messages matching `QUERY` (see README, Search queries)")
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per message")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		return listMessages(cmd.Context(), e, args[0], folder, query, int(*limit), asJSON)
	}
	return c
}

func searchCmd(e *env) *cobra.Command {
	var folder string
	var asJSON bool
	c := &cobra.Command{
		Use:   "search ACCOUNT QUERY...",
		Short: "Search an account's mail",
		Long: `Search an account's mail with the query language (README, Search
queries). A word that begins with "-" and is not a flag of this command
is a negated query term: letterbox search work budget -from:ann.`,
		DisableFlagParsing: true,
		ValidArgsFunction:  e.firstArgAccount,
	}
	limit := limitFlag(c.Flags(), 50, "at most `N` messages")
	c.Flags().StringVar(&folder, "folder", "", "search only this `FOLDER` (default: all)")
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per message")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		pos, help, err := parseDashArgs(cmd, args)
		if err != nil || help {
			return helpOr(cmd, help, err)
		}
		if len(pos) < 2 {
			return usagef("search: want an ACCOUNT and a QUERY")
		}
		return listMessages(cmd.Context(), e, pos[0], folder, strings.Join(pos[1:], " "), int(*limit), asJSON)
	}
	return c
}

// helpOr prints the command's help when asked, else returns err.
func helpOr(cmd *cobra.Command, help bool, err error) error {
	if help {
		return cmd.Help()
	}
	return err
}

// listMessages prints a folder of an account, or the matches of query.
func listMessages(ctx context.Context, e *env, name, folder, query string, limit int, asJSON bool) error {
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	msgs, err := a.List(ctx, folder, query, limit)
	if err != nil {
		return queryError(err)
	}
	return printMessages(e.stdout, msgs, asJSON)
}

func readCmd(e *env) *cobra.Command {
	var raw, keep, asJSON bool
	c := &cobra.Command{
		Use:               "read ACCOUNT ID",
		Short:             "Print a message (and mark it read)",
		Args:              wantArgs(2, "an ACCOUNT and one message ID"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			if raw && asJSON {
				return usagef("read: --raw and --json exclude each other")
			}
			ids, err := parseIDs("read", args[1:])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			a, err := e.openAccount(ctx, args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			m, err := a.Message(ctx, ids[0])
			if err != nil {
				return err
			}
			if raw {
				f, err := a.Raw(ctx, m.ID)
				if err != nil {
					return err
				}
				defer f.Close()
				if _, err := io.Copy(e.stdout, f); err != nil {
					return fmt.Errorf("read %d: %w", m.ID, err)
				}
			} else {
				r, err := a.Render(ctx, m.ID)
				if err != nil && r == nil {
					return err
				}
				if asJSON {
					if err := writeJSONLine(e.stdout, toReadJSON(*m, r)); err != nil {
						return err
					}
				} else {
					printRendered(e.stdout, e.stderr, r)
				}
			}
			if !keep && !m.HasFlag(store.FlagSeen) {
				return a.SetFlags(ctx, ids, []string{store.FlagSeen}, nil)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&raw, "raw", false, "print the raw RFC 5322 message")
	c.Flags().BoolVar(&keep, "keep-unread", false, "do not mark the message read")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON: metadata, headers, text, attachments")
	return c
}

func flagCmd(e *env) *cobra.Command {
	var keyword bool
	c := &cobra.Command{
		Use:   "flag ACCOUNT ID... +NAME|-NAME...",
		Short: "Add or remove flags and keywords: flag work 12 +seen -flagged +$label",
		Long: `Add (+) or remove (-) flags and keywords on messages. The flags are
seen (or read), flagged, answered, draft and deleted. A keyword needs a $
prefix (+$Label1), or --keyword for every name that is not a flag
(--keyword +Project). An unknown name is a usage error with a suggestion,
never a new keyword by accident.`,
		Example:            "  letterbox flag work 12 13 +seen -flagged\n  letterbox flag work 12 +$Later\n  letterbox flag work 12 --keyword +NonJunk",
		DisableFlagParsing: true,
		ValidArgsFunction:  e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			pos, help, err := parseDashArgs(cmd, args)
			if err != nil || help {
				return helpOr(cmd, help, err)
			}
			if len(pos) == 0 {
				return usagef("flag: want an ACCOUNT, message IDs and +FLAG or -FLAG")
			}
			var idArgs, changes []string
			for _, r := range pos[1:] {
				if strings.HasPrefix(r, "+") || strings.HasPrefix(r, "-") {
					changes = append(changes, r)
				} else {
					idArgs = append(idArgs, r)
				}
			}
			add, remove, err := flagChanges(changes, keyword)
			if err != nil {
				return err
			}
			if len(add)+len(remove) == 0 {
				return usagef("flag: want at least one +FLAG or -FLAG")
			}
			ids, err := parseIDs("flag", idArgs)
			if err != nil {
				return err
			}
			a, err := e.openAccount(cmd.Context(), pos[0])
			if err != nil {
				return err
			}
			defer a.Close()
			return a.SetFlags(cmd.Context(), ids, add, remove)
		},
	}
	c.Flags().BoolVar(&keyword, "keyword", false, "names that are not flags are keywords (without it, a keyword needs a $ prefix)")
	return c
}

func moveCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:               "move ACCOUNT ID... FOLDER",
		Short:             "Move messages to a folder",
		Args:              minArgs(3, "an ACCOUNT, message IDs and a FOLDER"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseIDs("move", args[1:len(args)-1])
			if err != nil {
				return err
			}
			a, err := e.openAccount(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			return a.Move(cmd.Context(), ids, args[len(args)-1])
		},
	}
}

func deleteCmd(e *env) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "delete ACCOUNT ID...",
		Short: "Delete messages: to Trash; from Trash, for good",
		Long: `Delete messages: they move to the account's Trash folder (created
when the account has none). A message in Trash already is deleted for
good: that asks for a yes at the terminal, or needs --yes.`,
		Args:              minArgs(2, "an ACCOUNT and message IDs"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseIDs("delete", args[1:])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			a, err := e.openAccount(ctx, args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			gone, err := a.DeletedForGood(ctx, ids)
			if err != nil {
				return err
			}
			if len(gone) > 0 && !yes {
				ok, err := confirm(e, fmt.Sprintf("delete: %d message(s) in Trash will be deleted for good; go on?", len(gone)), "--yes")
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("delete: nothing deleted")
				}
			}
			if err := a.Delete(ctx, ids); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "deleted %d message(s), %d of them for good\n", len(ids), len(gone))
			return nil
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete for good what is in Trash already without asking")
	return c
}
