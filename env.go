package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/store"
)

// env is what every command gets: the global settings and the streams,
// so commands are testable without touching the process's globals.
type env struct {
	configFile string // --config
	dataDir    string // --data
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	getenv     func(string) string
	// keyring is the OS keyring (nil: accounts.SystemKeyring); tests
	// give an in-memory one.
	keyring accounts.Keyring
	// openURL opens the browser of an OAuth2 sign-in (nil:
	// accounts.OpenBrowser); tests play the browser.
	openURL func(ctx context.Context, url string) error
	// process is set when e is the whole process (main), not a test
	// running commands in its own process: only then may a command
	// change process-wide settings such as the garbage collector's.
	process bool
}

// dataHome returns the data directory: --data, else $XDG_DATA_HOME/letterbox,
// else ~/.local/share/letterbox.
func (e *env) dataHome() (string, error) {
	if e.dataDir != "" {
		return e.dataDir, nil
	}
	if x := e.getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "letterbox"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: set --data or XDG_DATA_HOME: %w", err)
	}
	return filepath.Join(home, ".local", "share", "letterbox"), nil
}

// configPath returns --config or the XDG default.
func (e *env) configPath() (string, error) {
	if e.configFile != "" {
		return e.configFile, nil
	}
	return accounts.DefaultConfigPath()
}

// loadConfig reads config.toml (a missing file is an empty config).
func (e *env) loadConfig() (*accounts.Config, string, error) {
	path, err := e.configPath()
	if err != nil {
		return nil, "", err
	}
	cfg, err := accounts.LoadConfig(path)
	if err != nil {
		return nil, "", err
	}
	return cfg, path, nil
}

// secrets returns the credential lookup: the OS keyring, then the
// account's password command.
func (e *env) secrets() *accounts.Secrets {
	if e.keyring != nil {
		return &accounts.Secrets{Keyring: e.keyring}
	}
	return &accounts.Secrets{Keyring: accounts.SystemKeyring{}}
}

// findAccount returns the configuration of the named account; an unknown
// name wraps accounts.ErrUnknownAccount (exit 3).
func (e *env) findAccount(name string) (*accounts.AccountConfig, error) {
	cfg, _, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	return cfg.Find(name)
}

// openAccount opens the named account.
func (e *env) openAccount(ctx context.Context, name string) (*accounts.Account, error) {
	acct, err := e.findAccount(name)
	if err != nil {
		return nil, err
	}
	base, err := e.dataHome()
	if err != nil {
		return nil, err
	}
	return accounts.OpenAccount(ctx, *acct, base, e.secrets())
}

// accountNames completes an ACCOUNT argument from the configuration,
// leaving out the accounts already given.
func (e *env) accountNames(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	cfg, _, err := e.loadConfig()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var names []cobra.Completion
	for _, a := range cfg.Accounts {
		if !slices.Contains(args, a.Name) {
			names = append(names, cobra.CompletionWithDesc(a.Name, a.Email))
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// firstArgAccount completes the first argument as an account name and
// nothing after it.
func (e *env) firstArgAccount(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return e.accountNames(cmd, args, toComplete)
}

// storeDir resolves a --store flag: the value, else DATA/store.
func (e *env) storeDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	data, err := e.dataHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(data, "store"), nil
}

// openStore opens the store of a --store flag.
func (e *env) openStore(ctx context.Context, flag string) (*store.Store, error) {
	dir, err := e.storeDir(flag)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, dir, nil)
}

// openExistingStore opens the store of a --store flag for a command that
// reads one (ls, search, show, check, export): where there is none it
// is "not found" (exit 3), and nothing is created there.
func (e *env) openExistingStore(ctx context.Context, flag string) (*store.Store, error) {
	dir, err := e.storeDir(flag)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "index.db")); errors.Is(err, fs.ErrNotExist) {
		return nil, notFoundError{fmt.Errorf("store %s: no store there (letterbox store import --store DIR creates one)", dir)}
	} else if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	return store.Open(ctx, dir, nil)
}

// serverData is the server's data directory: --data, else DATA/server.
func (e *env) serverData() (string, error) {
	if e.dataDir != "" {
		return e.dataDir, nil
	}
	d, err := e.dataHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "server"), nil
}
