package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/accounts"
)

// letterbox account add|list|show|test|password|remove.

func accountCmd(e *env) *cobra.Command {
	return groupCmd("account", "Add, list, show, test, remove mail accounts, change their password or sign in again",
		accountAddCmd(e), accountListCmd(e), accountShowCmd(e), accountTestCmd(e), accountPasswordCmd(e), accountAuthCmd(e), accountRemoveCmd(e))
}

// accountAddFlags are the flags of account add.
type accountAddFlags struct {
	email, mode, imap, pop3, smtp, security, smtpSecurity string
	login, pwCmd, tlsCA, policy, display                  string
	pwStdin, json                                         bool
	oauth                                                 oauthFlags
}

func accountAddCmd(e *env) *cobra.Command {
	var f accountAddFlags
	c := &cobra.Command{
		Use:   "add NAME --email ADDRESS",
		Short: "Add an account: discover its servers, test the login, save it",
		Long: `Add an account. With only --email, the servers are discovered (autoconfig,
RFC 6186 SRV records, common names) and the ports probed, implicit TLS
first; the login is always tested on the incoming server and on SMTP
before anything is saved. The password goes to the OS keyring (or comes
from --password-cmd); there is no prompt when stdin is not a terminal.

With --auth oauth2 there is no password: the account signs in at its
identity provider (Google, Microsoft, or a custom one by its endpoints)
with the device flow (a code to enter at a URL on any device) or the
browser, and letterbox keeps the refresh token in the OS keyring (or a
0600 file in the account's data directory when there is no keyring, as
it then says) and refreshes the access token itself. The provider's
client id is yours to register (README, "OAuth2").`,
		Example: `  echo "$PW" | letterbox account add work --email ann@example.com --password-stdin
  letterbox account add home --email ann@example.org --mode pop3 --pop3-policy keep-days:30 \
      --pop3 pop.example.org --smtp smtp.example.org:587 --password-cmd 'pass show mail/home'
  letterbox account add office --email ann@contoso.com --auth oauth2 --oauth2-provider microsoft \
      --oauth2-client-id 00000000-0000-0000-0000-000000000000 --oauth2-flow device`,
		Args: wantArgs(1, "one account NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAccountAdd(cmd.Context(), e, args[0], f)
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.email, "email", "", "the account's e-mail `ADDRESS` (required)")
	fs.StringVar(&f.mode, "mode", "", "imap or pop3 (default: IMAP if the provider has it)")
	fs.StringVar(&f.imap, "imap", "", "IMAP server `HOST[:PORT]` (default: discovered)")
	fs.StringVar(&f.pop3, "pop3", "", "POP3 server `HOST[:PORT]` (default: discovered)")
	fs.StringVar(&f.smtp, "smtp", "", "SMTP server `HOST[:PORT]` (default: discovered)")
	fs.StringVar(&f.security, "security", "", "incoming server security: tls, starttls or none (default: probed)")
	fs.StringVar(&f.smtpSecurity, "smtp-security", "", "SMTP security: tls, starttls or none (default: probed)")
	fs.StringVar(&f.login, "login", "", "login `NAME` (default: the address)")
	fs.BoolVar(&f.pwStdin, "password-stdin", false, "read the password from the first line of stdin and keep it in the OS keyring")
	fs.StringVar(&f.pwCmd, "password-cmd", "", "shell `COMMAND` that prints the password (instead of the keyring)")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "PEM `FILE` of CA certificates to trust (private CA, self-signed server)")
	fs.StringVar(&f.policy, "pop3-policy", "", "POP3: keep, delete or keep-days:N (default keep)")
	fs.StringVar(&f.display, "name", "", "display `NAME` for From headers")
	fs.BoolVar(&f.json, "json", false, "print the account as JSON (and an OAuth2 sign-in's prompt as a JSON event before it)")
	addOAuthFlags(fs, &f.oauth)
	return c
}

// runAccountAdd sets up an account through accounts.AddAccount (the
// setup wizard's door too): it reads the password, then discovery,
// probing, the login test, the keyring and config.toml are AddAccount's.
func runAccountAdd(ctx context.Context, e *env, name string, f accountAddFlags) error {
	if f.email == "" {
		return usagef("account add: --email is required")
	}
	if f.pwStdin && f.pwCmd != "" {
		return usagef("account add: --password-stdin and --password-cmd exclude each other")
	}
	auth, oauth, err := f.oauth.settings()
	if err != nil {
		return err
	}
	if auth == accounts.AuthOAuth2 && (f.pwStdin || f.pwCmd != "") {
		return usagef("account add: --auth oauth2 takes no password (--password-stdin, --password-cmd)")
	}
	_, path, err := e.loadConfig()
	if err != nil {
		return err
	}
	base, err := e.dataHome()
	if err != nil {
		return err
	}
	opts := accounts.AddOptions{
		ConfigPath: path, Name: name, Email: f.email, DisplayName: f.display,
		Mode: accounts.Mode(f.mode), IMAP: f.imap, POP3: f.pop3, SMTP: f.smtp,
		Security: accounts.Security(f.security), SMTPSecurity: accounts.Security(f.smtpSecurity),
		Login: f.login, PasswordCmd: f.pwCmd, TLSCA: f.tlsCA, POP3Policy: f.policy,
		Secrets: e.secrets(), Auth: auth, OAuth2: oauth, DataDir: base,
	}
	// Settings that can never work are said before the password is asked
	// for.
	if err := opts.Check(); err != nil {
		return usageError{err}
	}
	// The password next: nothing is probed for an account we cannot log
	// in to, and a script never hangs on a prompt. A --password-cmd is
	// run by AddAccount.
	var password string
	if f.pwCmd == "" && auth != accounts.AuthOAuth2 {
		if !f.pwStdin && !isTerminal(e.stdin) {
			if hint := oauthHint(ctx, f.email); hint != "" {
				return usagef("account add: %s; or give a password (an app password) with --password-stdin", hint)
			}
		}
		if password, err = readPassword(e, f.pwStdin, "password for "+f.email); err != nil {
			return err
		}
	}
	opts.Password = password
	if auth == accounts.AuthOAuth2 {
		opts.SignIn = e.signInOptions(name, f.oauth.flow, f.json)
	}
	if !f.json {
		opts.Progress = func(p accounts.AddProgress) {
			if p.Detail {
				fmt.Fprintln(e.stderr, "  "+p.Text)
			} else {
				fmt.Fprintln(e.stderr, p.Text)
			}
		}
	}
	acct, err := accounts.AddAccount(ctx, opts)
	switch {
	case errors.Is(err, accounts.ErrInvalidSetting):
		return usageError{err}
	case errors.Is(err, accounts.ErrAccountExists):
		return fmt.Errorf("%w (letterbox account remove %s first)", err, name)
	case errors.Is(err, accounts.ErrLoginRefused) && auth != accounts.AuthOAuth2:
		if hint := oauthHint(ctx, f.email); hint != "" {
			return fmt.Errorf("%w\n%s", err, hint)
		}
		return err
	case err != nil:
		return err
	}
	dj := describeAccount(acct)
	if f.json {
		return writeJSONLine(e.stdout, dj)
	}
	fmt.Fprintf(e.stdout, "added %s <%s>: %s %s, SMTP %s, login %s\n", dj.Name, dj.Email, dj.Mode, dj.Incoming, dj.SMTP, dj.Login)
	return nil
}

func accountListCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List the accounts",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := e.loadConfig()
			if err != nil {
				return err
			}
			if len(cfg.Accounts) == 0 && !asJSON {
				fmt.Fprintln(e.stderr, "no accounts: add one with letterbox account add NAME --email ADDRESS")
			}
			for _, a := range cfg.Accounts {
				d := describeAccount(a)
				if asJSON {
					if err := writeJSONLine(e.stdout, d); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(e.stdout, "%-12s %-28s %-4s %s  SMTP %s\n", d.Name, d.Email, d.Mode, d.Incoming, d.SMTP)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per account")
	return c
}

func accountShowCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "show NAME",
		Short:             "Show an account: servers, folders, changes waiting for the server",
		Args:              wantArgs(1, "one account NAME"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.openAccount(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			out, failed, err := accountSummary(cmd.Context(), a)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONLine(e.stdout, out)
			}
			base, err := e.dataHome()
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s <%s>\n  %s %s\n  SMTP %s\n  login %s, %s\n  changes waiting for the server: %d\n",
				out.Name, out.Email, out.Mode, out.Incoming, out.SMTP, out.Login, describeAuth(a.Config, base), out.Pending-out.Failed)
			if out.Failed > 0 {
				fmt.Fprintf(e.stdout, "  changes the server refused: %d (letterbox changes %s --retry ID or --drop ID)\n", out.Failed, out.Name)
				for _, c := range failed {
					fmt.Fprintf(e.stdout, "    %d  %s: %s\n", c.ID, c.Description, c.LastError)
				}
			}
			fmt.Fprintf(e.stdout, "\nfolders:\n")
			for _, f := range out.Folders {
				fmt.Fprintf(e.stdout, "  %-24s %7d messages %6d unread  %s\n", f.Name, f.Total, f.Unread, f.SpecialUse)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// accountSummary gathers what account show prints, and the changes the
// server refused.
func accountSummary(ctx context.Context, a *accounts.Account) (accountShowJSON, []changeJSON, error) {
	out := accountShowJSON{accountJSON: describeAccount(a.Config), Folders: []folderJSON{}}
	mbs, err := a.Mailboxes(ctx)
	if err != nil {
		return out, nil, err
	}
	journal, err := a.PendingChanges(ctx)
	if err != nil {
		return out, nil, err
	}
	out.Pending = len(journal)
	var failed []changeJSON
	for _, c := range journal {
		if c.Failed {
			failed = append(failed, toChangeJSON(a, c))
		}
	}
	out.Failed = len(failed)
	for _, mb := range mbs {
		out.Folders = append(out.Folders, folderJSON{mb.Name, mb.SpecialUse, mb.Total, mb.Unread})
	}
	return out, failed, nil
}

func accountTestCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:               "test NAME",
		Short:             "Test the account's logins (incoming server and SMTP)",
		Args:              wantArgs(1, "one account NAME"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			acct, err := e.findAccount(args[0])
			if err != nil {
				return err
			}
			base, err := e.dataHome()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if err := accounts.TestAccountLogin(ctx, *acct, base, e.secrets()); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: incoming and SMTP logins work\n", acct.Name)
			return nil
		},
	}
}

func accountPasswordCmd(e *env) *cobra.Command {
	var pwStdin, noTest bool
	c := &cobra.Command{
		Use:   "password NAME [--password-stdin]",
		Short: "Change the password kept in the OS keyring for an account",
		Long: `Change an account's password in the OS keyring (after a change on the
server, or to fix a wrong one). The logins are tested first (incoming
server and SMTP) unless --no-test; nothing is kept when they fail. An
account whose password comes from password_cmd has none in the keyring:
fix that command in config.toml instead.`,
		Example:           `  echo "$PW" | letterbox account password work --password-stdin`,
		Args:              wantArgs(1, "one account NAME"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			acct, err := e.findAccount(args[0])
			if err != nil {
				return err
			}
			if acct.PasswordCmd != "" {
				return fmt.Errorf("account password: %s takes its password from password_cmd (%s): fix that command in config.toml", acct.Name, acct.PasswordCmd)
			}
			if acct.IsOAuth2() {
				return usagef("account password: %s signs in with OAuth2 and has no password: letterbox account auth %s signs it in again", acct.Name, acct.Name)
			}
			pw, err := readPassword(e, pwStdin, "new password for "+acct.Email)
			if err != nil {
				return err
			}
			if !noTest {
				ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
				defer cancel()
				if err := accounts.TestLogin(ctx, *acct, pw, nil); err != nil {
					return fmt.Errorf("account password: %w (the old password stays)", err)
				}
			}
			if err := e.secrets().Store(cmd.Context(), *acct, pw); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: password changed; letterbox outbox %s --flush sends what waits\n", acct.Name, acct.Name)
			return nil
		},
	}
	c.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin")
	c.Flags().BoolVar(&noTest, "no-test", false, "keep the password without testing the logins")
	return c
}

func accountRemoveCmd(e *env) *cobra.Command {
	var purge bool
	c := &cobra.Command{
		Use:               "remove NAME",
		Short:             "Remove an account from the configuration and the keyring",
		Args:              wantArgs(1, "one account NAME"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := e.configPath()
			if err != nil {
				return err
			}
			base, err := e.dataHome()
			if err != nil {
				return err
			}
			r, err := accounts.RemoveAccount(cmd.Context(), path, base, args[0], e.secrets(), purge)
			if err != nil {
				return err
			}
			if r.KeyringErr != nil && !errors.Is(r.KeyringErr, accounts.ErrNotInKeyring) {
				fmt.Fprintln(e.stderr, "warning: the password stays in the keyring:", r.KeyringErr)
			}
			if purge {
				fmt.Fprintf(e.stdout, "removed %s and its local mail\n", args[0])
				return nil
			}
			fmt.Fprintf(e.stdout, "removed %s; its local mail stays in %s (--purge deletes it)\n", args[0], r.DataDir)
			return nil
		},
	}
	c.Flags().BoolVar(&purge, "purge", false, "also delete the account's local mail and outbox")
	return c
}
