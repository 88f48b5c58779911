package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Adding an account, written once for the command line (letterbox account
// add) and the interface's setup wizard: find the servers (the servers
// the user named, else discovery), probe them, test the login, keep the
// password, save config.toml. Nothing is saved unless the login works.

// Errors of AddAccount and FindServers that callers tell apart.
var (
	// ErrInvalidSetting is wrapped by errors about what the user gave: a
	// malformed server, security, mode, name or address (the command
	// line's usage errors).
	ErrInvalidSetting = errors.New("invalid setting")
	// ErrAccountExists is wrapped when an account of that name is
	// configured already.
	ErrAccountExists = errors.New("account exists")
)

// DefaultAddTimeout bounds AddAccount and FindServers when
// AddOptions.Timeout is zero.
const DefaultAddTimeout = 2 * time.Minute

// AddOptions are what AddAccount and FindServers take: the flags of
// letterbox account add, or the answers of the setup wizard.
type AddOptions struct {
	// ConfigPath is the config.toml the account is added to.
	ConfigPath string
	// Name and Email are the account's name and address; DisplayName
	// goes in its From headers.
	Name, Email, DisplayName string
	// Mode is ModeIMAP or ModePOP3; "" means IMAP if the provider has it,
	// else POP3 (POP3 when only a POP3 server is named).
	Mode Mode
	// IMAP, POP3 and SMTP name servers as "HOST" or "HOST:PORT"; empty
	// means discover. A protocol with a server named is probed there only.
	IMAP, POP3, SMTP string
	// Security is the security of the named incoming server and
	// SMTPSecurity that of the named SMTP server; "" means probe.
	// SecurityNone lets probing accept a port without TLS.
	Security, SMTPSecurity Security
	// Login is the login name; "" means the one discovery gave, or the
	// address.
	Login string
	// Password is the password: it is tested and, unless PasswordCmd is
	// set, kept in the keyring. With PasswordCmd and no Password, the
	// command's output is tested and nothing goes to the keyring.
	Password    string
	PasswordCmd string
	// TLSCA is a PEM file of CA certificates to trust (a private or
	// self-signed server).
	TLSCA string
	// POP3Policy is the pop3_policy ("keep", "delete", "keep-days:N").
	POP3Policy string

	// Auth is AuthOAuth2 to sign in at an identity provider instead of
	// with a password ("" and AuthPassword are a password).
	Auth AuthMethod
	// OAuth2 are the OAuth2 settings. A provider preset also names the
	// servers when IMAP, POP3 and SMTP are empty; an empty provider with
	// no endpoints is the preset of the address's domain, if any.
	OAuth2 OAuth2Settings
	// SignIn says how the OAuth2 sign-in runs (flow, prompt, browser).
	// The wait for the user is bounded by the flow, not by Timeout.
	SignIn SignInOptions
	// DataDir is the data directory: an OAuth2 account's token file
	// (when no keyring takes the refresh token) and its refresh lock
	// are in the account's directory under it.
	DataDir string

	// Configured, when set, is an account FindServers returned (the
	// wizard asks for the password between the two): AddAccount takes it
	// as it is instead of finding the servers again. LoginTested says its
	// login was tested with this password already.
	Configured  *AccountConfig
	LoginTested bool

	// Secrets keeps the password and runs password commands; nil means
	// the system keyring and RunPasswordCmd.
	Secrets *Secrets
	// Discoverer finds and probes the servers; nil means a default one.
	// Its TLS is set from TLSCA when nil, and AllowPlain when a security
	// is SecurityNone; its Log is Progress's.
	Discoverer *Discoverer
	// Dial opens the login test's connections; nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Progress, if set, receives the steps as they happen, for the
	// wizard's log or the command's stderr. It is called from the
	// goroutine that called AddAccount or FindServers.
	Progress func(AddProgress)
	// Timeout bounds the whole of AddAccount or FindServers;
	// DefaultAddTimeout when zero.
	Timeout time.Duration
}

// AddProgress is one line of progress: a step ("finding the servers of
// ann@example.com…", "testing the login…", "saving…"), or, with Detail,
// one thing discovery or probing tried.
type AddProgress struct {
	Text   string
	Detail bool
}

func (o *AddOptions) progress(text string, detail bool) {
	if o.Progress != nil {
		o.Progress(AddProgress{Text: text, Detail: detail})
	}
}

func (o *AddOptions) secrets() *Secrets {
	if o.Secrets == nil {
		return &Secrets{}
	}
	return o.Secrets
}

func (o *AddOptions) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultAddTimeout
}

// FindServers finds working servers for the account of opts: the servers
// named in opts (with their securities) or else those discovery finds,
// each probed; then it applies the user's settings (login, CA, POP3
// policy, display name, password command) and validates the result. It
// tests no login and saves nothing.
func FindServers(ctx context.Context, opts AddOptions) (AccountConfig, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	for _, s := range []struct {
		name string
		sec  Security
	}{{"--security", opts.Security}, {"--smtp-security", opts.SMTPSecurity}} {
		switch s.sec {
		case "", SecurityTLS, SecurityStartTLS, SecurityNone:
		default:
			return AccountConfig{}, fmt.Errorf("%s %q: want tls, starttls or none: %w", s.name, s.sec, ErrInvalidSetting)
		}
	}
	oauthOverrides, err := opts.oauth2Defaults()
	if err != nil {
		return AccountConfig{}, err
	}
	if opts.Auth == AuthOAuth2 {
		// The OAuth2 settings before any probe.
		if err := (AccountConfig{Auth: AuthOAuth2, OAuth2Settings: opts.OAuth2}).validateAuth(); err != nil {
			return AccountConfig{}, fmt.Errorf("%w: %w", err, ErrInvalidSetting)
		}
	}
	var overrides []Candidate
	for _, o := range []struct {
		proto Protocol
		host  string
		sec   Security
	}{{IMAP, opts.IMAP, opts.Security}, {POP3, opts.POP3, opts.Security}, {SMTP, opts.SMTP, opts.SMTPSecurity}} {
		if o.host == "" {
			continue
		}
		c, err := CandidateFor(o.proto, o.host)
		if err != nil {
			return AccountConfig{}, fmt.Errorf("%w: %w", err, ErrInvalidSetting)
		}
		c.Security = o.sec
		overrides = append(overrides, c)
	}
	if len(overrides) == 0 {
		overrides = oauthOverrides
	}
	mode := opts.Mode
	if mode == "" && opts.POP3 != "" && opts.IMAP == "" {
		mode = ModePOP3
	} else if mode == "" && opts.IMAP != "" {
		mode = ModeIMAP
	}
	d := opts.Discoverer
	if d == nil {
		d = &Discoverer{}
	}
	dd := *d
	if dd.TLS == nil {
		tc, err := TLSConfig(AccountConfig{TLSCA: opts.TLSCA}, "")
		if err != nil {
			return AccountConfig{}, err
		}
		dd.TLS = tc
	}
	dd.AllowPlain = dd.AllowPlain || opts.Security == SecurityNone || opts.SMTPSecurity == SecurityNone
	dd.Log = func(step string) { opts.progress(step, true) }
	opts.progress("finding the servers of "+opts.Email+"…", false)
	acct, err := dd.Configure(ctx, opts.Name, opts.Email, mode, overrides...)
	if err != nil {
		if !errors.Is(err, ErrNoServer) && ctx.Err() == nil {
			err = fmt.Errorf("%w: %w", err, ErrInvalidSetting)
		}
		return acct, err
	}
	if opts.Login != "" {
		acct.Login = opts.Login
	}
	acct.DisplayName, acct.TLSCA, acct.POP3Policy, acct.PasswordCmd = opts.DisplayName, opts.TLSCA, opts.POP3Policy, opts.PasswordCmd
	if opts.Auth == AuthOAuth2 {
		acct.Auth, acct.OAuth2Settings = AuthOAuth2, opts.OAuth2
	}
	if err := acct.Validate(); err != nil {
		return acct, fmt.Errorf("configure: %w: %w", err, ErrInvalidSetting)
	}
	return acct, nil
}

// Check reports a setting of opts that can never work, before anything
// is read, run or probed: the account name, the address, the mode, the
// security values, the POP3 policy and the servers' HOST[:PORT]. Its
// errors wrap ErrInvalidSetting. AddAccount calls it first; a caller
// that asks for the password itself calls it before asking. Options
// with Configured set are checked by AddAccount instead.
func (o *AddOptions) Check() error {
	if o.Configured != nil {
		return nil
	}
	if err := validName(o.Name); err != nil {
		return fmt.Errorf("add account: %w: %w", err, ErrInvalidSetting)
	}
	bad := func(err error) error { return fmt.Errorf("add account %s: %w: %w", o.Name, err, ErrInvalidSetting) }
	if _, err := emailDomain(o.Email); err != nil {
		return bad(err)
	}
	switch o.Mode {
	case "", ModeIMAP, ModePOP3:
	default:
		return bad(fmt.Errorf("--mode %q: want imap or pop3", o.Mode))
	}
	for _, s := range []struct {
		name string
		sec  Security
	}{{"--security", o.Security}, {"--smtp-security", o.SMTPSecurity}} {
		switch s.sec {
		case "", SecurityTLS, SecurityStartTLS, SecurityNone:
		default:
			return bad(fmt.Errorf("%s %q: want tls, starttls or none", s.name, s.sec))
		}
	}
	if _, err := ParsePOP3Policy(o.POP3Policy); err != nil {
		return bad(err)
	}
	for _, h := range []struct {
		proto Protocol
		host  string
	}{{IMAP, o.IMAP}, {POP3, o.POP3}, {SMTP, o.SMTP}} {
		if h.host == "" {
			continue
		}
		if _, err := CandidateFor(h.proto, h.host); err != nil {
			return bad(err)
		}
	}
	return nil
}

// AddAccount sets up a new account and adds it to config.toml: the name
// must be free; the password is opts.Password, or what opts.PasswordCmd
// prints; the servers are found (FindServers, unless opts.Configured);
// the login is tested on the incoming and SMTP servers (unless
// opts.LoginTested); the password goes to the keyring unless a password
// command is set (without a usable keyring that fails with ErrNoKeyring
// and the advice to set a password command); then the account is added
// to config.toml, written atomically with mode 0600. It returns the saved
// account. Nothing is saved when a step fails.
func AddAccount(ctx context.Context, opts AddOptions) (AccountConfig, error) {
	if err := opts.Check(); err != nil {
		return AccountConfig{}, err
	}
	if opts.Auth == AuthOAuth2 || (opts.Configured != nil && opts.Configured.IsOAuth2()) {
		return addOAuth2(ctx, opts)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	name := opts.Name
	if opts.Configured != nil {
		name = opts.Configured.Name
	}
	if err := validName(name); err != nil {
		return AccountConfig{}, fmt.Errorf("add account: %w: %w", err, ErrInvalidSetting)
	}
	cfg, err := LoadConfig(opts.ConfigPath)
	if err != nil {
		return AccountConfig{}, err
	}
	if _, err := cfg.Find(name); err == nil {
		return AccountConfig{}, fmt.Errorf("add account: %w: an account named %q is configured already", ErrAccountExists, name)
	}

	// The password first: nothing is probed for an account that cannot
	// log in.
	password := opts.Password
	if password == "" && opts.PasswordCmd != "" && !opts.LoginTested {
		run := opts.secrets().RunCmd
		if run == nil {
			run = RunPasswordCmd
		}
		if password, err = run(ctx, opts.PasswordCmd); err == nil && password == "" {
			err = errors.New("it printed nothing")
		}
		if err != nil {
			return AccountConfig{}, fmt.Errorf("add account %s: password command %q: %w", name, opts.PasswordCmd, err)
		}
	}
	if password == "" && opts.PasswordCmd == "" {
		return AccountConfig{}, fmt.Errorf("add account %s: %w: give the password, or a command that prints it", name, ErrNoPassword)
	}

	var acct AccountConfig
	if opts.Configured != nil {
		acct = *opts.Configured
		if opts.PasswordCmd != "" {
			acct.PasswordCmd = opts.PasswordCmd
		}
		if err := acct.Validate(); err != nil {
			return acct, fmt.Errorf("add account: %w: %w", err, ErrInvalidSetting)
		}
	} else if acct, err = FindServers(ctx, opts); err != nil {
		return acct, fmt.Errorf("add account %s: %w", name, err)
	}

	if !opts.LoginTested {
		opts.progress("testing the login…", false)
		if err := TestLogin(ctx, acct, password, opts.Dial); err != nil {
			return acct, fmt.Errorf("add account %s: nothing saved: %w", name, err)
		}
	}
	opts.progress("saving…", false)
	if acct.PasswordCmd == "" {
		if err := opts.secrets().Store(ctx, acct, password); err != nil {
			return acct, fmt.Errorf("add account %s: nothing saved: %w", name, err)
		}
	}
	// Read config.toml again: another process may have changed it while
	// the servers were probed.
	if cfg, err = LoadConfig(opts.ConfigPath); err != nil {
		return acct, err
	}
	if _, err := cfg.Find(name); err == nil {
		return acct, fmt.Errorf("add account: %w: an account named %q is configured already", ErrAccountExists, name)
	}
	if err := cfg.Add(acct); err != nil {
		return acct, err
	}
	if err := cfg.Save(opts.ConfigPath); err != nil {
		return acct, err
	}
	return acct, nil
}
