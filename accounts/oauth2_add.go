package accounts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Adding an OAuth2 account and signing in again: find the servers (the
// provider preset's, or discovery), sign in at the provider (device or
// browser flow), test the login with the new access token, then keep
// the refresh token (keyring, else the token file) and save config.toml.
// Nothing is kept unless the login works.

// oauth2Defaults completes opts.OAuth2 for an OAuth2 account: without a
// provider or endpoints, the preset of the address's domain (gmail.com
// is Google's). It returns the preset's servers for the mode asked, to
// probe when the user named none.
func (o *AddOptions) oauth2Defaults() ([]Candidate, error) {
	if o.Auth != AuthOAuth2 {
		return nil, nil
	}
	s := &o.OAuth2
	if s.OAuth2Provider == "" && s.OAuth2AuthURL == "" && s.OAuth2TokenURL == "" && s.OAuth2DeviceURL == "" && s.OAuth2TokenCmd == "" {
		domain, err := emailDomain(o.Email)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", err, ErrInvalidSetting)
		}
		p, ok := providerForDomain(domain)
		if !ok {
			return nil, fmt.Errorf("--auth oauth2: %s is no known provider's: give --oauth2-provider google or microsoft, "+
				"or the endpoints (--oauth2-token-url and --oauth2-device-url or --oauth2-auth-url): %w", domain, ErrInvalidSetting)
		}
		s.OAuth2Provider = p.Name
	}
	p, ok := LookupProvider(s.OAuth2Provider)
	if !ok {
		return nil, nil
	}
	in := Candidate{Protocol: IMAP, Host: p.IMAP.Host, Port: p.IMAP.Port, Security: p.IMAP.Security, Source: providerTitle(p.Name) + "'s preset"}
	if o.Mode == ModePOP3 {
		in = Candidate{Protocol: POP3, Host: p.POP3.Host, Port: p.POP3.Port, Security: p.POP3.Security, Source: in.Source}
	}
	out := Candidate{Protocol: SMTP, Host: p.SMTP.Host, Port: p.SMTP.Port, Security: p.SMTP.Security, Source: in.Source}
	return []Candidate{in, out}, nil
}

// addOAuth2 is AddAccount for an account that signs in with OAuth2.
// Timeout bounds finding the servers and the login test; the sign-in
// waits for the user as long as its flow allows.
func addOAuth2(ctx context.Context, opts AddOptions) (AccountConfig, error) {
	name := opts.Name
	if opts.Configured != nil {
		name = opts.Configured.Name
	}
	if err := validName(name); err != nil {
		return AccountConfig{}, fmt.Errorf("add account: %w: %w", err, ErrInvalidSetting)
	}
	if opts.PasswordCmd != "" || opts.Password != "" {
		return AccountConfig{}, fmt.Errorf("add account %s: an OAuth2 account has no password (--password-cmd, --password-stdin): %w", name, ErrInvalidSetting)
	}
	cfg, err := LoadConfig(opts.ConfigPath)
	if err != nil {
		return AccountConfig{}, err
	}
	if _, err := cfg.Find(name); err == nil {
		return AccountConfig{}, fmt.Errorf("add account: %w: an account named %q is configured already", ErrAccountExists, name)
	}
	var acct AccountConfig
	if opts.Configured != nil {
		acct = *opts.Configured
		acct.Auth = AuthOAuth2
		if opts.OAuth2.set() {
			acct.OAuth2Settings = opts.OAuth2
		}
		if err := acct.Validate(); err != nil {
			return acct, fmt.Errorf("add account: %w: %w", err, ErrInvalidSetting)
		}
	} else if acct, err = FindServers(ctx, opts); err != nil {
		return acct, fmt.Errorf("add account %s: %w", name, err)
	}
	secrets := opts.secrets()
	place, err := signInAndKeep(ctx, acct, signInJob{secrets: secrets, dataDir: opts.DataDir, signIn: opts.SignIn,
		dial: opts.Dial, progress: opts.progress, timeout: opts.timeout()})
	if err != nil {
		return acct, fmt.Errorf("add account %s: nothing saved: %w", name, err)
	}
	// Read config.toml again: another process may have changed it while
	// the user signed in.
	saveErr := func() error {
		if cfg, err = LoadConfig(opts.ConfigPath); err != nil {
			return err
		}
		if _, err := cfg.Find(name); err == nil {
			return fmt.Errorf("add account: %w: an account named %q is configured already", ErrAccountExists, name)
		}
		if err := cfg.Add(acct); err != nil {
			return err
		}
		return cfg.Save(opts.ConfigPath)
	}()
	if saveErr != nil {
		// The refresh token of an account that was not saved goes too.
		if opts.DataDir != "" {
			_ = tokenStore{secrets: secrets, name: name, dir: acct.DataDir(opts.DataDir)}.forget(context.WithoutCancel(ctx))
		}
		return acct, saveErr
	}
	opts.progress("the refresh token is kept in "+place.String(), false)
	return acct, nil
}

// signInJob is what signInAndKeep needs besides the account.
type signInJob struct {
	secrets  *Secrets
	dataDir  string
	signIn   SignInOptions
	dial     dialFunc
	progress func(text string, detail bool)
	timeout  time.Duration
}

// signInAndKeep signs acct in, tests the login with the new access
// token, and keeps the refresh token (under the account's refresh lock).
func signInAndKeep(ctx context.Context, acct AccountConfig, j signInJob) (TokenPlace, error) {
	if acct.OAuth2TokenCmd != "" {
		// Nothing to sign in to or keep: test what the command prints.
		src, err := newOAuthSource(acct, acct.DataDir(j.dataDir), sourceOptions{Secrets: j.secrets, HTTP: j.signIn.HTTP})
		if err != nil {
			return TokenPlace{}, err
		}
		j.progress("testing the login…", false)
		tctx, cancel := context.WithTimeout(ctx, j.timeout)
		defer cancel()
		return TokenPlace{}, testLogin(tctx, acct, credential{oauth: src}, j.dial)
	}
	if j.dataDir == "" {
		return TokenPlace{}, errors.New("no data directory for the OAuth2 token")
	}
	so := j.signIn
	if so.RunCmd == nil {
		so.RunCmd = j.secrets.RunCmd
	}
	j.progress("signing in at "+providerTitle(acct.OAuth2Endpoint().Provider)+"…", false)
	tok, err := SignIn(ctx, acct, so)
	if err != nil {
		return TokenPlace{}, err
	}
	j.progress("testing the login…", false)
	tctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	if err := testLogin(tctx, acct, credential{oauth: staticSource(tok.AccessToken)}, j.dial); err != nil {
		return TokenPlace{}, err
	}
	j.progress("saving…", false)
	dir := acct.DataDir(j.dataDir)
	unlock, err := lockRefresh(tctx, dir)
	if err != nil {
		return TokenPlace{}, err
	}
	defer unlock()
	return tokenStore{secrets: j.secrets, name: acct.Name, dir: dir}.save(tctx, tok.RefreshToken, true)
}

// ReauthOptions are what Reauthorize takes: letterbox account auth NAME.
type ReauthOptions struct {
	// ConfigPath is config.toml; Name the account; DataDir the data
	// directory.
	ConfigPath, Name, DataDir string
	// Secrets keeps the refresh token; nil means the system keyring.
	Secrets *Secrets
	// SignIn says how the sign-in runs.
	SignIn SignInOptions
	// Dial opens the login test's connections; nil means a net.Dialer.
	Dial dialFunc
	// Progress receives the steps.
	Progress func(AddProgress)
	// Timeout bounds the login test (DefaultAddTimeout when zero).
	Timeout time.Duration
}

// Reauthorize signs an OAuth2 account in again (after its sign-in
// expired or was revoked, or to change the user): the sign-in, the
// login test with the new token, then the new refresh token replaces the
// old one, under the account's refresh lock so that a running sync
// does not save an older one over it. It returns where the token is
// kept. An unknown account wraps ErrUnknownAccount.
func Reauthorize(ctx context.Context, o ReauthOptions) (TokenPlace, error) {
	cfg, err := LoadConfig(o.ConfigPath)
	if err != nil {
		return TokenPlace{}, err
	}
	acct, err := cfg.Find(o.Name)
	if err != nil {
		return TokenPlace{}, err
	}
	switch {
	case !acct.IsOAuth2():
		return TokenPlace{}, fmt.Errorf("account auth %s: it signs in with a password: use letterbox account password %s: %w", o.Name, o.Name, ErrInvalidSetting)
	case acct.OAuth2TokenCmd != "":
		return TokenPlace{}, fmt.Errorf("account auth %s: its token comes from oauth2_token_cmd (%s): sign in with that tool: %w", o.Name, acct.OAuth2TokenCmd, ErrInvalidSetting)
	}
	ao := AddOptions{Secrets: o.Secrets, Progress: o.Progress, Timeout: o.Timeout}
	place, err := signInAndKeep(ctx, *acct, signInJob{secrets: ao.secrets(), dataDir: o.DataDir, signIn: o.SignIn,
		dial: o.Dial, progress: ao.progress, timeout: ao.timeout()})
	if err != nil {
		return place, fmt.Errorf("account auth %s: %w", o.Name, err)
	}
	return place, nil
}

// OAuth2TokenPlace says where the refresh token of the OAuth2 account
// acct is kept under the data directory base: its token file when one
// exists, else the OS keyring.
func OAuth2TokenPlace(acct AccountConfig, base string) TokenPlace {
	f := tokenStore{name: acct.Name, dir: acct.DataDir(base)}.file()
	if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
		return TokenPlace{Keyring: true}
	}
	return TokenPlace{File: f}
}

// TestAccountLogin logs in to acct's incoming and SMTP servers as Sync
// and sending would: with its password, or with its OAuth2 token
// (refreshed as needed; the data directory base holds its lock).
func TestAccountLogin(ctx context.Context, acct AccountConfig, base string, secrets *Secrets) error {
	if secrets == nil {
		secrets = &Secrets{}
	}
	if !acct.IsOAuth2() {
		pw, err := secrets.Password(ctx, acct)
		if err != nil {
			return err
		}
		return TestLogin(ctx, acct, pw, nil)
	}
	src, err := newOAuthSource(acct, acct.DataDir(base), sourceOptions{Secrets: secrets})
	if err != nil {
		return err
	}
	return testLogin(ctx, acct, credential{oauth: src}, nil)
}
