package testidp

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of Options.
const (
	// DefaultClientID is a public client (no secret, PKCE), as a mail
	// client is.
	DefaultClientID = "letterbox"
	// DefaultServerClientID and DefaultServerClientSecret are a
	// confidential client, as a mail server is: it may introspect
	// tokens.
	DefaultServerClientID     = "mailserver"
	DefaultServerClientSecret = "mailserver-secret"
	// DefaultAudience is the "aud" of access tokens.
	DefaultAudience = "letterbox-mail"
	// DefaultScope is granted when a request names no scope.
	DefaultScope          = "openid email mail"
	DefaultAccessTTL      = time.Minute
	DefaultRefreshTTL     = 24 * time.Hour
	DefaultDeviceCodeTTL  = 10 * time.Minute
	DefaultDeviceInterval = time.Second
	DefaultCodeTTL        = time.Minute
)

// User is who signs in at the provider.
type User struct {
	Subject, Email string
}

// Client is a registered OAuth2 client.
type Client struct {
	ID string
	// Secret is empty for a public client, which must use PKCE in the
	// code flow; a confidential client authenticates with it (HTTP Basic
	// or client_secret_post) and may introspect tokens.
	Secret string
	// RedirectURIs are the allowed redirects of the code flow; when
	// empty, any loopback http URI (127.0.0.1 or [::1]). A loopback URI
	// matches whatever its port (RFC 8252 section 7.3).
	RedirectURIs []string
	// Audience is the "aud" of this client's access tokens;
	// Options.Audience when empty.
	Audience string
}

// Options configure a provider. Zero values select the defaults.
type Options struct {
	// Now is the provider's clock (token times, expiry of codes and
	// tokens, device polling); time.Now when nil. See ManualClock.
	Now func() time.Time
	// AccessTTL is the lifetime of access tokens: keep it short (2 s)
	// to exercise refresh.
	AccessTTL, RefreshTTL time.Duration
	// DeviceCodeTTL is the lifetime of a device code; DeviceInterval
	// the polling interval it asks for (whole seconds on the wire, at
	// least 1).
	DeviceCodeTTL, DeviceInterval time.Duration
	// CodeTTL is the lifetime of an authorization code.
	CodeTTL time.Duration
	// Clients are the registered clients; DefaultClientID (public) and
	// DefaultServerClientID (confidential) when nil.
	Clients []Client
	// User is the signed-in user who approves device codes and
	// authorization requests; alice@example.test when empty.
	User User
	// Algorithm signs new tokens: RS256 (default) or ES256. Keys of
	// both are always published.
	Algorithm string
	// Audience is the default "aud" of access tokens.
	Audience string
	// Logf, when set, gets one line per request (never a token).
	Logf func(format string, args ...any)
}

// Fault is a switch for the bad-input tests; see SetFault.
type Fault int

// Faults.
const (
	// FaultDown: every request is answered by closing the connection,
	// as a provider that is down (the listener stays, so the URL does
	// not change).
	FaultDown Fault = iota
	// FaultMalformedTokenResponse: the token endpoint answers 200 with
	// a body that is not JSON.
	FaultMalformedTokenResponse
	// FaultWrongAudience: new access tokens carry aud "wrong-audience".
	FaultWrongAudience
	// FaultBadSignature: new access tokens are signed by a key that the
	// JWKS does not publish (same kid as the real one).
	FaultBadSignature
	// FaultExpiredDeviceCode: polls of the device grant answer
	// expired_token.
	FaultExpiredDeviceCode
	// FaultSlowDown: the next poll of the device grant answers
	// slow_down (the switch turns itself off).
	FaultSlowDown
	// FaultIntrospectionDown: the introspection endpoint answers 503.
	FaultIntrospectionDown
	numFaults
)

// Counts are what the provider has done, for tests to check.
type Counts struct {
	// TokenRequests counts calls of the token endpoint, Refreshes its
	// successful refresh grants, DeviceGrants and CodeGrants its
	// successful device and code grants.
	TokenRequests, Refreshes, DeviceGrants, CodeGrants int
	// DevicePolls counts polls of the device grant, answered or not.
	DevicePolls int
	// Introspections, Revocations, JWKSFetches and Discoveries count
	// calls of those endpoints.
	Introspections, Revocations, JWKSFetches, Discoveries int
	// ReuseDetected counts refresh tokens presented after they were
	// used (each revoked its family).
	ReuseDetected int
}

// IdP is a running identity provider. Its methods are safe for
// concurrent use.
type IdP struct {
	opts   Options
	srv    *httptest.Server
	issuer string

	mu       sync.Mutex
	keys     []*signingKey          // published in the JWKS
	current  map[string]*signingKey // signing key per algorithm
	rogue    map[string]*signingKey // unpublished keys of FaultBadSignature
	alg      string
	user     User
	faults   [numFaults]bool
	clients  map[string]Client
	codes    map[string]*authCode
	devices  map[string]*deviceGrant // by device code
	userCode map[string]string       // user code -> device code
	refresh  map[string]*refreshToken
	access   map[string]*accessRecord
	families map[string]*family
	counts   Counts
	changed  chan struct{} // closed at the next device request (WaitUserCode)
}

// New starts a provider on https://127.0.0.1:port (httptest's
// certificate; see HTTPClient and CertPEM). t.Cleanup closes it.
func New(t testing.TB, opts Options) *IdP {
	t.Helper()
	p, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// Start starts a provider; Close stops it. New is the form for tests.
func Start(opts Options) (*IdP, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.AccessTTL, DefaultAccessTTL)
	def(&opts.RefreshTTL, DefaultRefreshTTL)
	def(&opts.DeviceCodeTTL, DefaultDeviceCodeTTL)
	def(&opts.DeviceInterval, DefaultDeviceInterval)
	def(&opts.CodeTTL, DefaultCodeTTL)
	if opts.Clients == nil {
		opts.Clients = []Client{{ID: DefaultClientID},
			{ID: DefaultServerClientID, Secret: DefaultServerClientSecret}}
	}
	if opts.User.Email == "" {
		opts.User = User{Subject: "alice", Email: "alice@example.test"}
	}
	if opts.Algorithm == "" {
		opts.Algorithm = RS256
	}
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	p := &IdP{opts: opts, alg: opts.Algorithm, user: opts.User,
		current: map[string]*signingKey{}, rogue: map[string]*signingKey{}, clients: map[string]Client{},
		codes: map[string]*authCode{}, devices: map[string]*deviceGrant{}, userCode: map[string]string{},
		refresh: map[string]*refreshToken{}, access: map[string]*accessRecord{}, families: map[string]*family{}}
	for _, c := range opts.Clients {
		p.clients[c.ID] = c
	}
	if err := p.RotateKeys(); err != nil {
		return nil, err
	}
	if _, ok := p.current[p.alg]; !ok {
		return nil, fmt.Errorf("testidp: unknown signing algorithm %q", p.alg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("testidp: listen: %w", err)
	}
	p.srv = httptest.NewUnstartedServer(p.handler())
	p.srv.Listener.Close()
	p.srv.Listener = l
	p.srv.StartTLS()
	p.issuer = p.srv.URL
	return p, nil
}

// Close stops the provider.
func (p *IdP) Close() { p.srv.Close() }

// Issuer is the provider's issuer URL, https://127.0.0.1:port: the "iss"
// of its tokens and the base of its discovery document.
func (p *IdP) Issuer() string { return p.issuer }

// HTTPClient trusts the provider's certificate.
func (p *IdP) HTTPClient() *http.Client { return p.srv.Client() }

// CertPEM is the provider's certificate in PEM, for a CA file (the mail
// server's [oauth2] ca_file, Dovecot's ssl_client_ca_file).
func (p *IdP) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
}

// CertPool trusts the provider's certificate.
func (p *IdP) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.srv.Certificate())
	return pool
}

// Endpoint URLs.
func (p *IdP) AuthURL() string          { return p.issuer + "/authorize" }
func (p *IdP) TokenURL() string         { return p.issuer + "/token" }
func (p *IdP) DeviceURL() string        { return p.issuer + "/device_authorization" }
func (p *IdP) VerificationURL() string  { return p.issuer + "/device" }
func (p *IdP) JWKSURL() string          { return p.issuer + "/jwks" }
func (p *IdP) RevocationURL() string    { return p.issuer + "/revoke" }
func (p *IdP) IntrospectionURL() string { return p.issuer + "/introspect" }
func (p *IdP) UserInfoURL() string      { return p.issuer + "/userinfo" }

// SetFault turns a fault on or off.
func (p *IdP) SetFault(f Fault, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f >= 0 && f < numFaults {
		p.faults[f] = on
	}
}

func (p *IdP) fault(f Fault) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults[f]
}

// SignIn makes u the signed-in user who approves what comes next.
func (p *IdP) SignIn(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u.Subject == "" {
		u.Subject = u.Email
	}
	p.user = u
}

// SetAlgorithm makes new tokens signed with alg (RS256 or ES256).
func (p *IdP) SetAlgorithm(alg string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.current[alg]; !ok {
		return fmt.Errorf("testidp: unknown signing algorithm %q", alg)
	}
	p.alg = alg
	return nil
}

// RotateKeys makes a new RS256 and a new ES256 key, signs new tokens with
// them, and keeps publishing the old ones (RetireOldKeys stops that), as
// a provider does during a rollover.
func (p *IdP) RotateKeys() error {
	var fresh []*signingKey
	for _, alg := range []string{RS256, ES256} {
		k, err := newKey(alg)
		if err != nil {
			return err
		}
		fresh = append(fresh, k)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range fresh {
		p.current[k.alg] = k
		p.keys = append(p.keys, k)
	}
	return nil
}

// RetireOldKeys stops publishing every key but the current ones: tokens
// signed before the last RotateKeys no longer verify.
func (p *IdP) RetireOldKeys() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var keep []*signingKey
	for _, k := range p.keys {
		if p.current[k.alg] == k {
			keep = append(keep, k)
		}
	}
	p.keys = keep
}

// Counts returns what the provider has done so far.
func (p *IdP) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

func (p *IdP) now() time.Time { return p.opts.Now() }

func (p *IdP) logf(format string, args ...any) {
	if p.opts.Logf != nil {
		p.opts.Logf("testidp: "+format, args...)
	}
}

// handler routes the endpoints; FaultDown closes every connection.
func (p *IdP) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", p.serveDiscovery)
	mux.HandleFunc("GET /jwks", p.serveJWKS)
	mux.HandleFunc("GET /authorize", p.serveAuthorize)
	mux.HandleFunc("POST /token", p.serveToken)
	mux.HandleFunc("POST /device_authorization", p.serveDeviceAuthorization)
	mux.HandleFunc("GET /device", p.serveDevicePage)
	mux.HandleFunc("POST /revoke", p.serveRevoke)
	mux.HandleFunc("POST /introspect", p.serveIntrospect)
	mux.HandleFunc("GET /userinfo", p.serveUserInfo)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.logf("%s %s", r.Method, r.URL.Path)
		if p.fault(FaultDown) {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// serveDiscovery is the OpenID Provider Metadata (OpenID Connect
// Discovery 1.0 section 3; RFC 8414 for the OAuth2 names).
func (p *IdP) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.counts.Discoveries++
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.AuthURL(),
		"token_endpoint":                        p.TokenURL(),
		"device_authorization_endpoint":         p.DeviceURL(),
		"jwks_uri":                              p.JWKSURL(),
		"revocation_endpoint":                   p.RevocationURL(),
		"introspection_endpoint":                p.IntrospectionURL(),
		"userinfo_endpoint":                     p.UserInfoURL(),
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", grantDevice},
		"code_challenge_methods_supported":      []string{"S256"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{RS256, ES256},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_basic", "client_secret_post"},
		"scopes_supported":                      strings.Fields(DefaultScope),
		"claims_supported":                      []string{"iss", "aud", "exp", "iat", "sub", "email", "scope"},
	})
}

// serveJWKS publishes the public keys (RFC 7517 section 5).
func (p *IdP) serveJWKS(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.counts.JWKSFetches++
	keys := make([]map[string]string, 0, len(p.keys))
	for _, k := range p.keys {
		keys = append(keys, k.jwk())
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// oauthError answers an OAuth2 error (RFC 6749 section 5.2).
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}
