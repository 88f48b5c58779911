package ui

import (
	"context"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
)

// AccountSetup is the wizard's Setup over package accounts: its steps
// are those of accounts.AddAccount (which letterbox account add runs in
// one go), with the wizard asking for the password between finding the
// servers and testing the login.
type AccountSetup struct {
	ConfigPath string // config.toml
	DataDir    string // the data directory (accounts' stores under it)
	Secrets    *accounts.Secrets
}

var _ Setup = (*AccountSetup)(nil)

// Configure discovers and probes the servers of email, or probes only
// the servers given in manual (accounts.FindServers), logging each thing
// it tries.
func (s *AccountSetup) Configure(ctx context.Context, name, email string, manual ManualServers, log func(string)) (accounts.AccountConfig, error) {
	return accounts.FindServers(ctx, accounts.AddOptions{Name: name, Email: email,
		IMAP: manual.IMAP, POP3: manual.POP3, SMTP: manual.SMTP, TLSCA: manual.TLSCA, Secrets: s.Secrets,
		Progress: func(p accounts.AddProgress) {
			if p.Detail { // the wizard shows the steps itself
				log(p.Text)
			}
		}})
}

// TestLogin logs in to the account's servers.
func (s *AccountSetup) TestLogin(ctx context.Context, acct accounts.AccountConfig, password string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return accounts.TestLogin(ctx, acct, password, nil)
}

// Save keeps the password in the keyring (or sets the password command)
// and adds the account to config.toml, as accounts.AddAccount does for
// an account whose servers were found and whose login was tested.
func (s *AccountSetup) Save(ctx context.Context, acct accounts.AccountConfig, password, passwordCmd string) error {
	_, err := accounts.AddAccount(ctx, accounts.AddOptions{ConfigPath: s.ConfigPath, Configured: &acct, LoginTested: true,
		Password: password, PasswordCmd: passwordCmd, Secrets: s.Secrets})
	return err
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
