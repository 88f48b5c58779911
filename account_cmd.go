package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
)

func runAccount(ctx context.Context, e *env, args []string) error {
	sub := map[string]func(context.Context, *env, []string) error{
		"add": accountAdd, "list": accountList, "show": accountShow, "test": accountTest, "remove": accountRemove,
	}
	if len(args) == 0 || sub[args[0]] == nil {
		return usageError{"account: want add, list, show, test or remove (see letterbox account add --help)"}
	}
	return sub[args[0]](ctx, e, args[1:])
}

// accountJSON is what account add/list/show print with --json.
type accountJSON struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Mode     string `json:"mode"`
	Incoming string `json:"incoming"`
	SMTP     string `json:"smtp"`
	Login    string `json:"login"`
}

func describeAccount(a accounts.AccountConfig) accountJSON {
	proto := accounts.IMAP
	if a.Mode == accounts.ModePOP3 {
		proto = accounts.POP3
	}
	in := a.Incoming().WithDefaults(proto)
	smtp := a.SMTP.WithDefaults(accounts.SMTP)
	return accountJSON{Name: a.Name, Email: a.Email, Mode: string(a.Mode),
		Incoming: fmt.Sprintf("%s:%d (%s)", in.Host, in.Port, in.Security),
		SMTP:     fmt.Sprintf("%s:%d (%s)", smtp.Host, smtp.Port, smtp.Security), Login: a.Username()}
}

func accountAdd(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("account add", "account add NAME --email ADDR [--mode imap|pop3] [--imap HOST[:PORT]] [--pop3 HOST[:PORT]] [--smtp HOST[:PORT]] [--security tls|starttls|none] [--smtp-security tls|starttls|none] [--login USER] [--password-stdin | --password-cmd CMD] [--tls-ca FILE] [--pop3-policy keep|delete|keep-days:N] [--json]")
	email := fs.String("email", "", "the account's e-mail `ADDRESS` (required)")
	mode := fs.String("mode", "", "imap or pop3 (default: IMAP if the provider has it)")
	imapHost := fs.String("imap", "", "IMAP server `HOST[:PORT]` (default: discovered)")
	pop3Host := fs.String("pop3", "", "POP3 server `HOST[:PORT]` (default: discovered)")
	smtpHost := fs.String("smtp", "", "SMTP server `HOST[:PORT]` (default: discovered)")
	security := fs.String("security", "", "incoming server security: tls, starttls or none (default: probed)")
	smtpSecurity := fs.String("smtp-security", "", "SMTP security: tls, starttls or none (default: probed)")
	login := fs.String("login", "", "login name (default: the address)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from stdin (first line) and keep it in the OS keyring")
	pwCmd := fs.String("password-cmd", "", "shell `COMMAND` that prints the password (instead of the keyring)")
	tlsCA := fs.String("tls-ca", "", "PEM `FILE` of CA certificates to trust (private CA, self-signed server)")
	policy := fs.String("pop3-policy", "", "POP3: keep, delete or keep-days:N (default keep)")
	display := fs.String("name", "", "display name for From headers")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"account add: want one account NAME"}
	}
	if *email == "" {
		return usageError{"account add: --email is required"}
	}
	if *pwStdin && *pwCmd != "" {
		return usageError{"account add: --password-stdin and --password-cmd exclude each other"}
	}
	cfg, path, err := e.loadConfig()
	if err != nil {
		return err
	}
	if _, err := cfg.Find(pos[0]); err == nil {
		return fmt.Errorf("account add: an account named %q already exists (letterbox account remove %s first)", pos[0], pos[0])
	}

	// The password first: nothing is probed for an account we cannot log
	// in to, and a script never hangs on a prompt.
	var password string
	switch {
	case *pwCmd != "":
		if password, err = accounts.RunPasswordCmd(ctx, *pwCmd); err != nil {
			return fmt.Errorf("account add: --password-cmd: %w", err)
		}
	default:
		if password, err = readPassword(e, *pwStdin, "password for "+*email); err != nil {
			return err
		}
	}

	var overrides []accounts.Candidate
	for _, o := range []struct {
		proto     accounts.Protocol
		host, sec string
	}{{accounts.IMAP, *imapHost, *security}, {accounts.POP3, *pop3Host, *security}, {accounts.SMTP, *smtpHost, *smtpSecurity}} {
		if o.host == "" {
			continue
		}
		c, err := accounts.CandidateFor(o.proto, o.host)
		if err != nil {
			return usageError{err.Error()}
		}
		c.Security = accounts.Security(o.sec)
		overrides = append(overrides, c)
	}
	probe := accounts.AccountConfig{TLSCA: *tlsCA}
	tc, err := accounts.TLSConfig(probe, "")
	if err != nil {
		return err
	}
	d := &accounts.Discoverer{TLS: tc, AllowPlain: *security == "none" || *smtpSecurity == "none"}
	if !*asJSON {
		d.Log = func(step string) { fmt.Fprintln(e.stderr, "  "+step) }
		fmt.Fprintf(e.stderr, "finding the servers of %s…\n", *email)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	acct, err := d.Configure(ctx, pos[0], *email, accounts.Mode(*mode), overrides...)
	if err != nil {
		return fmt.Errorf("account add: %w", err)
	}
	if *login != "" {
		acct.Login = *login
	}
	acct.TLSCA, acct.POP3Policy, acct.PasswordCmd, acct.DisplayName = *tlsCA, *policy, *pwCmd, *display
	if err := acct.Validate(); err != nil {
		return usageError{"account add: " + err.Error()}
	}
	if !*asJSON {
		fmt.Fprintln(e.stderr, "testing the login…")
	}
	if err := accounts.TestLogin(ctx, acct, password, nil); err != nil {
		return fmt.Errorf("account add: nothing saved: %w", err)
	}
	if *pwCmd == "" {
		if err := e.secrets().Store(ctx, acct, password); err != nil {
			return fmt.Errorf("account add: nothing saved: %w", err)
		}
	}
	if err := cfg.Add(acct); err != nil {
		return err
	}
	if err := cfg.Save(path); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, describeAccount(acct))
	}
	dj := describeAccount(acct)
	fmt.Fprintf(e.stdout, "added %s <%s>: %s %s, SMTP %s, login %s\n", dj.Name, dj.Email, dj.Mode, dj.Incoming, dj.SMTP, dj.Login)
	return nil
}

func accountList(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("account list", "account list [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("account list", pos); err != nil {
		return err
	}
	cfg, _, err := e.loadConfig()
	if err != nil {
		return err
	}
	out := []accountJSON{}
	for _, a := range cfg.Accounts {
		out = append(out, describeAccount(a))
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(e.stderr, "no accounts: add one with letterbox account add NAME --email ADDRESS")
	}
	for _, a := range out {
		fmt.Fprintf(e.stdout, "%-12s %-28s %-4s %s  SMTP %s\n", a.Name, a.Email, a.Mode, a.Incoming, a.SMTP)
	}
	return nil
}

func accountShow(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("account show", "account show NAME [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"account show: want one account NAME"}
	}
	a, err := e.openAccount(ctx, pos[0])
	if err != nil {
		return err
	}
	defer a.Close()
	mbs, err := a.Mailboxes(ctx)
	if err != nil {
		return err
	}
	journal, err := a.PendingChanges(ctx)
	if err != nil {
		return err
	}
	type folder struct {
		Name       string `json:"name"`
		SpecialUse string `json:"special_use,omitempty"`
		Total      int    `json:"total"`
		Unread     int    `json:"unread"`
	}
	out := struct {
		accountJSON
		Folders []folder `json:"folders"`
		Pending int      `json:"pending_changes"`
	}{accountJSON: describeAccount(a.Config), Folders: []folder{}, Pending: len(journal)}
	for _, mb := range mbs {
		out.Folders = append(out.Folders, folder{mb.Name, mb.SpecialUse, mb.Total, mb.Unread})
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "%s <%s>\n  %s %s\n  SMTP %s\n  login %s\n  changes waiting for the server: %d\n\nfolders:\n",
		out.Name, out.Email, out.Mode, out.Incoming, out.SMTP, out.Login, out.Pending)
	for _, f := range out.Folders {
		fmt.Fprintf(e.stdout, "  %-24s %7d messages %6d unread  %s\n", f.Name, f.Total, f.Unread, f.SpecialUse)
	}
	return nil
}

func accountTest(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("account test", "account test NAME")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"account test: want one account NAME"}
	}
	cfg, _, err := e.loadConfig()
	if err != nil {
		return err
	}
	acct, err := cfg.Find(pos[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errNotFound, err)
	}
	pw, err := e.secrets().Password(ctx, *acct)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := accounts.TestLogin(ctx, *acct, pw, nil); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: incoming and SMTP logins work\n", acct.Name)
	return nil
}

func accountRemove(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("account remove", "account remove NAME [--purge]")
	purge := fs.Bool("purge", false, "also delete the account's local mail and outbox")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"account remove: want one account NAME"}
	}
	cfg, path, err := e.loadConfig()
	if err != nil {
		return err
	}
	acct, err := cfg.Find(pos[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errNotFound, err)
	}
	removed := *acct
	if err := cfg.Remove(pos[0]); err != nil {
		return err
	}
	if err := cfg.Save(path); err != nil {
		return err
	}
	if err := e.secrets().Forget(ctx, removed); err != nil && !errors.Is(err, accounts.ErrNotInKeyring) {
		fmt.Fprintln(e.stderr, "warning: the password stays in the keyring:", err)
	}
	base, err := e.dataHome()
	if err != nil {
		return err
	}
	if *purge {
		if err := os.RemoveAll(removed.DataDir(base)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s and its local mail\n", removed.Name)
		return nil
	}
	fmt.Fprintf(e.stdout, "removed %s; its local mail stays in %s (--purge deletes it)\n", removed.Name, removed.DataDir(base))
	return nil
}
