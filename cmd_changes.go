package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/accounts"
)

// letterbox changes: the local changes waiting for the server, and those
// it refused.

func changesCmd(e *env) *cobra.Command {
	var retry, drop int64
	var asJSON bool
	c := &cobra.Command{
		Use:   "changes ACCOUNT [--retry ID | --drop ID]",
		Short: "List the changes waiting for the server and those it refused",
		Long: `List the local changes of an IMAP account that wait for the server
(flags, moves, deletions, uploads, folders), oldest first, and those the
server refused three times: those are kept as failed, with the server's
words, and no longer sent. --retry ID sends a failed change again at the
next sync (after fixing the cause); --drop ID gives it up, undoing here
what the server will never do (a moved message goes back), so that the
next sync leaves the account as the server has it.`,
		Example: `  letterbox changes work
  letterbox changes work --retry 42
  letterbox changes work --drop 42`,
		Args:              wantArgs(1, "one ACCOUNT"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			if retry != 0 && drop != 0 {
				return usagef("changes: --retry and --drop exclude each other")
			}
			if retry < 0 || drop < 0 {
				return usagef("changes: bad change ID")
			}
			ctx := cmd.Context()
			a, err := e.openAccount(ctx, args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			switch {
			case retry != 0:
				if err := a.RetryChange(ctx, retry); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "change %d goes again with the next sync\n", retry)
				return nil
			case drop != 0:
				if err := a.DropChange(ctx, drop); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "change %d dropped\n", drop)
				return nil
			}
			list, err := a.PendingChanges(ctx)
			if err != nil {
				return err
			}
			failed := 0
			for _, c := range list {
				j := toChangeJSON(a, c)
				if j.State == "failed" {
					failed++
				}
				if asJSON {
					if err := writeJSONLine(e.stdout, j); err != nil {
						return err
					}
					continue
				}
				state := "waiting"
				if c.Failed {
					state = "FAILED"
				}
				fmt.Fprintf(e.stdout, "%6d  %-7s %s  %s\n", c.ID, state, c.Created.Local().Format("2006-01-02 15:04"), j.Description)
				if c.LastError != "" {
					fmt.Fprintf(e.stdout, "        %d attempt(s), the server said: %s\n", c.Attempts, c.LastError)
				}
			}
			if asJSON {
				return nil
			}
			switch {
			case len(list) == 0:
				fmt.Fprintln(e.stdout, "no changes wait for the server")
			case failed > 0:
				fmt.Fprintf(e.stderr, "%d change(s) refused by the server: letterbox changes %s --retry ID sends one again, --drop ID gives it up\n", failed, args[0])
			}
			return nil
		},
	}
	c.Flags().Int64Var(&retry, "retry", 0, "send failed change `ID` again at the next sync")
	c.Flags().Int64Var(&drop, "drop", 0, "give up change `ID` (undone here where possible)")
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per change")
	return c
}

// toChangeJSON describes a pending change.
func toChangeJSON(a *accounts.Account, c accounts.PendingChange) changeJSON {
	state := "pending"
	if c.Failed {
		state = "failed"
	}
	return changeJSON{ID: c.ID, State: state, Op: c.Op, Description: a.DescribeChange(c),
		Created: timeJSON(c.Created), Attempts: c.Attempts, LastError: c.LastError}
}
