package backend

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// OAuth2 modes (OAuthOptions.Mode).
const (
	// ModeJWKS validates signed JWT access tokens with the keys the
	// issuer publishes (OIDC discovery, then its jwks_uri).
	ModeJWKS = "jwks"
	// ModeIntrospection asks the issuer about each token (RFC 7662).
	ModeIntrospection = "introspection"
)

// Defaults of OAuthOptions.
const (
	DefaultOAuthClaim      = "email"
	DefaultIntrospectCache = 10000
	DefaultIntrospectTTL   = time.Minute
	// DefaultJWKSMinRefresh is the least time between two fetches of the
	// JWKS for tokens whose key id is unknown: a spray of made-up key
	// ids cannot turn us into a flood against the issuer.
	DefaultJWKSMinRefresh = 30 * time.Second
	// oauthHTTPTimeout bounds each request to the issuer.
	oauthHTTPTimeout = 10 * time.Second
)

// ErrOAuthUnavailable means a token could not be checked (the issuer is
// down, or answered nonsense): a temporary failure, not a bad token.
var ErrOAuthUnavailable = errors.New("OAuth2 token validation unavailable")

// TokenError is a token that was checked and refused: expired, not for
// us, badly signed, inactive, or for nobody here. It matches
// ErrAuthFailed with errors.Is. Status is the RFC 6750 section 3.1 error
// code of the RFC 7628 section 3.2.2 challenge; Reason is for the log and
// never holds the token.
type TokenError struct {
	Status string
	Reason string
}

func (e *TokenError) Error() string { return "token refused: " + e.Reason }

// Is makes a TokenError an ErrAuthFailed.
func (e *TokenError) Is(target error) bool { return target == ErrAuthFailed }

func invalidToken(format string, args ...any) *TokenError {
	return &TokenError{Status: "invalid_token", Reason: fmt.Sprintf(format, args...)}
}

// TokenInfo is what a good token says.
type TokenInfo struct {
	// Identity is the value of the configured claim (OAuthOptions.Claim):
	// the address of the local user.
	Identity string
	Subject  string
	Expiry   time.Time
	Scopes   []string
}

// TokenVerifier checks bearer access tokens. Verify returns a
// *TokenError for a token it refuses and an error wrapping
// ErrOAuthUnavailable when it cannot tell.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*TokenInfo, error)
}

// OAuthOptions configure the validation of OAuth2 bearer tokens (the
// server's [oauth2] section).
type OAuthOptions struct {
	// Mode is ModeJWKS or ModeIntrospection.
	Mode string
	// Issuer is the issuer URL: its discovery document is
	// Issuer/.well-known/openid-configuration, and tokens must carry it
	// as "iss" (introspection: when the answer has one).
	Issuer string
	// Audience must be among the token's "aud" (required for ModeJWKS;
	// checked when set for ModeIntrospection).
	Audience string
	// Claim names the claim holding the user's address; "email" when
	// empty. A token with "email_verified": false is refused when it is
	// "email".
	Claim string
	// Scope, when set, must be among the token's scopes.
	Scope string
	// Algorithms are the allowed JWS algorithms (ModeJWKS); those the
	// issuer's discovery lists (or RS256) when empty. Only asymmetric
	// ones are allowed.
	Algorithms []string
	// IntrospectionURL, ClientID and ClientSecret are the introspection
	// endpoint and our credentials there (ModeIntrospection; the URL
	// comes from discovery when empty).
	IntrospectionURL, ClientID, ClientSecret string
	// CacheSize and CacheTTL bound the cache of introspection answers:
	// an answer is kept until CacheTTL passes or the token expires,
	// whichever is first. DefaultIntrospectCache and
	// DefaultIntrospectTTL when zero; a negative CacheTTL disables it.
	CacheSize int
	CacheTTL  time.Duration
	// JWKSMinRefresh is DefaultJWKSMinRefresh when zero; negative lets
	// every unknown key id fetch the JWKS.
	JWKSMinRefresh time.Duration
	// HTTPClient talks to the issuer; one with a 10 s timeout and the
	// system roots (plus RootCAs) when nil.
	HTTPClient *http.Client
	// RootCAs, when set, is the pool of CAs trusted for the issuer
	// (a private CA); the system roots otherwise.
	RootCAs *x509.CertPool
	// Now is the clock of expiry checks; the Backend's when nil.
	Now func() time.Time
}

// NewTokenVerifier returns the verifier opts describe.
func NewTokenVerifier(opts OAuthOptions) (TokenVerifier, error) {
	if opts.Claim == "" {
		opts.Claim = DefaultOAuthClaim
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if opts.RootCAs != nil {
			tr.TLSClientConfig = &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
		}
		opts.HTTPClient = &http.Client{Timeout: oauthHTTPTimeout, Transport: tr}
	}
	if opts.Issuer == "" && (opts.Mode == ModeJWKS || opts.IntrospectionURL == "") {
		return nil, errors.New("oauth2: no issuer")
	}
	switch opts.Mode {
	case ModeJWKS:
		if opts.Audience == "" {
			return nil, errors.New("oauth2: jwks mode needs an audience")
		}
		for _, a := range opts.Algorithms {
			if !slices.Contains(allowedAlgs, a) {
				return nil, fmt.Errorf("oauth2: algorithm %q is not allowed (one of %s)", a, strings.Join(allowedAlgs, ", "))
			}
		}
		return newJWKSVerifier(opts), nil
	case ModeIntrospection:
		if opts.ClientID == "" {
			return nil, errors.New("oauth2: introspection needs a client_id and secret")
		}
		return newIntrospector(opts), nil
	}
	return nil, fmt.Errorf("oauth2: unknown mode %q (jwks or introspection)", opts.Mode)
}

// OAuthEnabled reports whether OAuth2 logins are configured.
func (b *Backend) OAuthEnabled() bool { return b.oauth != nil }

// AuthenticateToken checks an OAuth2 bearer token from remote and
// returns the canonical address of the local user it belongs to: the
// value of the configured claim, which must name an existing user of a
// local domain, and match authzid when the client gave one (OAUTHBEARER's
// a=, XOAUTH2's user=). The login penalty applies as for passwords: a
// refused token counts as a failed login of authzid (or of the token's
// user), an address with failures waits before every answer, and an
// account locked out for the address is refused with ErrThrottled.
// Errors: a *TokenError (ErrAuthFailed) for a token refused,
// ErrThrottled, an error wrapping ErrOAuthUnavailable when the token could
// not be checked, or ctx's error.
func (b *Backend) AuthenticateToken(ctx context.Context, authzid, token string, remote net.Addr) (string, error) {
	if b.oauth == nil {
		return "", &TokenError{Status: "invalid_request", Reason: "OAuth2 is not configured"}
	}
	ip := penaltyKey(remote)
	hint := b.LoginName(authzid)
	delay, locked := b.check(ip, hint, b.opts.Now())
	if locked {
		b.log.Warn("auth locked out", "remote", ip, "user", hint, "mech", "oauth2")
		if err := b.opts.Sleep(ctx, delay); err != nil {
			return "", err
		}
		return "", ErrThrottled
	}
	user, err := b.tokenUser(ctx, hint, token)
	var te *TokenError
	switch {
	case errors.As(err, &te):
		account := hint
		if account == "" {
			account = user
		}
		delay = b.fail(ip, account, b.opts.Now())
		b.log.Info("auth failed", "remote", ip, "user", account, "mech", "oauth2", "reason", te.Reason, "delay", delay)
	case err != nil:
		b.log.Warn("oauth2 token not checked", "remote", ip, "user", hint, "err", err)
	default:
		if d, locked := b.check(ip, user, b.opts.Now()); locked {
			b.log.Warn("auth locked out", "remote", ip, "user", user, "mech", "oauth2")
			delay, err = max(delay, d), ErrThrottled
		}
	}
	if serr := b.opts.Sleep(ctx, delay); serr != nil && err == nil {
		return "", serr
	}
	if err != nil {
		return "", err
	}
	return user, nil
}

// tokenUser validates token and maps it to a local user. On a
// *TokenError it still returns the user the token named, when it named
// one, for the penalty.
func (b *Backend) tokenUser(ctx context.Context, hint, token string) (string, error) {
	if token == "" {
		return "", invalidToken("empty token")
	}
	info, err := b.oauth.Verify(ctx, token)
	if err != nil {
		return "", err
	}
	user := strings.ToLower(strings.TrimSpace(info.Identity))
	local, domain, ok := strings.Cut(user, "@")
	switch {
	case !ok || local == "" || domain == "":
		return "", invalidToken("claim is not an address")
	case !b.IsLocalDomain(domain):
		return user, invalidToken("user of another domain")
	case !b.Users.Exists(user):
		return user, invalidToken("unknown user")
	case hint != "" && hint != user:
		return user, invalidToken("token is for another user than the one named")
	}
	return user, nil
}

// OAuthChallenge is the JSON error challenge of RFC 7628 section 3.2.2
// for a refused token.
func (b *Backend) OAuthChallenge(err error) []byte {
	status := "invalid_token"
	if te := (*TokenError)(nil); errors.As(err, &te) && te.Status != "" {
		status = te.Status
	}
	var o OAuthOptions
	if b.opts.OAuth != nil {
		o = *b.opts.OAuth
	}
	return oauthChallenge(status, o.Scope, o.Issuer)
}
