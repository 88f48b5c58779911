package testidp

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// authCode is one authorization code of the code flow (RFC 6749 section
// 4.1.2) and what it was issued for.
type authCode struct {
	client      Client
	redirectURI string
	challenge   string
	scope       string
	nonce       string
	user        User
	expiry      time.Time
	used        bool
	fam         *family // the grant it was exchanged for
}

// consentHeader carries the choice of the test playing the browser.
const consentHeader = "X-Testidp-Consent"

// loopbackRedirect reports whether u is a loopback redirect of a native
// app: http, and the IP literal 127.0.0.1 or ::1 (RFC 8252 sections 7.3
// and 8.3; "localhost" is refused, as 8.3 advises).
func loopbackRedirect(u *url.URL) bool {
	if u.Scheme != "http" || u.Fragment != "" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// redirectAllowed checks uri against c's registered redirects; a
// loopback one matches whatever its port (RFC 8252 section 7.3).
func redirectAllowed(c Client, uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return false
	}
	if len(c.RedirectURIs) == 0 {
		return loopbackRedirect(u)
	}
	for _, r := range c.RedirectURIs {
		ru, err := url.Parse(r)
		if err != nil {
			continue
		}
		if r == uri {
			return true
		}
		if loopbackRedirect(ru) && loopbackRedirect(u) && ru.Hostname() == u.Hostname() && ru.Path == u.Path {
			return true
		}
	}
	return false
}

// serveAuthorize is the authorization endpoint (RFC 6749 section 4.1.1)
// with PKCE (RFC 7636 section 4.3; S256 only). The signed-in user
// consents at once, unless the browser says otherwise (BrowseDeny).
func (p *IdP) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	c, ok := p.clients[q.Get("client_id")]
	user := p.user
	p.mu.Unlock()
	redirect := q.Get("redirect_uri")
	// Errors before the redirect is known good are shown, never
	// redirected (section 4.1.2.1).
	if !ok {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	if !redirectAllowed(c, redirect) {
		http.Error(w, "redirect_uri is not a registered or loopback (http://127.0.0.1:port/) URI", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) {
		u, _ := url.Parse(redirect)
		qq := u.Query()
		for k, vs := range v {
			qq[k] = vs
		}
		if st := q.Get("state"); st != "" {
			qq.Set("state", st)
		}
		u.RawQuery = qq.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	fail := func(code, desc string) {
		p.logf("authorize: %s: %s", code, desc)
		back(url.Values{"error": {code}, "error_description": {desc}})
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code")
		return
	case q.Get("code_challenge") == "":
		fail("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")
		return
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case len(q.Get("code_challenge")) != 43:
		fail("invalid_request", "code_challenge is not a base64url SHA-256")
		return
	case r.Header.Get(consentHeader) == "deny":
		fail("access_denied", "the user denied the request")
		return
	}
	code := "ac-" + randomString(24)
	p.mu.Lock()
	p.codes[code] = &authCode{client: c, redirectURI: redirect, challenge: q.Get("code_challenge"),
		scope: q.Get("scope"), nonce: q.Get("nonce"), user: user, expiry: p.now().Add(p.opts.CodeTTL)}
	p.mu.Unlock()
	back(url.Values{"code": {code}})
}

// validVerifier checks a code_verifier's form (RFC 7636 section 4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}

// codeGrant exchanges an authorization code (RFC 6749 section 4.1.3),
// checking the PKCE verifier (RFC 7636 section 4.6). A code used twice
// revokes what the first use got (RFC 6749 section 4.1.2).
func (p *IdP) codeGrant(c Client, form url.Values) (Tokens, string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ac, ok := p.codes[form.Get("code")]
	switch {
	case !ok:
		return Tokens{}, "invalid_grant", "unknown authorization code"
	case ac.used:
		if ac.fam != nil {
			ac.fam.revoked = true
		}
		return Tokens{}, "invalid_grant", "authorization code used twice; its tokens are revoked"
	case !p.now().Before(ac.expiry):
		return Tokens{}, "invalid_grant", "authorization code expired"
	case ac.client.ID != c.ID:
		return Tokens{}, "invalid_grant", "authorization code of another client"
	case form.Get("redirect_uri") != ac.redirectURI:
		return Tokens{}, "invalid_grant", "redirect_uri differs from the authorization request's"
	}
	v := form.Get("code_verifier")
	if !validVerifier(v) {
		return Tokens{}, "invalid_grant", "missing or malformed code_verifier"
	}
	sum := sha256.Sum256([]byte(v))
	if b64(sum[:]) != ac.challenge {
		return Tokens{}, "invalid_grant", "code_verifier does not match code_challenge"
	}
	ac.used = true
	ac.fam = p.newFamilyLocked(ac.client, ac.user, ac.scope, ac.nonce)
	t, err := p.mintLocked(ac.fam, p.opts.AccessTTL)
	if err != nil {
		return Tokens{}, "server_error", err.Error()
	}
	p.counts.CodeGrants++
	return t, "", ""
}

// BrowseResult is what the browser saw.
type BrowseResult struct {
	// RedirectURL is where the provider sent the browser: the client's
	// loopback redirect with code and state (or error).
	RedirectURL string
	// Code, State and Error are its query parameters.
	Code, State, Error string
	// Status and Body are the answer of the client's loopback server.
	Status int
	Body   string
}

// Browse plays the browser of the code flow: it opens authURL at the
// provider, where the signed-in user consents, and follows the redirect to
// the client's loopback redirect URI. It fails if the provider does not
// redirect (a bad client_id or redirect_uri) or the client's loopback
// server cannot be reached; whatever that server answers is in the
// result.
func (p *IdP) Browse(ctx context.Context, authURL string) (BrowseResult, error) {
	return p.browse(ctx, authURL, "")
}

// BrowseDeny is Browse where the user refuses consent: the client gets
// error=access_denied.
func (p *IdP) BrowseDeny(ctx context.Context, authURL string) (BrowseResult, error) {
	return p.browse(ctx, authURL, "deny")
}

func (p *IdP) browse(ctx context.Context, authURL, consent string) (BrowseResult, error) {
	var res BrowseResult
	c := *p.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return res, fmt.Errorf("testidp: browse: %w", err)
	}
	if consent != "" {
		req.Header.Set(consentHeader, consent)
	}
	resp, err := c.Do(req)
	if err != nil {
		return res, fmt.Errorf("testidp: browse: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc == "" {
		return res, fmt.Errorf("testidp: browse: the provider answered %s: %s", resp.Status, body)
	}
	u, err := url.Parse(loc)
	if err != nil || !loopbackRedirect(u) && !slices.Contains(p.clientsRedirects(), loc) {
		return res, fmt.Errorf("testidp: browse: refusing to follow redirect to %q", loc)
	}
	res.RedirectURL = loc
	res.Code, res.State, res.Error = u.Query().Get("code"), u.Query().Get("state"), u.Query().Get("error")
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return res, fmt.Errorf("testidp: browse: %w", err)
	}
	resp, err = (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return res, fmt.Errorf("testidp: browse: the client's redirect: %w", err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res.Status, res.Body = resp.StatusCode, string(body)
	return res, nil
}

func (p *IdP) clientsRedirects() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, c := range p.clients {
		out = append(out, c.RedirectURIs...)
	}
	return out
}
