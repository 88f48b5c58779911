package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name of letterbox's keyring entries; the
// user of an entry is the account name.
const KeyringService = "letterbox"

var (
	// ErrNoPassword means no source had a password for the account.
	ErrNoPassword = errors.New("no password")
	// ErrNoKeyring means the OS keyring could not store a password.
	ErrNoKeyring = errors.New("no usable OS keyring")
	// ErrNotInKeyring is what a Keyring returns (wrapped) from Get and
	// Delete when it has no entry for the service and user.
	ErrNotInKeyring = errors.New("not in the keyring")
)

// Keyring is a store of passwords by service and user; SystemKeyring is
// the OS one. Get and Delete return an error wrapping ErrNotInKeyring
// when there is no entry.
type Keyring interface {
	// Get returns the password of user for service.
	Get(service, user string) (string, error)
	// Set stores the password of user for service, replacing any.
	Set(service, user, password string) error
	// Delete removes the password of user for service.
	Delete(service, user string) error
}

// SystemKeyring is the OS keyring through go-keyring: the Secret Service
// over D-Bus (GNOME Keyring, KWallet) on Linux and the BSDs, the Keychain
// on macOS, the Credential Manager on Windows.
type SystemKeyring struct{}

var _ Keyring = SystemKeyring{}

// Get returns the password of user for service.
func (SystemKeyring) Get(service, user string) (string, error) {
	pw, err := keyring.Get(service, user)
	return pw, keyringErr(err)
}

// Set stores the password of user for service, replacing any.
func (SystemKeyring) Set(service, user, password string) error {
	return keyringErr(keyring.Set(service, user, password))
}

// Delete removes the password of user for service.
func (SystemKeyring) Delete(service, user string) error {
	return keyringErr(keyring.Delete(service, user))
}

func keyringErr(err error) error {
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotInKeyring, err)
	}
	return err
}

// DefaultSecretTimeout bounds one keyring call or one password_cmd run
// when Secrets.Timeout is zero.
const DefaultSecretTimeout = 30 * time.Second

// Secrets finds, stores and forgets account passwords: the OS keyring
// first, then the account's password_cmd. The zero value uses the system
// keyring and runs password_cmd with RunPasswordCmd.
type Secrets struct {
	// Keyring is where passwords are kept; nil means SystemKeyring.
	Keyring Keyring
	// RunCmd runs a password_cmd and returns the password it printed;
	// nil means RunPasswordCmd.
	RunCmd func(ctx context.Context, cmd string) (string, error)
	// Timeout bounds each keyring call and command; 0 means
	// DefaultSecretTimeout.
	Timeout time.Duration
}

// Password returns the password of acct: from the keyring, or else from
// acct.PasswordCmd. When neither has one, the error wraps ErrNoPassword
// and says how to provide it.
func (s *Secrets) Password(ctx context.Context, acct AccountConfig) (string, error) {
	pw, kerr := s.keyringGet(ctx, acct.Name)
	if kerr == nil && pw != "" {
		return pw, nil
	}
	if kerr == nil {
		kerr = errors.New("the entry is empty")
	}
	var why string
	if errors.Is(kerr, ErrNotInKeyring) {
		why = "the OS keyring has none"
	} else {
		why = fmt.Sprintf("the OS keyring has none (%v)", kerr)
	}
	if acct.PasswordCmd == "" {
		return "", fmt.Errorf("%w for account %q: %s and no password_cmd is set; "+
			"run \"letterbox account add %s --password-stdin\" to store one in the keyring, "+
			"or set password_cmd = \"pass show mail/%s\" (a command that prints it) in config.toml",
			ErrNoPassword, acct.Name, why, acct.Name, acct.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	run := s.RunCmd
	if run == nil {
		run = RunPasswordCmd
	}
	pw, err := run(ctx, acct.PasswordCmd)
	if err == nil && pw == "" {
		err = errors.New("it printed nothing")
	}
	if err != nil {
		return "", fmt.Errorf("%w for account %q: %s and password_cmd %q failed: %w",
			ErrNoPassword, acct.Name, why, acct.PasswordCmd, err)
	}
	return pw, nil
}

// Store saves password as acct's in the OS keyring. When the keyring
// cannot take it (none running, as on a headless machine), the error
// wraps ErrNoKeyring and suggests password_cmd.
func (s *Secrets) Store(ctx context.Context, acct AccountConfig, password string) error {
	if password == "" {
		return fmt.Errorf("store password for account %q: the password is empty", acct.Name)
	}
	if err := validName(acct.Name); err != nil {
		return fmt.Errorf("store password: %w", err)
	}
	err := s.call(ctx, func(k Keyring) error { return k.Set(KeyringService, acct.Name, password) })
	if err != nil {
		return fmt.Errorf("store password for account %q: %w (%w); "+
			"without a keyring, set password_cmd in config.toml to a command that prints the password, "+
			"such as \"pass show mail/%s\"", acct.Name, ErrNoKeyring, err, acct.Name)
	}
	return nil
}

// Forget removes acct's password from the keyring. A password that is
// not there is not an error.
func (s *Secrets) Forget(ctx context.Context, acct AccountConfig) error {
	err := s.call(ctx, func(k Keyring) error { return k.Delete(KeyringService, acct.Name) })
	if err != nil && !errors.Is(err, ErrNotInKeyring) {
		return fmt.Errorf("forget password for account %q: %w", acct.Name, err)
	}
	return nil
}

func (s *Secrets) keyringGet(ctx context.Context, user string) (string, error) {
	return keyringCall(ctx, s, func(k Keyring) (string, error) { return k.Get(KeyringService, user) })
}

// call runs f against the keyring; see keyringCall.
func (s *Secrets) call(ctx context.Context, f func(Keyring) error) error {
	_, err := keyringCall(ctx, s, func(k Keyring) (struct{}, error) { return struct{}{}, f(k) })
	return err
}

// keyringCall runs f against s's keyring, giving up at the timeout or
// when ctx ends. Keyring calls take no context and may wait for an unlock
// prompt, so f runs on its own goroutine, which is left to finish alone.
func keyringCall[T any](ctx context.Context, s *Secrets, f func(Keyring) (T, error)) (T, error) {
	k := s.Keyring
	if k == nil {
		k = SystemKeyring{}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(k)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("keyring did not answer: %w", context.Cause(ctx))
	}
}

func (s *Secrets) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultSecretTimeout
}

// RunPasswordCmd runs cmd with "sh -c" and returns the first line it
// printed, without the line ending. A failure includes what the command
// wrote to stderr. The command is killed when ctx ends.
func RunPasswordCmd(ctx context.Context, cmd string) (string, error) {
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	var stdout, stderr bytes.Buffer
	c.Stdout = &stdout
	c.Stderr = &stderr
	c.WaitDelay = time.Second // a child left holding the pipes must not hang us
	err := c.Run()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%w: %s", err, firstLines(msg, 3))
		}
		return "", err
	}
	line, _, _ := strings.Cut(stdout.String(), "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// firstLines returns at most n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, " / ")
}
