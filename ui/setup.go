package ui

import (
	"context"
	"fmt"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
)

// AccountSetup is the wizard's Setup over package accounts: discovery
// and probing, the login test, the keyring and config.toml.
type AccountSetup struct {
	ConfigPath string // config.toml
	DataDir    string // the data directory (accounts' stores under it)
	Secrets    *accounts.Secrets
}

var _ Setup = (*AccountSetup)(nil)

// Configure discovers and probes the servers of email, or probes only
// the servers given in manual.
func (s *AccountSetup) Configure(ctx context.Context, name, email string, manual ManualServers, log func(string)) (accounts.AccountConfig, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var overrides []accounts.Candidate
	mode := accounts.Mode("")
	for _, o := range []struct {
		proto accounts.Protocol
		host  string
	}{{accounts.IMAP, manual.IMAP}, {accounts.POP3, manual.POP3}, {accounts.SMTP, manual.SMTP}} {
		if o.host == "" {
			continue
		}
		c, err := accounts.CandidateFor(o.proto, o.host)
		if err != nil {
			return accounts.AccountConfig{}, err
		}
		overrides = append(overrides, c)
	}
	if manual.POP3 != "" && manual.IMAP == "" {
		mode = accounts.ModePOP3
	} else if manual.IMAP != "" {
		mode = accounts.ModeIMAP
	}
	d := &accounts.Discoverer{Log: log}
	if manual.TLSCA != "" {
		tc, err := accounts.TLSConfig(accounts.AccountConfig{TLSCA: manual.TLSCA}, "")
		if err != nil {
			return accounts.AccountConfig{}, err
		}
		d.TLS = tc
	}
	acct, err := d.Configure(ctx, name, email, mode, overrides...)
	acct.TLSCA = manual.TLSCA
	return acct, err
}

// TestLogin logs in to the account's servers.
func (s *AccountSetup) TestLogin(ctx context.Context, acct accounts.AccountConfig, password string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return accounts.TestLogin(ctx, acct, password, nil)
}

// Save keeps the password (keyring) or the password command and adds the
// account to config.toml.
func (s *AccountSetup) Save(ctx context.Context, acct accounts.AccountConfig, password, passwordCmd string) error {
	cfg, err := accounts.LoadConfig(s.ConfigPath)
	if err != nil {
		return err
	}
	acct.PasswordCmd = passwordCmd
	if passwordCmd == "" {
		if err := s.Secrets.Store(ctx, acct, password); err != nil {
			return fmt.Errorf("keep the password in the keyring: %w", err)
		}
	}
	if err := cfg.Add(acct); err != nil {
		return err
	}
	return cfg.Save(s.ConfigPath)
}

// Open opens the saved account. The Backend closes it (Close); Run does
// so for the accounts the wizard opened.
func (s *AccountSetup) Open(ctx context.Context, acct accounts.AccountConfig) (Backend, error) {
	a, err := accounts.OpenAccount(ctx, acct, s.DataDir, s.Secrets)
	if err != nil {
		return nil, err
	}
	return NewAccountBackend(a), nil
}
