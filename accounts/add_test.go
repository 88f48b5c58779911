package accounts

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server"
)

// addServer starts letterbox's own server in-process on 127.0.0.1 with
// the demo users (alice/alice, bob/bob): the peer of the login tests.
func addServer(t *testing.T) *server.Server {
	t.Helper()
	lo := "127.0.0.1:0"
	cfg := &server.Config{Dev: true, Hostname: "mx.example.test", Domains: []string{"example.test"}, Data: t.TempDir(),
		Listen: server.Listen{SMTP: lo, Submission: lo, SMTPS: lo, IMAP: lo, IMAPS: lo, POP3: lo, POP3S: lo}}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SeedDev(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// TestAddAccount covers what letterbox account add does, through the one
// AddAccount: servers given with their security, a password for the
// keyring (as --password-stdin gives it) or a password command, the login
// test against a real server, a keyring that cannot store, discovery by
// autoconfig, and config.toml saved with mode 0600. Nothing is saved when
// a step fails.
func TestAddAccount(t *testing.T) {
	srv := addServer(t)
	ctx := context.Background()
	addr := func(name string) string { return srv.Addr(name).String() }
	port := func(name string) int {
		p, _ := strconv.Atoi(addr(name)[strings.LastIndexByte(addr(name), ':')+1:])
		return p
	}
	path := t.TempDir() + "/letterbox/config.toml"
	kr := &fakeKeyring{}
	var progress []AddProgress
	base := AddOptions{ConfigPath: path, TLSCA: srv.CertFile, Secrets: &Secrets{Keyring: kr},
		Progress: func(p AddProgress) { progress = append(progress, p) }}
	imapOpts := func(name, email, password string) AddOptions {
		o := base
		o.Name, o.Email, o.Password = name, email, password
		o.IMAP, o.SMTP, o.Security, o.SMTPSecurity = addr("imaps"), addr("smtps"), SecurityTLS, SecurityTLS
		return o
	}
	configured := func() []string {
		cfg, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range cfg.Accounts {
			names = append(names, a.Name)
		}
		return names
	}

	// A wrong password: refused, nothing saved anywhere.
	if _, err := AddAccount(ctx, imapOpts("bad", "alice@example.test", "wrong")); !errors.Is(err, ErrLoginRefused) {
		t.Fatalf("wrong password: %v", err)
	}
	if names := configured(); len(names) != 0 || len(kr.entries) != 0 {
		t.Fatalf("after a refused login: accounts %v, keyring %v", names, kr.entries)
	}

	// The password (from stdin) goes to the keyring; config.toml is 0600.
	acct, err := AddAccount(ctx, imapOpts("alice", "alice@example.test", "alice"))
	if err != nil {
		t.Fatal(err)
	}
	want := ServerConfig{Host: "127.0.0.1", Port: port("imaps"), Security: SecurityTLS}
	if acct.Mode != ModeIMAP || acct.IMAP != want || acct.SMTP.Port != port("smtps") || acct.TLSCA != srv.CertFile {
		t.Fatalf("added %+v", acct)
	}
	if kr.entries[KeyringService+"/alice"] != "alice" {
		t.Fatalf("keyring %v", kr.entries)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.toml: %v %v", fi.Mode(), err)
	}
	if !strings.Contains(progressText(progress), "testing the login…") {
		t.Errorf("progress %v", progress)
	}

	// The same name again: refused before anything is probed.
	if _, err := AddAccount(ctx, imapOpts("alice", "alice@example.test", "alice")); !errors.Is(err, ErrAccountExists) {
		t.Fatalf("second alice: %v", err)
	}

	// A password command: tested, kept in config.toml, not in the
	// keyring. POP3 is chosen by naming only a POP3 server, and the SMTP
	// server's STARTTLS by its own security.
	o := base
	o.Name, o.Email, o.PasswordCmd = "bob", "bob@example.test", "echo bob"
	o.POP3, o.SMTP, o.Security, o.SMTPSecurity = addr("pop3s"), addr("submission"), SecurityTLS, SecurityStartTLS
	o.POP3Policy, o.DisplayName = "keep-days:7", "Bob B"
	acct, err = AddAccount(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if acct.Mode != ModePOP3 || acct.PasswordCmd != "echo bob" || acct.SMTP.Security != SecurityStartTLS || acct.POP3Policy != "keep-days:7" {
		t.Fatalf("bob: %+v", acct)
	}
	if _, ok := kr.entries[KeyringService+"/bob"]; ok {
		t.Fatal("a password command's password went to the keyring")
	}

	// No keyring: a clear failure that suggests password_cmd, nothing
	// saved.
	broken := imapOpts("carol", "alice@example.test", "alice")
	broken.Secrets = &Secrets{Keyring: &fakeKeyring{err: errors.New("dbus: no session bus")}}
	if _, err := AddAccount(ctx, broken); !errors.Is(err, ErrNoKeyring) || !strings.Contains(err.Error(), "password_cmd") {
		t.Fatalf("no keyring: %v", err)
	}
	// No password at all, or an empty command output: refused early.
	empty := imapOpts("dave", "alice@example.test", "")
	if _, err := AddAccount(ctx, empty); !errors.Is(err, ErrNoPassword) {
		t.Fatalf("no password: %v", err)
	}
	empty.PasswordCmd = "true"
	if _, err := AddAccount(ctx, empty); err == nil || !strings.Contains(err.Error(), "printed nothing") {
		t.Fatalf("empty password command: %v", err)
	}
	// Malformed input is ErrInvalidSetting (the command line's usage
	// error).
	for _, mod := range []func(*AddOptions){
		func(o *AddOptions) { o.IMAP = "imap.example.test:99999" },
		func(o *AddOptions) { o.Security = "ssl" },
		func(o *AddOptions) { o.Name = "no spaces" },
		func(o *AddOptions) { o.POP3Policy = "sometimes" },
	} {
		o := imapOpts("erin", "alice@example.test", "alice")
		mod(&o)
		if _, err := AddAccount(ctx, o); !errors.Is(err, ErrInvalidSetting) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if names := configured(); strings.Join(names, ",") != "alice,bob" {
		t.Fatalf("accounts %v", names)
	}

	// Discovery: the autoconfig document names the servers; probing
	// finds their security; the login is tested; the progress shows the
	// steps.
	doc := strings.NewReplacer("imap.example.com", "127.0.0.1", "993", strconv.Itoa(port("imaps")),
		"smtp.example.com", "127.0.0.1", "587", strconv.Itoa(port("submission")), "%EMAILADDRESS%", "%EMAILLOCALPART%").Replace(thunderbirdISPDB)
	ac, _ := serveAutoconfig(t, map[string]string{"/example.test/config-v1.1.xml": doc})
	o = base
	o.Name, o.Email, o.Password = "found", "alice@example.test", "alice"
	o.Discoverer = &Discoverer{HTTP: ac.Client(), Resolver: fakeResolver{}, AutoconfigURLs: []string{ac.URL + "/{domain}/config-v1.1.xml"},
		Ports: map[Protocol][]int{IMAP: {port("imaps")}, SMTP: {port("submission")}}}
	progress = nil
	acct, err = AddAccount(ctx, o)
	if err != nil {
		t.Fatalf("discovered: %v\n%s", err, progressText(progress))
	}
	if acct.IMAP != want || acct.SMTP != (ServerConfig{Host: "127.0.0.1", Port: port("submission"), Security: SecurityStartTLS}) || acct.Login != "alice" {
		t.Fatalf("discovered %+v", acct)
	}
	if text := progressText(progress); !strings.Contains(text, "finding the servers of alice@example.test") || !strings.Contains(text, "  autoconfig") {
		t.Errorf("progress:\n%s", text)
	}
}

// progressText renders progress as the command line prints it.
func progressText(ps []AddProgress) string {
	var b strings.Builder
	for _, p := range ps {
		if p.Detail {
			b.WriteString("  ")
		}
		b.WriteString(p.Text + "\n")
	}
	return b.String()
}
