package accounts

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Protocol is a mail protocol the client speaks to a server.
type Protocol string

// The protocols.
const (
	IMAP Protocol = "imap"
	POP3 Protocol = "pop3"
	SMTP Protocol = "smtp" // submission
)

// DefaultPort returns the usual port of proto with sec: 993/143 for IMAP,
// 995/110 for POP3, 465/587 for SMTP (RFC 8314 §3.3 and §3.1, RFC 6409).
func DefaultPort(proto Protocol, sec Security) int {
	tls := sec == "" || sec == SecurityTLS
	switch {
	case proto == IMAP && tls:
		return 993
	case proto == IMAP:
		return 143
	case proto == POP3 && tls:
		return 995
	case proto == POP3:
		return 110
	case tls:
		return 465
	}
	return 587
}

// WithDefaults returns s with an empty Security set to tls and a zero
// Port set to DefaultPort(proto, Security).
func (s ServerConfig) WithDefaults(proto Protocol) ServerConfig {
	if s.Security == "" {
		s.Security = SecurityTLS
	}
	if s.Port == 0 {
		s.Port = DefaultPort(proto, s.Security)
	}
	return s
}

// Validate checks every account and that no two share a name. The error
// names the account and the field.
func (c *Config) Validate() error {
	seen := make(map[string]bool, len(c.Accounts))
	for i, a := range c.Accounts {
		if err := a.Validate(); err != nil {
			if a.Name == "" {
				return fmt.Errorf("account %d: %w", i+1, err)
			}
			return err
		}
		if seen[a.Name] {
			return fmt.Errorf("account %q: the name is used by two accounts", a.Name)
		}
		seen[a.Name] = true
	}
	return nil
}

// Validate checks one account; the error names it and the bad field.
func (a AccountConfig) Validate() error {
	if err := validName(a.Name); err != nil {
		return err
	}
	if err := a.validateFields(); err != nil {
		return fmt.Errorf("account %q: %w", a.Name, err)
	}
	return nil
}

func (a AccountConfig) validateFields() error {
	if a.Email == "" {
		return errors.New("email is empty")
	}
	if addr, err := mail.ParseAddress(a.Email); err != nil || addr.Address != a.Email || addr.Name != "" {
		return fmt.Errorf("email %q is not a plain address like ann@example.com", a.Email)
	}
	if hasControl(a.DisplayName) {
		return errors.New("display_name contains a control character")
	}
	switch a.Mode {
	case ModeIMAP:
		if a.IMAP.Host == "" {
			return errors.New(`mode is "imap" but imap.host is empty`)
		}
	case ModePOP3:
		if a.POP3.Host == "" {
			return errors.New(`mode is "pop3" but pop3.host is empty`)
		}
	case "":
		return errors.New(`mode is empty: want "imap" or "pop3"`)
	default:
		return fmt.Errorf(`mode %q: want "imap" or "pop3"`, a.Mode)
	}
	if a.SMTP.Host == "" {
		return errors.New("smtp.host is empty")
	}
	for _, s := range []struct {
		field string
		srv   ServerConfig
	}{{"imap", a.IMAP}, {"pop3", a.POP3}, {"smtp", a.SMTP}} {
		if err := s.srv.validate(); err != nil {
			return fmt.Errorf("%s.%w", s.field, err)
		}
	}
	if hasControl(a.Login) {
		return errors.New("login contains a control character")
	}
	if err := a.validateAuth(); err != nil {
		return err
	}
	if _, err := ParsePOP3Policy(a.POP3Policy); err != nil {
		return err
	}
	if _, err := ParseBodyPolicy(a.SyncWindow); err != nil {
		return err
	}
	if err := a.validateLimits(); err != nil {
		return err
	}
	for _, f := range []struct{ field, name string }{
		{"sent", a.Folders.Sent}, {"drafts", a.Folders.Drafts}, {"trash", a.Folders.Trash},
		{"archive", a.Folders.Archive}, {"junk", a.Folders.Junk},
	} {
		if hasControl(f.name) {
			return fmt.Errorf("folders.%s contains a control character", f.field)
		}
	}
	return nil
}

// validate checks a server; its error starts with the field name so the
// caller can prefix the table ("imap." + "port 0 …").
func (s ServerConfig) validate() error {
	if s.Host != "" && !validHost(s.Host) {
		return fmt.Errorf("host %q is not a host name or IP address", s.Host)
	}
	if s.Port < 0 || s.Port > 65535 {
		return fmt.Errorf("port %d is not a TCP port (1-65535)", s.Port)
	}
	switch s.Security {
	case "", SecurityTLS, SecurityStartTLS, SecurityNone:
	default:
		return fmt.Errorf(`security %q: want "tls", "starttls" or "none"`, s.Security)
	}
	return nil
}

// validName checks an account name: [A-Za-z0-9._-], not "." or "..",
// at most 64 bytes, because it becomes a directory and a keyring user.
func validName(name string) error {
	switch {
	case name == "":
		return errors.New("name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("account name %q is not allowed", name)
	case len(name) > 64:
		return fmt.Errorf("account name %q is longer than 64 characters", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("account name %q: use only letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// validHost accepts a DNS name or an IP address literal: letters, digits,
// '-', '.', ':' (IPv6), '_' (seen in the wild), at most 253 bytes.
func validHost(h string) bool {
	if h == "" || len(h) > 253 || strings.HasPrefix(h, "-") || strings.HasPrefix(h, ".") {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '.' || r == ':' || r == '_') {
			return false
		}
	}
	return true
}

// hasControl reports whether s has a control character such as CR or LF,
// which must never reach a protocol line or a header.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// validateLimits checks the timeouts and sizes; zero means the default.
func (a AccountConfig) validateLimits() error {
	for _, d := range []struct {
		field    string
		v        time.Duration
		min, max time.Duration
	}{
		{"connect_timeout", a.ConnectTimeout, time.Second, time.Hour},
		{"command_timeout", a.CommandTimeout, time.Second, time.Hour},
		{"poll_interval", a.PollInterval, 10 * time.Second, 24 * time.Hour},
	} {
		if d.v != 0 && (d.v < d.min || d.v > d.max) {
			return fmt.Errorf("%s %s: want between %s and %s (or leave it out for the default)", d.field, d.v, d.min, d.max)
		}
	}
	if a.MaxMessageSize != 0 && a.MaxMessageSize < 1<<20 {
		return fmt.Errorf("max_message_size %d: want at least 1048576 bytes (1 MiB)", a.MaxMessageSize)
	}
	return nil
}
