package server

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/letterbox-mail/letterbox/server/backend"
	imapd "github.com/letterbox-mail/letterbox/server/imap"
	pop3d "github.com/letterbox-mail/letterbox/server/pop3"
	smtpd "github.com/letterbox-mail/letterbox/server/smtp"
)

// AuthConfig is the [auth] table: password logins.
type AuthConfig struct {
	// Password allows password logins (IMAP LOGIN and AUTHENTICATE
	// PLAIN, POP3 USER/PASS and AUTH PLAIN, SMTP AUTH PLAIN and LOGIN);
	// true when unset. False leaves OAuth2 as the only way in.
	Password *bool `toml:"password"`
	// PasswordOff names listeners without password logins ("imaps",
	// "submission", ...), where only OAuth2 is accepted.
	PasswordOff []string `toml:"password_off"`
}

// OAuth2Config is the [oauth2] table: logins with OAuth2 bearer tokens
// (SASL OAUTHBEARER and XOAUTH2) validated against an identity provider.
// OAuth2 is off while Issuer and IntrospectionURL are both empty.
type OAuth2Config struct {
	// Issuer is the identity provider's issuer URL (its discovery
	// document is Issuer/.well-known/openid-configuration).
	Issuer string `toml:"issuer"`
	// Mode is "jwks" (signed JWT access tokens checked with the
	// issuer's keys) or "introspection" (RFC 7662); "jwks" unless
	// introspection_url is set.
	Mode string `toml:"mode"`
	// Audience must be in the token's "aud" (required for jwks).
	Audience string `toml:"audience"`
	// Claim holds the user's address; "email" when empty.
	Claim string `toml:"claim"`
	// Scope, when set, must be among the token's scopes.
	Scope string `toml:"scope"`
	// Algorithms allowed for signatures (jwks); the issuer's when empty.
	Algorithms []string `toml:"algorithms"`
	// IntrospectionURL, ClientID and ClientSecretFile: the endpoint
	// (from discovery when empty) and our credentials there.
	IntrospectionURL string `toml:"introspection_url"`
	ClientID         string `toml:"client_id"`
	ClientSecretFile string `toml:"client_secret_file"`
	// CacheTTL bounds how long an introspection answer is kept (and so
	// how long a revoked token may still work here); "0s" disables the
	// cache. CacheSize bounds its entries.
	CacheTTL  *duration `toml:"cache_ttl"`
	CacheSize int       `toml:"cache_size"`
	// CAFile is a PEM bundle of CAs trusted for the issuer, instead of
	// the system's.
	CAFile string `toml:"ca_file"`
}

// Enabled reports whether OAuth2 logins are configured.
func (o *OAuth2Config) Enabled() bool { return o.Issuer != "" || o.IntrospectionURL != "" }

// authListeners are the listeners with logins.
var authListeners = []string{"submission", "smtps", "imap", "imaps", "pop3", "pop3s"}

// finishAuth checks [auth] and [oauth2].
func (c *Config) finishAuth() error {
	for _, l := range c.Auth.PasswordOff {
		if !slices.Contains(authListeners, l) {
			return fmt.Errorf("config: auth.password_off: %q is not a listener with logins (%s)", l, strings.Join(authListeners, ", "))
		}
	}
	o := &c.OAuth2
	if !o.Enabled() {
		if c.Auth.Password != nil && !*c.Auth.Password {
			return fmt.Errorf("config: auth.password = false needs [oauth2], or nobody can log in")
		}
		if len(c.Auth.PasswordOff) > 0 {
			return fmt.Errorf("config: auth.password_off needs [oauth2], or nobody can log in there")
		}
		return nil
	}
	if o.Mode == "" {
		o.Mode = backend.ModeJWKS
		if o.IntrospectionURL != "" {
			o.Mode = backend.ModeIntrospection
		}
	}
	switch o.Mode {
	case backend.ModeJWKS:
		if o.Issuer == "" || o.Audience == "" {
			return fmt.Errorf("config: oauth2 mode jwks needs issuer and audience")
		}
	case backend.ModeIntrospection:
		if o.ClientID == "" || o.ClientSecretFile == "" {
			return fmt.Errorf("config: oauth2 mode introspection needs client_id and client_secret_file")
		}
	default:
		return fmt.Errorf("config: oauth2.mode %q is not jwks or introspection", o.Mode)
	}
	return nil
}

// PasswordAllowed reports whether password logins are accepted on the
// named listener.
func (c *Config) PasswordAllowed(listener string) bool {
	if c.Auth.Password != nil && !*c.Auth.Password {
		return false
	}
	return !slices.Contains(c.Auth.PasswordOff, listener)
}

// oauthOptions turns [oauth2] into the backend's options, reading the
// client secret and the CA file; nil when OAuth2 is off.
func (c *Config) oauthOptions() (*backend.OAuthOptions, error) {
	o := c.OAuth2
	if !o.Enabled() {
		return nil, nil
	}
	opts := &backend.OAuthOptions{Mode: o.Mode, Issuer: o.Issuer, Audience: o.Audience, Claim: o.Claim,
		Scope: o.Scope, Algorithms: o.Algorithms, IntrospectionURL: o.IntrospectionURL, ClientID: o.ClientID,
		CacheSize: o.CacheSize}
	if o.CacheTTL != nil {
		opts.CacheTTL = o.CacheTTL.Duration
		if opts.CacheTTL <= 0 {
			opts.CacheTTL = -1
		}
	}
	if o.ClientSecretFile != "" {
		b, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("oauth2 client secret: %w", err)
		}
		opts.ClientSecret = strings.TrimSpace(string(b))
		if opts.ClientSecret == "" {
			return nil, fmt.Errorf("oauth2 client secret: %s is empty", o.ClientSecretFile)
		}
	}
	if o.CAFile != "" {
		b, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("oauth2 ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("oauth2 ca_file %s: no PEM certificate", o.CAFile)
		}
		opts.RootCAs = pool
	}
	return opts, nil
}

// serveFunc is how svc serves the listener name: with its per-listener
// options (password logins off) where the protocol has them.
func (s *Server) serveFunc(name string, svc service) func(net.Listener) error {
	noPassword := !s.cfg.PasswordAllowed(name)
	switch v := svc.(type) {
	case *imapd.Server:
		return func(l net.Listener) error { return v.ServeListener(l, imapd.ListenerOptions{NoPassword: noPassword}) }
	case *pop3d.Server:
		return func(l net.Listener) error { return v.ServeListener(l, pop3d.ListenerOptions{NoPassword: noPassword}) }
	case *smtpd.Server:
		return func(l net.Listener) error { return v.ServeListener(l, smtpd.ListenerOptions{NoPassword: noPassword}) }
	}
	return svc.Serve
}
