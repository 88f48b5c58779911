package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Where an OAuth2 account's refresh token is kept, and the lock that
// serialises refreshes across processes. In the account's data directory
// (AccountConfig.DataDir):
//
//	oauth2-token.json   the refresh token, mode 0600, only when the OS
//	                    keyring could not take it (said at sign-in);
//	                    while it exists it is the one read and written
//	oauth2.lock         flock(2) held while a process refreshes and saves
//
// Otherwise the token is in the OS keyring: service "letterbox", user
// "NAME:oauth2-refresh" (":" is not allowed in account names, so it
// never meets a password entry).

// The files of the account's data directory.
const (
	TokenFileName   = "oauth2-token.json"
	oauth2LockName  = "oauth2.lock"
	refreshUserTail = ":oauth2-refresh"
)

// ErrNotSignedIn is wrapped when an OAuth2 account has no refresh token
// (never signed in, or the token was removed); its kind is Auth.
var ErrNotSignedIn = errors.New("not signed in")

// ErrSignInExpired is wrapped when the identity provider refuses the
// refresh token (invalid_grant: expired, revoked, or the password
// changed); its kind is Auth.
var ErrSignInExpired = errors.New("sign-in expired or revoked")

// TokenPlace says where a refresh token was kept.
type TokenPlace struct {
	// Keyring is true for the OS keyring; else File is the token file.
	Keyring bool
	File    string
}

// String says it plainly, for the user.
func (p TokenPlace) String() string {
	if p.Keyring {
		return "the OS keyring"
	}
	return p.File + " (mode 0600; no OS keyring could take it)"
}

// tokenStore keeps one account's refresh token.
type tokenStore struct {
	secrets *Secrets
	name    string
	dir     string // the account's data directory
}

func (s tokenStore) file() string { return filepath.Join(s.dir, TokenFileName) }

// tokenFile is the token file's content.
type tokenFile struct {
	RefreshToken string    `json:"refresh_token"`
	Saved        time.Time `json:"saved"`
}

// maxTokenFile bounds the token file read.
const maxTokenFile = 64 << 10

// parseTokenFile reads the token file's bytes.
func parseTokenFile(b []byte) (string, error) {
	if len(b) > maxTokenFile {
		return "", errors.New("the file is too large")
	}
	var tf tokenFile
	if err := json.Unmarshal(b, &tf); err != nil {
		return "", fmt.Errorf("not a token file: %w", err)
	}
	if tf.RefreshToken == "" || hasControl(tf.RefreshToken) {
		return "", errors.New("it holds no refresh token")
	}
	return tf.RefreshToken, nil
}

// load returns the refresh token: the token file's while it exists,
// else the keyring's. No token is an error wrapping ErrNotSignedIn, of
// kind Auth.
func (s tokenStore) load(ctx context.Context) (string, TokenPlace, error) {
	b, err := os.ReadFile(s.file())
	switch {
	case err == nil:
		perr := s.checkFileMode()
		tok := ""
		if perr == nil {
			tok, perr = parseTokenFile(b)
		}
		if perr != nil {
			return "", TokenPlace{File: s.file()}, &lbsync.Error{Op: "oauth2 " + s.name, Kind: lbsync.Auth,
				Err: fmt.Errorf("token file %s: %w; run `letterbox account auth %s` to sign in again (a new token replaces it)", s.file(), perr, s.name)}
		}
		return tok, TokenPlace{File: s.file()}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", TokenPlace{File: s.file()}, fmt.Errorf("oauth2 token file: %w", err)
	}
	tok, err := s.secrets.keyringGet(ctx, s.name+refreshUserTail)
	if err == nil && tok != "" {
		return tok, TokenPlace{Keyring: true}, nil
	}
	why := "the OS keyring has no entry for it"
	if err != nil && !errors.Is(err, ErrNotInKeyring) {
		why = fmt.Sprintf("the OS keyring gave none (%v) and there is no %s", err, s.file())
	}
	return "", TokenPlace{}, &lbsync.Error{Op: "oauth2 " + s.name, Kind: lbsync.Auth,
		Err: fmt.Errorf("%w: %s; run `letterbox account auth %s` to sign in", ErrNotSignedIn, why, s.name)}
}

// checkFileMode refuses a token file that others than its owner may
// read or write: the refresh token in it may have leaked (ssh refuses
// such key files alike).
func (s tokenStore) checkFileMode() error {
	fi, err := os.Stat(s.file())
	if err != nil {
		return err
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("others can read or write it (mode %#o, want 0600), so the refresh token may have leaked", m)
	}
	return nil
}

// save keeps tok: in the token file while it exists (unless fresh),
// else in the keyring, else (no keyring) in a new token file. fresh is
// a new sign-in: the keyring is tried first and a token file left from
// before is removed when the keyring took the token.
func (s tokenStore) save(ctx context.Context, tok string, fresh bool) (TokenPlace, error) {
	_, statErr := os.Stat(s.file())
	if fresh || errors.Is(statErr, fs.ErrNotExist) {
		err := s.secrets.call(ctx, func(k Keyring) error { return k.Set(KeyringService, s.name+refreshUserTail, tok) })
		if err == nil {
			if statErr == nil {
				if rerr := os.Remove(s.file()); rerr != nil {
					return TokenPlace{Keyring: true}, fmt.Errorf("remove the old token file: %w", rerr)
				}
			}
			return TokenPlace{Keyring: true}, nil
		}
	}
	b, err := json.Marshal(tokenFile{RefreshToken: tok, Saved: time.Now().UTC()})
	if err != nil {
		return TokenPlace{}, err
	}
	if err := writeFileAtomic(s.file(), b); err != nil {
		return TokenPlace{}, fmt.Errorf("save the oauth2 refresh token: %w", err)
	}
	return TokenPlace{File: s.file()}, nil
}

// forget removes the token from the keyring and the token file.
func (s tokenStore) forget(ctx context.Context) error {
	var errs []error
	err := s.secrets.call(ctx, func(k Keyring) error { return k.Delete(KeyringService, s.name+refreshUserTail) })
	if err != nil && !errors.Is(err, ErrNotInKeyring) {
		errs = append(errs, err)
	}
	if err := os.Remove(s.file()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// lockRefresh takes the account's refresh lock (an exclusive flock of
// oauth2.lock in dir), waiting while another process holds it, until ctx
// ends. The returned function releases it.
func lockRefresh(ctx context.Context, dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("oauth2 lock: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, oauth2LockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("oauth2 lock: %w", err)
	}
	wait := 5 * time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("oauth2 lock: %w", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("oauth2 lock: another letterbox is refreshing the token: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
