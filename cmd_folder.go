package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/store"
)

// letterbox folder list|add|rename|rm|subscribe|unsubscribe.

func folderCmd(e *env) *cobra.Command {
	c := groupCmd("folder", "List, create, rename, delete and subscribe to folders",
		folderListCmd(e), folderAddCmd(e), folderRenameCmd(e), folderRmCmd(e),
		folderSubscribeCmd(e, true), folderSubscribeCmd(e, false))
	c.Long = `Folders of an account. A change is made here at once and, for an IMAP
account, reaches the server at the next sync, in the order it was made:
it works offline. A POP3 server has only an inbox, so the folders of a
POP3 account exist only on this computer. Names use "/" between levels
("Projects/2026").`
	return c
}

func folderListCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "list ACCOUNT",
		Short:             "List the folders with their counts, roles and subscriptions",
		Args:              wantArgs(1, "one ACCOUNT"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.openAccount(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			mbs, err := a.Mailboxes(cmd.Context())
			if err != nil {
				return err
			}
			for _, mb := range mbs {
				if asJSON {
					j := folderListJSON{Name: mb.Name, SpecialUse: mb.SpecialUse, Subscribed: mb.Subscribed, Total: mb.Total, Unread: mb.Unread}
					if err := writeJSONLine(e.stdout, j); err != nil {
						return err
					}
					continue
				}
				sub := " "
				if !mb.Subscribed {
					sub = "-"
				}
				fmt.Fprintf(e.stdout, "%s %-28s %7d messages %6d unread  %s\n", sub, mb.Name, mb.Total, mb.Unread, mb.SpecialUse)
			}
			if !asJSON {
				localOnly(e, a)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per folder")
	return c
}

func folderAddCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:               "add ACCOUNT NAME",
		Short:             "Create a folder",
		Example:           `  letterbox folder add work Projects/2026`,
		Args:              wantArgs(2, "an ACCOUNT and a folder NAME"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccount(cmd.Context(), e, args[0], func(a *accounts.Account) error {
				if err := a.CreateFolder(cmd.Context(), args[1]); err != nil {
					return folderError(err)
				}
				fmt.Fprintf(e.stderr, "created %s\n", args[1])
				return nil
			})
		},
	}
}

func folderRenameCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:               "rename ACCOUNT OLD NEW",
		Short:             "Rename a folder (the folders below it go along)",
		Args:              wantArgs(3, "an ACCOUNT, the OLD name and the NEW one"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccount(cmd.Context(), e, args[0], func(a *accounts.Account) error {
				if err := a.RenameFolder(cmd.Context(), args[1], args[2]); err != nil {
					return folderError(err)
				}
				fmt.Fprintf(e.stderr, "renamed %s to %s\n", args[1], args[2])
				return nil
			})
		},
	}
}

func folderRmCmd(e *env) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "rm ACCOUNT NAME",
		Short: "Delete a folder",
		Long: `Delete a folder. One that holds messages is deleted with them, here and
on the server: that asks for a yes at the terminal, or needs --yes. A
folder with folders below it is not deleted (delete those first).`,
		Args:              wantArgs(2, "an ACCOUNT and a folder NAME"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAccount(ctx, e, args[0], func(a *accounts.Account) error {
				err := a.DeleteFolder(ctx, args[1], yes)
				if errors.Is(err, accounts.ErrFolderNotEmpty) {
					mb, merr := a.Mailbox(ctx, args[1])
					if merr != nil {
						return merr
					}
					ok, cerr := confirm(e, fmt.Sprintf("folder rm: %s holds %d message(s), which go with it; go on?", mb.Name, mb.Total), "--yes")
					if cerr != nil {
						return cerr
					}
					if !ok {
						return errors.New("folder rm: nothing deleted")
					}
					err = a.DeleteFolder(ctx, args[1], true)
				}
				if err != nil {
					return folderError(err)
				}
				fmt.Fprintf(e.stderr, "deleted %s\n", args[1])
				return nil
			})
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete a folder that holds messages without asking")
	return c
}

func folderSubscribeCmd(e *env, on bool) *cobra.Command {
	use, short, done := "subscribe", "Subscribe to a folder (synced when only subscribed folders are)", "subscribed to"
	if !on {
		use, short, done = "unsubscribe", "Unsubscribe from a folder", "unsubscribed from"
	}
	return &cobra.Command{
		Use:               use + " ACCOUNT NAME",
		Short:             short,
		Args:              wantArgs(2, "an ACCOUNT and a folder NAME"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccount(cmd.Context(), e, args[0], func(a *accounts.Account) error {
				if err := a.SubscribeFolder(cmd.Context(), args[1], on); err != nil {
					return folderError(err)
				}
				fmt.Fprintf(e.stderr, "%s %s\n", done, args[1])
				return nil
			})
		},
	}
}

// withAccount opens account name, runs fn, says where a POP3 account's
// folder changes live, and closes the account.
func withAccount(ctx context.Context, e *env, name string, fn func(a *accounts.Account) error) error {
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := fn(a); err != nil {
		return err
	}
	localOnly(e, a)
	return nil
}

// localOnly notes on stderr that a POP3 account's folders are local.
func localOnly(e *env, a *accounts.Account) {
	if a.FoldersLocalOnly() {
		fmt.Fprintf(e.stderr, "note: %s is a POP3 account: its folders exist only on this computer\n", a.Config.Name)
	}
}

// folderError makes a refused folder change (INBOX, the Outbox, a folder
// with folders below it, a bad name) a usage error.
func folderError(err error) error {
	if errors.Is(err, accounts.ErrFolderInUse) || errors.Is(err, store.ErrInvalid) {
		return usageError{err}
	}
	return err
}
