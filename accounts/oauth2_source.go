package accounts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// DefaultRefreshTimeout bounds one refresh of an access token (the lock,
// the keyring, the token endpoint, the save).
const DefaultRefreshTimeout = time.Minute

// oauthSource is an OAuth2 account's lbsync.TokenSource, shared by all
// of the account's connections: the access token lives in memory only
// and is refreshed shortly before it expires (a quarter of its lifetime,
// at most a minute). One refresh runs at a time in the process (others
// wait for it) and across processes (the account's oauth2.lock, under
// which the refresh token is read again, so that a token another process
// rotated is the one used: presenting a used one would make the provider
// revoke the whole sign-in). A rotated refresh token is saved before the
// lock is released. A refresh runs to its end even when the caller that
// started it gives up: cut short after the provider rotated the token,
// it would lose the new one.
type oauthSource struct {
	acct    AccountConfig
	store   tokenStore
	dir     string
	http    *http.Client
	now     func() time.Time
	runCmd  func(ctx context.Context, cmd string) (string, error)
	timeout time.Duration

	mu     sync.Mutex
	tok    *oauth2.Token // the current access token, Expiry by now()
	life   time.Duration // its lifetime when it came
	flight *refreshFlight
	secret *string // the client secret, once its command ran
}

var _ lbsync.TokenSource = (*oauthSource)(nil)

// refreshFlight is one refresh in progress; done is closed when tok and
// err are set.
type refreshFlight struct {
	done chan struct{}
	tok  string
	err  error
}

// sourceOptions are the dependencies of an oauthSource.
type sourceOptions struct {
	Secrets *Secrets
	HTTP    *http.Client
	Now     func() time.Time
}

// newOAuthSource returns the token source of acct, whose data directory
// is dir.
func newOAuthSource(acct AccountConfig, dir string, o sourceOptions) (*oauthSource, error) {
	secrets := o.Secrets
	if secrets == nil {
		secrets = &Secrets{}
	}
	hc := o.HTTP
	if hc == nil {
		var err error
		if hc, err = idpClient(acct); err != nil {
			return nil, err
		}
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	run := secrets.RunCmd
	if run == nil {
		run = RunPasswordCmd
	}
	return &oauthSource{acct: acct, store: tokenStore{secrets: secrets, name: acct.Name, dir: dir}, dir: dir,
		http: hc, now: now, runCmd: run, timeout: DefaultRefreshTimeout}, nil
}

// idpClient is the HTTP client for the identity provider: the system's
// roots, plus the account's tls_ca (a company's provider often has the
// same private CA as its mail servers).
func idpClient(acct AccountConfig) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if acct.TLSCA != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(acct.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("tls_ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_ca %s: no PEM certificate in it", acct.TLSCA)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: DefaultRefreshTimeout}, nil
}

// Token returns an access token valid now, refreshing first when the one
// in memory is missing or about to expire. When that refresh fails for a
// temporary reason (the provider is down), the token in memory is
// returned as long as it has not expired.
func (s *oauthSource) Token(ctx context.Context) (string, error) {
	if s.acct.OAuth2TokenCmd != "" {
		return s.fromCmd(ctx)
	}
	s.mu.Lock()
	if s.freshLocked() {
		t := s.tok.AccessToken
		s.mu.Unlock()
		return t, nil
	}
	f := s.startLocked(ctx)
	s.mu.Unlock()
	t, err := s.wait(ctx, f)
	if err != nil && lbsync.IsTemporary(err) {
		// A refresh ahead of expiry failed (the provider is down): the
		// token in memory serves until it expires.
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.tok != nil && s.tok.AccessToken != "" && s.now().Before(s.tok.Expiry) {
			return s.tok.AccessToken, nil
		}
	}
	return t, err
}

// Refused refreshes after a server refused token: a refused token may
// have expired (clocks differ) or the sign-in may have been revoked,
// which only a refresh tells. When another connection refreshed
// meanwhile, its token is returned instead. With oauth2_token_cmd the
// command runs again; when it prints the refused token once more, the
// error (kind Auth) names the command.
func (s *oauthSource) Refused(ctx context.Context, token string) (string, error) {
	if s.acct.OAuth2TokenCmd != "" {
		t, err := s.fromCmd(ctx)
		if err != nil {
			return "", err
		}
		if t == token {
			return "", &lbsync.Error{Op: "oauth2 " + s.acct.Name, Kind: lbsync.Auth,
				Err: fmt.Errorf("the server refused the access token that oauth2_token_cmd %q prints, and it prints the same one again: "+
					"check that tool's sign-in (letterbox keeps none for this account)", s.acct.OAuth2TokenCmd)}
		}
		return t, nil
	}
	s.mu.Lock()
	if s.tok != nil && s.tok.AccessToken != token && s.freshLocked() {
		t := s.tok.AccessToken
		s.mu.Unlock()
		return t, nil
	}
	s.tok = nil
	f := s.startLocked(ctx)
	s.mu.Unlock()
	return s.wait(ctx, f)
}

// freshLocked reports whether the token in memory may still be used.
func (s *oauthSource) freshLocked() bool {
	if s.tok == nil || s.tok.AccessToken == "" {
		return false
	}
	if s.tok.Expiry.IsZero() {
		return true
	}
	margin := min(time.Minute, s.life/4)
	return s.now().Before(s.tok.Expiry.Add(-margin))
}

// startLocked returns the refresh in flight, or starts one.
func (s *oauthSource) startLocked(ctx context.Context) *refreshFlight {
	if s.flight != nil {
		return s.flight
	}
	f := &refreshFlight{done: make(chan struct{})}
	s.flight = f
	// Not cancelled with the caller: see the type's comment.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	go func() {
		defer cancel()
		tok, err := s.refresh(rctx)
		s.mu.Lock()
		if err == nil {
			s.setLocked(tok)
			f.tok = tok.AccessToken
		}
		f.err = err
		s.flight = nil
		s.mu.Unlock()
		close(f.done)
	}()
	return f
}

// setLocked keeps tok as the current token, its expiry by our clock.
func (s *oauthSource) setLocked(tok *oauth2.Token) {
	s.tok, s.life = tok, 0
	if tok.ExpiresIn > 0 {
		s.life = time.Duration(tok.ExpiresIn) * time.Second
		tok.Expiry = s.now().Add(s.life)
	} else if !tok.Expiry.IsZero() {
		s.life = time.Until(tok.Expiry)
	}
}

// wait waits for f, or for ctx to end (f then runs on alone).
func (s *oauthSource) wait(ctx context.Context, f *refreshFlight) (string, error) {
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return "", &lbsync.Error{Op: "oauth2 refresh " + s.acct.Name, Kind: lbsync.Cancelled, Err: ctx.Err()}
	}
}

// refresh exchanges the stored refresh token for a new access token,
// under the cross-process lock, and saves a rotated refresh token.
func (s *oauthSource) refresh(ctx context.Context) (*oauth2.Token, error) {
	op := "oauth2 refresh " + s.acct.Name
	unlock, err := lockRefresh(ctx, s.dir)
	if err != nil {
		return nil, &lbsync.Error{Op: op, Kind: lbsync.Temporary, Err: err}
	}
	defer unlock()
	rt, _, err := s.store.load(ctx)
	if err != nil {
		return nil, err
	}
	conf, err := s.config(ctx)
	if err != nil {
		return nil, &lbsync.Error{Op: op, Kind: lbsync.Auth, Err: err}
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, s.http)
	tok, err := conf.TokenSource(hctx, &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		return nil, &lbsync.Error{Op: op, Kind: refreshKind(err), Err: s.explain(err)}
	}
	if tok.RefreshToken != "" && tok.RefreshToken != rt {
		if _, err := s.store.save(ctx, tok.RefreshToken, false); err != nil {
			return nil, &lbsync.Error{Op: op, Kind: lbsync.Permanent,
				Err: fmt.Errorf("the provider rotated the refresh token and the new one could not be kept (%w): run `letterbox account auth %s`", err, s.acct.Name)}
		}
	}
	return tok, nil
}

// config is the oauth2 configuration of the account, the client secret
// read from its command (once).
func (s *oauthSource) config(ctx context.Context) (*oauth2.Config, error) {
	s.mu.Lock()
	secret := s.secret
	s.mu.Unlock()
	if secret == nil {
		v, err := clientSecret(ctx, s.acct, s.runCmd)
		if err != nil {
			return nil, err
		}
		secret = &v
		s.mu.Lock()
		s.secret = secret
		s.mu.Unlock()
	}
	return oauthConfig(s.acct, *secret), nil
}

// clientSecret runs acct's oauth2_client_secret_cmd ("" without one).
func clientSecret(ctx context.Context, acct AccountConfig, run func(context.Context, string) (string, error)) (string, error) {
	if acct.OAuth2ClientSecretCmd == "" {
		return "", nil
	}
	if run == nil {
		run = RunPasswordCmd
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultSecretTimeout)
	defer cancel()
	v, err := run(ctx, acct.OAuth2ClientSecretCmd)
	if err == nil && v == "" {
		err = errors.New("it printed nothing")
	}
	if err != nil {
		return "", fmt.Errorf("oauth2_client_secret_cmd %q: %w", acct.OAuth2ClientSecretCmd, err)
	}
	return v, nil
}

// oauthConfig is the golang.org/x/oauth2 configuration of acct. The
// client authenticates in the form (RFC 6749 section 2.3.1), which
// public clients (no secret) need.
func oauthConfig(acct AccountConfig, secret string) *oauth2.Config {
	e := acct.OAuth2Endpoint()
	return &oauth2.Config{ClientID: acct.OAuth2ClientID, ClientSecret: secret, Scopes: e.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.AuthURL, TokenURL: e.TokenURL, DeviceAuthURL: e.DeviceURL, AuthStyle: oauth2.AuthStyleInParams}}
}

// refreshKind classifies a failed token request: a refused grant or
// client needs the user (Auth); the provider unreachable, busy or
// failing (5xx, 429) is Temporary; an answer that cannot be read is
// Protocol.
func refreshKind(err error) lbsync.Kind {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch {
		case re.ErrorCode == "invalid_grant" || re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client":
			return lbsync.Auth
		case re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests):
			return lbsync.Temporary
		}
		return lbsync.Permanent
	}
	if unreadable(err) {
		return lbsync.Protocol
	}
	if k := lbsync.KindOf(err); k != lbsync.Other {
		return k
	}
	return lbsync.Temporary
}

// unreadable reports golang.org/x/oauth2's errors for a token response
// it could not read.
func unreadable(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "oauth2: cannot parse") || strings.HasPrefix(m, "oauth2: server response missing access_token")
}

// explain words a failed token request for the user, without the
// response body (never a token in a message).
func (s *oauthSource) explain(err error) error { return explainTokenError(err, s.acct.Name) }

// explainTokenError words a failed token request for the account name.
func explainTokenError(err error, name string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		desc := clipText(re.ErrorDescription)
		switch re.ErrorCode {
		case "invalid_grant":
			return signInExpired(name)
		case "invalid_client", "unauthorized_client":
			return fmt.Errorf("the identity provider refused the client (%s%s): check oauth2_client_id and oauth2_client_secret_cmd", re.ErrorCode, withDesc(desc))
		case "":
			status := "no answer"
			if re.Response != nil {
				status = re.Response.Status
			}
			return fmt.Errorf("the identity provider's token endpoint answered %s", status)
		}
		return fmt.Errorf("the identity provider refused: %s%s", clipText(re.ErrorCode), withDesc(desc))
	}
	if unreadable(err) {
		return fmt.Errorf("the identity provider's token response could not be read (%v); try again, and if it persists run `letterbox account auth %s`", err, name)
	}
	return fmt.Errorf("the identity provider cannot be reached: %w", err)
}

// signInExpired is ErrSignInExpired for the account it names, worded
// without repeating the sentinel's text.
type signInExpired string

func (name signInExpired) Error() string {
	return fmt.Sprintf("the sign-in for %s has expired or was revoked: run `letterbox account auth %s`", string(name), string(name))
}

// Is makes errors.Is(err, ErrSignInExpired) hold.
func (signInExpired) Is(target error) bool { return target == ErrSignInExpired }

func withDesc(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

// clipText keeps a provider's text short and free of control characters.
func clipText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// fromCmd runs oauth2_token_cmd for an access token.
func (s *oauthSource) fromCmd(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultSecretTimeout)
	defer cancel()
	t, err := s.runCmd(ctx, s.acct.OAuth2TokenCmd)
	if err == nil && t == "" {
		err = errors.New("it printed nothing")
	}
	if err != nil {
		return "", &lbsync.Error{Op: "oauth2 " + s.acct.Name, Kind: lbsync.Auth,
			Err: fmt.Errorf("oauth2_token_cmd %q: %w", s.acct.OAuth2TokenCmd, err)}
	}
	return strings.TrimSpace(t), nil
}

// staticSource is a TokenSource of one token, for the login test of a
// sign-in before anything is saved: a refusal is final.
type staticSource string

func (t staticSource) Token(context.Context) (string, error)           { return string(t), nil }
func (t staticSource) Refused(context.Context, string) (string, error) { return "", nil }
