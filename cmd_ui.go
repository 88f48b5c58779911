package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/ui"
)

// letterbox ui|demo: the terminal interface.

func uiCmd(e *env) *cobra.Command {
	var noSync bool
	c := &cobra.Command{
		Use:   "ui",
		Short: "Open the terminal interface (the default with no command)",
		Long: `Open the terminal interface on the configured accounts, or the setup
wizard when there are none. Keys, theme and interface settings are the
[keys], [theme] and [ui] tables of config.toml (or of ui.toml beside it).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUI(cmd.Context(), e, noSync)
		},
	}
	c.Flags().BoolVar(&noSync, "no-sync", false, "do not sync when the interface opens (the periodic sync still runs)")
	return c
}

// runUI opens the interface on the configuration of e.
func runUI(ctx context.Context, e *env, noSync bool) error {
	cfg, path, err := e.loadConfig()
	if err != nil {
		return err
	}
	base, err := e.dataHome()
	if err != nil {
		return err
	}
	return runInterface(ctx, e, cfg, path, base, e.secrets(), !noSync, "ui")
}

// runInterface opens the accounts of cfg and runs the interface on the
// terminal of e; logs go to the XDG state directory.
func runInterface(ctx context.Context, e *env, cfg *accounts.Config, cfgPath, base string, secrets *accounts.Secrets, syncOnStart bool, logName string) error {
	if !isTerminal(e.stdin) || !isTerminal(e.stdout) {
		return usagef("the interface needs a terminal (for scripts, see letterbox help: list, read, send, sync...)")
	}
	// Interface settings: the [keys], [theme] and [ui] tables of
	// config.toml, then an optional ui.toml beside it.
	settings, err := ui.LoadSettingsWith(ui.Config{Keys: cfg.Keys, Theme: cfg.Theme, UI: cfg.UI}, cfgPath,
		filepath.Join(filepath.Dir(cfgPath), "ui.toml"), os.Getenv)
	if err != nil {
		return err
	}
	logger, logFile, logPath, err := ui.OpenLog(logName)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// Nothing may print over the screen: the standard logger and
	// anything written to stderr go to the log file while the interface
	// runs.
	log.SetOutput(logFile)
	defer log.SetOutput(os.Stderr)
	if e.stderr == os.Stderr {
		defer quietStderr(logFile)()
	}
	logger.Info("interface starting", "config", cfgPath, "data", base, "accounts", len(cfg.Accounts))

	var backends []ui.Backend
	var opened []*accounts.Account
	defer func() {
		for _, a := range opened {
			a.Close()
		}
	}()
	for _, ac := range cfg.Accounts {
		a, err := accounts.OpenAccount(ctx, ac, base, secrets)
		if err != nil {
			return err
		}
		opened = append(opened, a)
		backends = append(backends, ui.NewAccountBackend(a))
	}
	// Accounts the wizard adds are the interface's: Run closes them.
	setup := &ui.AccountSetup{ConfigPath: cfgPath, DataDir: base, Secrets: secrets}
	err = ui.Run(ctx, ui.RunOptions{Accounts: backends, Setup: setup, Settings: settings, SyncOnStart: syncOnStart,
		Desktop: ui.DesktopNotifier(e.getenv), Log: logger, In: e.stdin, Out: e.stdout})
	if err != nil {
		return fmt.Errorf("interface: %w (log: %s)", err, logPath)
	}
	return nil
}

// quietStderr points file descriptor 2 at f until the returned function
// runs, so a stray diagnostic from any package cannot draw over the
// interface.
func quietStderr(f *os.File) (restore func()) {
	saved, err := unix.Dup(2)
	if err != nil {
		return func() {}
	}
	if err := unix.Dup2(int(f.Fd()), 2); err != nil {
		unix.Close(saved)
		return func() {}
	}
	return func() {
		unix.Dup2(saved, 2)
		unix.Close(saved)
	}
}

// noKeyring keeps the demo away from the user's keyring: it has nothing
// and stores nothing.
type noKeyring struct{}

func (noKeyring) Get(service, user string) (string, error) { return "", accounts.ErrNotInKeyring }
func (noKeyring) Set(service, user, password string) error { return accounts.ErrNoKeyring }
func (noKeyring) Delete(service, user string) error        { return accounts.ErrNotInKeyring }

func demoCmd(e *env) *cobra.Command {
	var keep bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Try letterbox: a local server with sample mail, and the interface on it",
		Long: `Start the bundled server on 127.0.0.1 (ports chosen by the system) with
two users and sample mail, set up in a temporary directory an IMAP
account for alice and a POP3 account for bob, and open the interface.
Your own config, mail and keyring are not touched.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), e, keep)
		},
	}
	c.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory (config, data, server) after quitting")
	return c
}

// runDemo starts the bundled server on loopback with sample mail for
// alice and bob, makes an IMAP account for alice and a POP3 account for
// bob in a temporary directory (config, data and the server's mail),
// and opens the interface on them. Nothing of the user's own
// configuration, data or keyring is read or written.
func runDemo(ctx context.Context, e *env, keep bool) error {
	dir, err := os.MkdirTemp("", "letterbox-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if keep {
		defer fmt.Fprintln(e.stderr, "letterbox demo: kept", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	srv, err := startDemoServer(ctx, filepath.Join(dir, "server"))
	if err != nil {
		return fmt.Errorf("demo: server: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	cfg, err := demoConfig(srv)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := cfg.Save(cfgPath); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	secrets := &accounts.Secrets{Keyring: noKeyring{}}
	return runInterface(ctx, e, cfg, cfgPath, filepath.Join(dir, "data"), secrets, true, "demo")
}

// startDemoServer runs the server in-process on OS-chosen loopback ports
// with the dev users and their sample mail.
func startDemoServer(ctx context.Context, data string) (*server.Server, error) {
	lo := "127.0.0.1:0"
	cfg := &server.Config{Dev: true, Hostname: "mx.example.test", Domains: []string{"example.test"}, Data: data,
		Listen: server.Listen{SMTP: lo, Submission: lo, SMTPS: lo, IMAP: lo, IMAPS: lo, POP3: lo, POP3S: lo}}
	if err := cfg.Finish(); err != nil {
		return nil, err
	}
	srv, err := server.New(cfg, nil)
	if err != nil {
		return nil, err
	}
	if _, err := srv.SeedDev(ctx); err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	return srv, nil
}

// demoConfig describes the demo's accounts: alice over IMAP (implicit
// TLS, SMTP on 465-style TLS), bob over POP3 (implicit TLS, SMTP
// submission with STARTTLS), both trusting the server's certificate.
func demoConfig(srv *server.Server) (*accounts.Config, error) {
	ep := func(name string, sec accounts.Security) (accounts.ServerConfig, error) {
		a := srv.Addr(name)
		if a == nil {
			return accounts.ServerConfig{}, fmt.Errorf("the server has no %s listener", name)
		}
		host, port, err := net.SplitHostPort(a.String())
		if err != nil {
			return accounts.ServerConfig{}, err
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return accounts.ServerConfig{}, err
		}
		return accounts.ServerConfig{Host: host, Port: p, Security: sec}, nil
	}
	var errs []error
	must := func(s accounts.ServerConfig, err error) accounts.ServerConfig {
		errs = append(errs, err)
		return s
	}
	alice := accounts.AccountConfig{Name: "alice", Email: "alice@example.test", DisplayName: "Alice Example",
		Mode: accounts.ModeIMAP, IMAP: must(ep("imaps", accounts.SecurityTLS)), SMTP: must(ep("smtps", accounts.SecurityTLS)),
		PasswordCmd: "echo alice", TLSCA: srv.CertFile}
	bob := accounts.AccountConfig{Name: "bob", Email: "bob@example.test", DisplayName: "Bob Example",
		Mode: accounts.ModePOP3, POP3: must(ep("pop3s", accounts.SecurityTLS)), SMTP: must(ep("submission", accounts.SecurityStartTLS)),
		PasswordCmd: "echo bob", TLSCA: srv.CertFile}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg := &accounts.Config{}
	for _, a := range []accounts.AccountConfig{alice, bob} {
		if err := cfg.Add(a); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}
