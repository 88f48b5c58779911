package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Removed is what RemoveAccount did.
type Removed struct {
	// Config is the removed account's configuration.
	Config AccountConfig
	// DataDir is its local mail (deleted when purged).
	DataDir string
	// KeyringErr is set when the password could not be removed from the
	// keyring; the account is removed from the configuration all the same.
	KeyringErr error
}

// RemoveAccount removes the account called name from the configuration
// file at cfgPath (saved atomically), then forgets its password in the
// keyring of secrets, and with purge deletes its local mail under the
// data directory base. An unknown name wraps ErrUnknownAccount and
// changes nothing.
func RemoveAccount(ctx context.Context, cfgPath, base, name string, secrets *Secrets, purge bool) (Removed, error) {
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return Removed{}, err
	}
	acct, err := cfg.Find(name)
	if err != nil {
		return Removed{}, err
	}
	r := Removed{Config: *acct, DataDir: acct.DataDir(base)}
	if err := cfg.Remove(name); err != nil {
		return r, err
	}
	if err := cfg.Save(cfgPath); err != nil {
		return r, fmt.Errorf("remove account %s: %w", name, err)
	}
	if secrets != nil {
		r.KeyringErr = secrets.Forget(ctx, r.Config)
		if r.Config.IsOAuth2() {
			// The refresh token, from the keyring and the token file.
			ts := tokenStore{secrets: secrets, name: name, dir: r.DataDir}
			if err := ts.forget(ctx); err != nil {
				r.KeyringErr = errors.Join(r.KeyringErr, err)
			}
		}
	}
	if purge {
		if err := os.RemoveAll(r.DataDir); err != nil {
			return r, fmt.Errorf("remove account %s: delete local mail: %w", name, err)
		}
	}
	return r, nil
}
