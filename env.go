package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/store"
)

// The client's headless commands share this: the configuration, the
// secrets and opening one account's store.

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
	return &accounts.Secrets{Keyring: accounts.SystemKeyring{}}
}

// openAccount opens the named account; an unknown name exits 3.
func (e *env) openAccount(ctx context.Context, name string) (*accounts.Account, error) {
	cfg, _, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	acct, err := cfg.Find(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotFound, err)
	}
	base, err := e.dataHome()
	if err != nil {
		return nil, err
	}
	return accounts.OpenAccount(ctx, *acct, base, e.secrets())
}

// parseIDs reads message ids.
func parseIDs(cmd string, args []string) ([]int64, error) {
	if len(args) == 0 {
		return nil, usageError{cmd + ": want at least one message ID"}
	}
	ids := make([]int64, len(args))
	for i, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, usageError{fmt.Sprintf("%s: bad message ID %q", cmd, a)}
		}
		ids[i] = id
	}
	return ids, nil
}

// notFound maps the store's not-found errors to exit code 3.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) && !errors.Is(err, errNotFound) {
		return fmt.Errorf("%w: %v", errNotFound, err)
	}
	return err
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// accountArgs parses a command's flags and takes its first positional
// argument as the account.
func accountArgs(fs *flag.FlagSet, args []string, cmd string) (string, []string, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", nil, err
	}
	return accountFromArgs(cmd, pos)
}

// accountFromArgs takes the first positional argument as the account.
func accountFromArgs(cmd string, pos []string) (string, []string, error) {
	if len(pos) == 0 {
		return "", nil, usageError{cmd + ": want an ACCOUNT (see letterbox account list)"}
	}
	return pos[0], pos[1:], nil
}

// flagChanges parses "+seen -flagged +$label" into additions and removals.
func flagChanges(args []string) (add, remove []string, err error) {
	names := map[string]string{"seen": store.FlagSeen, "read": store.FlagSeen, "flagged": store.FlagFlagged,
		"answered": store.FlagAnswered, "draft": store.FlagDraft, "deleted": store.FlagDeleted}
	for _, a := range args {
		if len(a) < 2 || (a[0] != '+' && a[0] != '-') {
			return nil, nil, usageError{fmt.Sprintf("flag: %q: want +FLAG or -FLAG (seen, flagged, answered, draft, or a keyword)", a)}
		}
		f := a[1:]
		if std, ok := names[strings.ToLower(f)]; ok {
			f = std
		}
		if a[0] == '+' {
			add = append(add, f)
		} else {
			remove = append(remove, f)
		}
	}
	return add, remove, nil
}
