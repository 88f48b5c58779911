package accounts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Mode is how an account receives mail.
type Mode string

// The receiving modes.
const (
	ModeIMAP Mode = "imap" // two-way sync with an IMAP server
	ModePOP3 Mode = "pop3" // download from a POP3 server
)

// Security is how a connection to a server is protected.
type Security string

// The connection security values, as written in config.toml.
const (
	SecurityTLS      Security = "tls"      // implicit TLS from the first byte (RFC 8314)
	SecurityStartTLS Security = "starttls" // plain greeting, then STARTTLS/STLS
	SecurityNone     Security = "none"     // no encryption at all
)

// Config is the client configuration: the contents of config.toml.
// It never holds a password; see Secrets.
type Config struct {
	// Accounts are the [[account]] tables, in file order.
	Accounts []AccountConfig `toml:"account"`
	// Keys, Theme and UI are the interface's [keys], [theme] and [ui]
	// tables. This package keeps them (Save writes them back) but does not
	// read them: the ui package does (see ui.LoadSettingsWith).
	Keys  map[string]any `toml:"keys,omitempty"`
	Theme map[string]any `toml:"theme,omitempty"`
	UI    map[string]any `toml:"ui,omitempty"`
}

// AccountConfig is one [[account]] table of config.toml.
type AccountConfig struct {
	// Name identifies the account on the command line, in the keyring
	// and on disk; it matches [A-Za-z0-9._-]+.
	Name string `toml:"name"`
	// Email is the account's address, as in "ann@example.com".
	Email string `toml:"email"`
	// DisplayName is the name put in From headers.
	DisplayName string `toml:"display_name,omitempty"`
	// Mode says which of IMAP and POP3 is the incoming server.
	Mode Mode `toml:"mode"`
	// IMAP is the incoming server when Mode is imap.
	IMAP ServerConfig `toml:"imap,omitempty"`
	// POP3 is the incoming server when Mode is pop3.
	POP3 ServerConfig `toml:"pop3,omitempty"`
	// SMTP is the submission server.
	SMTP ServerConfig `toml:"smtp"`
	// Login is the user name for all servers; empty means Email.
	Login string `toml:"login,omitempty"`
	// PasswordCmd is a shell command that prints the password, used when
	// the OS keyring has none (for example "pass show mail/work").
	PasswordCmd string `toml:"password_cmd,omitempty"`
	// Auth is how the account signs in: AuthPassword (when empty) or
	// AuthOAuth2, with the settings of OAuth2Settings (oauth2_* keys).
	Auth AuthMethod `toml:"auth,omitempty"`
	OAuth2Settings
	// TLSCA is the path of a PEM file of the CA certificates to trust
	// instead of the system roots (for a private or self-signed server).
	TLSCA string `toml:"tls_ca,omitempty"`
	// POP3Policy is what happens to mail on a POP3 server after download:
	// "keep" (the default), "delete" or "keep-days:N". See ParsePOP3Policy.
	POP3Policy string `toml:"pop3_policy,omitempty"`
	// POP3DeleteLocal makes a local delete also delete the message on the
	// POP3 server.
	POP3DeleteLocal bool `toml:"pop3_delete_local,omitempty"`
	// SyncWindow is which bodies are downloaded: "all" (the default),
	// "days:N" or "on-open". See ParseBodyPolicy.
	SyncWindow string `toml:"sync_window,omitempty"`
	// Signature is appended to composed messages.
	Signature string `toml:"signature,omitempty"`
	// Folders overrides the discovered special-use folders.
	Folders Folders `toml:"folders,omitempty"`
	// SubscribedOnly limits IMAP sync to subscribed folders; nil means
	// true. Use OnlySubscribed to read it.
	SubscribedOnly *bool `toml:"subscribed_only,omitempty"`

	// ConnectTimeout bounds each step of connecting to a server (TCP,
	// TLS handshake, greeting), as "30s"; 30 s when not set.
	ConnectTimeout time.Duration `toml:"connect_timeout,omitzero"`
	// CommandTimeout is how long a server may stay silent while a reply
	// is due, as "60s"; 60 s when not set. A long download that keeps
	// flowing never times out, and IMAP IDLE is exempt.
	CommandTimeout time.Duration `toml:"command_timeout,omitzero"`
	// MaxMessageSize is the largest message (an IMAP literal, a POP3
	// RETR) accepted from the server, in bytes; 100 MiB when not set.
	MaxMessageSize int64 `toml:"max_message_size,omitzero"`
	// PollInterval is how often sync --watch asks an IMAP server without
	// NOTIFY (RFC 5465) for the status of the other folders, as "5m";
	// 5 minutes when not set.
	PollInterval time.Duration `toml:"poll_interval,omitzero"`
}

// ServerConfig is the address and security of one server.
type ServerConfig struct {
	// Host is the server's DNS name or IP address.
	Host string `toml:"host,omitempty"`
	// Port is the TCP port; 0 means the protocol's default for Security.
	Port int `toml:"port,omitzero"`
	// Security is tls, starttls or none; empty means tls.
	Security Security `toml:"security,omitempty"`
}

// Folders names the mailboxes that play a special role. An empty field
// means the role is discovered (IMAP SPECIAL-USE, RFC 6154) or defaulted.
type Folders struct {
	Sent    string `toml:"sent,omitempty"`    // where sent mail is kept
	Drafts  string `toml:"drafts,omitempty"`  // where drafts are saved
	Trash   string `toml:"trash,omitempty"`   // where deleted mail goes
	Archive string `toml:"archive,omitempty"` // where archived mail goes
	Junk    string `toml:"junk,omitempty"`    // where spam is kept
}

// ErrUnknownAccount is returned (wrapped) by Find and Remove when no
// account has the name.
var ErrUnknownAccount = errors.New("no such account")

// DefaultConfigPath returns $XDG_CONFIG_HOME/letterbox/config.toml, or
// ~/.config/letterbox/config.toml when XDG_CONFIG_HOME is unset.
func DefaultConfigPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("config path: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "letterbox", "config.toml"), nil
}

// Username returns the login, which defaults to the e-mail address.
func (a AccountConfig) Username() string {
	if a.Login != "" {
		return a.Login
	}
	return a.Email
}

// Incoming returns the IMAP or the POP3 server, according to Mode.
func (a AccountConfig) Incoming() ServerConfig {
	if a.Mode == ModePOP3 {
		return a.POP3
	}
	return a.IMAP
}

// OnlySubscribed reports whether only subscribed folders are synced
// (subscribed_only, true when not set).
func (a AccountConfig) OnlySubscribed() bool {
	return a.SubscribedOnly == nil || *a.SubscribedOnly
}

// DataDir returns the directory of the account's local store under base:
// base/accounts/<name>.
func (a AccountConfig) DataDir(base string) string {
	return filepath.Join(base, "accounts", a.Name)
}

// Find returns the account called name, or an error wrapping
// ErrUnknownAccount that lists the configured names.
func (c *Config) Find(name string) (*AccountConfig, error) {
	for i := range c.Accounts {
		if c.Accounts[i].Name == name {
			return &c.Accounts[i], nil
		}
	}
	return nil, c.unknown(name)
}

// Add validates acct and appends it; the name must not be in use (the
// error wraps ErrAccountExists).
func (c *Config) Add(acct AccountConfig) error {
	if err := acct.Validate(); err != nil {
		return fmt.Errorf("add account: %w", err)
	}
	if _, err := c.Find(acct.Name); err == nil {
		return fmt.Errorf("add account: %w: an account named %q already exists", ErrAccountExists, acct.Name)
	}
	c.Accounts = append(c.Accounts, acct)
	return nil
}

// Remove deletes the account called name from the configuration. It does
// not touch the account's password or local mail.
func (c *Config) Remove(name string) error {
	i := slices.IndexFunc(c.Accounts, func(a AccountConfig) bool { return a.Name == name })
	if i < 0 {
		return fmt.Errorf("remove account: %w", c.unknown(name))
	}
	c.Accounts = slices.Delete(c.Accounts, i, i+1)
	return nil
}

func (c *Config) unknown(name string) error {
	if len(c.Accounts) == 0 {
		return fmt.Errorf("%w %q: no accounts are configured", ErrUnknownAccount, name)
	}
	names := make([]string, len(c.Accounts))
	for i, a := range c.Accounts {
		names[i] = a.Name
	}
	return fmt.Errorf("%w %q (accounts: %s)", ErrUnknownAccount, name, strings.Join(names, ", "))
}
