package accounts

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// AuthMethod is how an account signs in to its servers.
type AuthMethod string

// The sign-in methods, as written in config.toml (auth = "...").
const (
	// AuthPassword is a password (LOGIN, AUTH PLAIN), the default.
	AuthPassword AuthMethod = "password"
	// AuthOAuth2 is a bearer token from an identity provider (SASL
	// OAUTHBEARER or XOAUTH2, RFC 7628), obtained by signing in once
	// (the device grant or the browser) and refreshed by letterbox.
	AuthOAuth2 AuthMethod = "oauth2"
)

// The OAuth2 providers letterbox has presets for (oauth2_provider).
const (
	ProviderGoogle    = "google"
	ProviderMicrosoft = "microsoft"
	ProviderCustom    = "custom"
)

// OAuth2Settings are the oauth2_* keys of an account that signs in with
// OAuth2. A provider preset (google, microsoft) fills the endpoints and
// scopes left empty; custom needs them. Secrets are never here: the
// refresh token is in the OS keyring (or the account's token file), the
// client secret comes from a command.
type OAuth2Settings struct {
	// OAuth2Provider is google, microsoft or custom (when empty).
	OAuth2Provider string `toml:"oauth2_provider,omitempty"`
	// OAuth2ClientID is the client id registered at the provider (see
	// the README: no client id ships with letterbox).
	OAuth2ClientID string `toml:"oauth2_client_id,omitempty"`
	// OAuth2ClientSecretCmd prints the client secret, for providers
	// that want one even from a desktop app (Google).
	OAuth2ClientSecretCmd string `toml:"oauth2_client_secret_cmd,omitempty"`
	// OAuth2AuthURL, OAuth2TokenURL and OAuth2DeviceURL are the
	// authorization, token and device authorization endpoints (RFC
	// 6749 section 3, RFC 8628 section 3.1); empty takes the preset's.
	OAuth2AuthURL   string `toml:"oauth2_auth_url,omitempty"`
	OAuth2TokenURL  string `toml:"oauth2_token_url,omitempty"`
	OAuth2DeviceURL string `toml:"oauth2_device_url,omitempty"`
	// OAuth2Scopes are the scopes asked for; empty takes the preset's.
	OAuth2Scopes []string `toml:"oauth2_scopes,omitempty"`
	// OAuth2TokenCmd, when set, prints a current access token (as
	// mutt_oauth2.py or oama do): letterbox then keeps no token of its
	// own and runs it for each login (and once more after a refusal).
	OAuth2TokenCmd string `toml:"oauth2_token_cmd,omitempty"`
}

// IsOAuth2 reports whether the account signs in with OAuth2.
func (a AccountConfig) IsOAuth2() bool { return a.Auth == AuthOAuth2 }

// set reports whether any oauth2_* key is set.
func (o OAuth2Settings) set() bool {
	return o.OAuth2Provider != "" || o.OAuth2ClientID != "" || o.OAuth2ClientSecretCmd != "" || o.OAuth2AuthURL != "" ||
		o.OAuth2TokenURL != "" || o.OAuth2DeviceURL != "" || len(o.OAuth2Scopes) > 0 || o.OAuth2TokenCmd != ""
}

// validateAuth checks auth and the oauth2_* keys.
func (a AccountConfig) validateAuth() error {
	switch a.Auth {
	case "", AuthPassword:
		if a.OAuth2Settings.set() {
			return errors.New(`oauth2_* settings are set but auth is not "oauth2"`)
		}
		return nil
	case AuthOAuth2:
	default:
		return fmt.Errorf(`auth %q: want "password" or "oauth2"`, a.Auth)
	}
	if a.PasswordCmd != "" {
		return errors.New(`password_cmd is set but auth is "oauth2" (an OAuth2 account has no password; oauth2_token_cmd prints an access token)`)
	}
	o := a.OAuth2Settings
	for _, c := range []struct{ key, v string }{{"oauth2_client_id", o.OAuth2ClientID},
		{"oauth2_client_secret_cmd", o.OAuth2ClientSecretCmd}, {"oauth2_token_cmd", o.OAuth2TokenCmd}} {
		if hasControl(c.v) {
			return fmt.Errorf("%s contains a control character", c.key)
		}
	}
	for _, u := range []struct{ key, v string }{{"oauth2_auth_url", o.OAuth2AuthURL},
		{"oauth2_token_url", o.OAuth2TokenURL}, {"oauth2_device_url", o.OAuth2DeviceURL}} {
		if err := checkEndpointURL(u.v); err != nil {
			return fmt.Errorf("%s %q: %w", u.key, u.v, err)
		}
	}
	for _, s := range o.OAuth2Scopes {
		if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == '\\' || r == 0x7f }) {
			return fmt.Errorf("oauth2_scopes: %q is not a scope (RFC 6749 section 3.3)", s)
		}
	}
	in := "imap"
	if a.Mode == ModePOP3 {
		in = "pop3"
	}
	for _, c := range []struct {
		field string
		srv   ServerConfig
	}{{in, a.Incoming()}, {"smtp", a.SMTP}} {
		if c.srv.Security == SecurityNone && !loopbackHost(c.srv.Host) {
			return fmt.Errorf(`%s.security is "none": an OAuth2 token must not cross the network in clear (RFC 6750 section 5.3): use tls or starttls`, c.field)
		}
	}
	if o.OAuth2TokenCmd != "" {
		return nil // the command does the rest
	}
	switch o.OAuth2Provider {
	case ProviderGoogle, ProviderMicrosoft:
	case "", ProviderCustom:
		if o.OAuth2TokenURL == "" || (o.OAuth2AuthURL == "" && o.OAuth2DeviceURL == "") {
			return errors.New(`oauth2_provider is custom: oauth2_token_url and oauth2_auth_url or oauth2_device_url are needed`)
		}
	default:
		return fmt.Errorf(`oauth2_provider %q: want "google", "microsoft" or "custom"`, o.OAuth2Provider)
	}
	if o.OAuth2ClientID == "" {
		return errors.New("oauth2_client_id is empty: register letterbox with the provider (README, \"OAuth2\") and give its client id")
	}
	if len(a.OAuth2Endpoint().Scopes) == 0 {
		return errors.New("oauth2_scopes is empty: a custom provider needs the scopes that open mail")
	}
	return nil
}

// loopbackHost reports whether host is this machine: localhost or a
// loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkEndpointURL accepts an empty URL, an https URL, or an http URL
// on a loopback address (a provider on the same machine).
func checkEndpointURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("not an absolute URL without credentials")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return errors.New("not https (tokens must not cross the network in clear)")
}

// OAuth2Endpoint is an account's identity provider with the preset
// applied: what the sign-in and the refresh use.
type OAuth2Endpoint struct {
	Provider                     string
	AuthURL, TokenURL, DeviceURL string
	Scopes                       []string
	// RedirectHost is the host of the loopback redirect of the browser
	// flow: 127.0.0.1 (RFC 8252 section 7.3), or localhost for
	// Microsoft, which registers http://localhost.
	RedirectHost string
	// AuthParams are extra parameters of the authorization request
	// (Google gives a refresh token only with access_type=offline).
	AuthParams map[string]string
}

// OAuth2Endpoint returns the account's provider: the preset of
// oauth2_provider with what the account sets instead.
func (a AccountConfig) OAuth2Endpoint() OAuth2Endpoint {
	o := a.OAuth2Settings
	e := OAuth2Endpoint{Provider: ProviderCustom, RedirectHost: "127.0.0.1"}
	if p, ok := LookupProvider(o.OAuth2Provider); ok {
		e = OAuth2Endpoint{Provider: p.Name, AuthURL: p.AuthURL, TokenURL: p.TokenURL, DeviceURL: p.DeviceURL,
			Scopes: slices.Clone(p.Scopes), RedirectHost: p.RedirectHost, AuthParams: p.AuthParams}
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&e.AuthURL, o.OAuth2AuthURL}, {&e.TokenURL, o.OAuth2TokenURL}, {&e.DeviceURL, o.OAuth2DeviceURL}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if len(o.OAuth2Scopes) > 0 {
		e.Scopes = slices.Clone(o.OAuth2Scopes)
	}
	return e
}
