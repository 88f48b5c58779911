package testidp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Grant types of the token endpoint (RFC 6749 sections 4.1.3 and 6, RFC
// 8628 section 3.4).
const (
	grantCode    = "authorization_code"
	grantRefresh = "refresh_token"
	grantDevice  = "urn:ietf:params:oauth:grant-type:device_code"
)

// family is one authorization grant and every token issued from it:
// reusing a used refresh token, or revoking one, revokes them all.
type family struct {
	id       string
	clientID string
	user     User
	scope    string
	audience string
	nonce    string
	extra    map[string]any
	revoked  bool
}

type refreshToken struct {
	fam    *family
	used   bool
	expiry time.Time
}

type accessRecord struct {
	fam     *family
	claims  map[string]any
	expiry  time.Time
	revoked bool
}

// Tokens are what the token endpoint returns.
type Tokens struct {
	AccessToken, RefreshToken, IDToken string
	// Expiry is when the access token expires.
	Expiry time.Time
	Scope  string
}

// Grant describes tokens for Issue to make as if a flow had ended.
type Grant struct {
	// User is the token's subject; the signed-in user when empty.
	User User
	// ClientID is the client the tokens are issued to; DefaultClientID
	// when empty.
	ClientID string
	// Scope is DefaultScope when empty.
	Scope string
	// Audience overrides the client's audience.
	Audience string
	// AccessTTL overrides Options.AccessTTL for the first access token;
	// negative makes it expired already.
	AccessTTL time.Duration
	// Extra claims go into every access token of the grant (a long one
	// makes a token as big as Microsoft's).
	Extra map[string]any
}

// Issue makes a new grant (a family) and its first tokens without a flow:
// for server tests that need a token of a given user, audience or age.
// The faults that change tokens (FaultWrongAudience, FaultBadSignature)
// apply.
func (p *IdP) Issue(g Grant) (Tokens, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g.ClientID == "" {
		g.ClientID = DefaultClientID
	}
	c, ok := p.clients[g.ClientID]
	if !ok {
		return Tokens{}, fmt.Errorf("testidp: unknown client %q", g.ClientID)
	}
	if g.User.Email == "" {
		g.User = p.user
	}
	if g.User.Subject == "" {
		g.User.Subject = g.User.Email
	}
	f := p.newFamilyLocked(c, g.User, g.Scope, "")
	if g.Audience != "" {
		f.audience = g.Audience
	}
	f.extra = g.Extra
	ttl := p.opts.AccessTTL
	if g.AccessTTL != 0 {
		ttl = g.AccessTTL
	}
	return p.mintLocked(f, ttl)
}

// Revoke revokes a token as the revocation endpoint does: a refresh
// token's whole family, or one access token. It reports whether the
// token was known.
func (p *IdP) Revoke(token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.revokeLocked(token, "")
}

// RevokeFamily revokes every token of the grant that token (access or
// refresh) belongs to.
func (p *IdP) RevokeFamily(token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rt, ok := p.refresh[token]; ok {
		rt.fam.revoked = true
		return true
	}
	if at, ok := p.access[token]; ok {
		at.fam.revoked = true
		return true
	}
	return false
}

// Active reports what introspection would say of token.
func (p *IdP) Active(token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, active := p.introspectLocked(token)
	return active
}

func (p *IdP) newFamilyLocked(c Client, u User, scope, nonce string) *family {
	if scope == "" {
		scope = DefaultScope
	}
	aud := c.Audience
	if aud == "" {
		aud = p.opts.Audience
	}
	f := &family{id: randomString(8), clientID: c.ID, user: u, scope: scope, audience: aud, nonce: nonce}
	p.families[f.id] = f
	return f
}

// mintLocked issues a new access token, refresh token and (for the openid
// scope) ID token in family f.
func (p *IdP) mintLocked(f *family, ttl time.Duration) (Tokens, error) {
	now := p.now()
	exp := now.Add(ttl)
	aud := f.audience
	if p.faults[FaultWrongAudience] {
		aud = "wrong-audience"
	}
	claims := map[string]any{
		"iss": p.issuer, "aud": aud, "sub": f.user.Subject, "email": f.user.Email,
		"scope": f.scope, "client_id": f.clientID, "jti": randomString(9),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
	}
	for k, v := range f.extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	key := p.current[p.alg]
	if p.faults[FaultBadSignature] {
		r := p.rogue[p.alg]
		if r == nil || r.kid != key.kid {
			var err error
			if r, err = newKey(p.alg); err != nil {
				return Tokens{}, err
			}
			r.kid = key.kid
			p.rogue[p.alg] = r
		}
		key = r
	}
	at, err := key.sign("at+jwt", claims) // RFC 9068 section 2.1
	if err != nil {
		return Tokens{}, err
	}
	p.access[at] = &accessRecord{fam: f, claims: claims, expiry: exp}
	rt := "rt-" + randomString(24)
	p.refresh[rt] = &refreshToken{fam: f, expiry: now.Add(p.opts.RefreshTTL)}
	t := Tokens{AccessToken: at, RefreshToken: rt, Expiry: exp, Scope: f.scope}
	if slices.Contains(strings.Fields(f.scope), "openid") {
		id := map[string]any{"iss": p.issuer, "aud": f.clientID, "sub": f.user.Subject, "email": f.user.Email,
			"email_verified": true, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if f.nonce != "" {
			id["nonce"] = f.nonce
		}
		if t.IDToken, err = p.current[p.alg].sign("JWT", id); err != nil {
			return Tokens{}, err
		}
	}
	return t, nil
}

// authClient authenticates the client of a token, revocation or
// introspection request (RFC 6749 section 2.3.1): HTTP Basic, or
// client_id and client_secret in the form; a public client gives its
// client_id alone.
func (p *IdP) authClient(r *http.Request) (Client, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// The Basic credentials are form-urlencoded first.
		var err error
		if id, err = url.QueryUnescape(id); err != nil {
			return Client{}, errors.New("bad client id encoding")
		}
		if secret, err = url.QueryUnescape(secret); err != nil {
			return Client{}, errors.New("bad client secret encoding")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	c, ok := p.clients[id]
	p.mu.Unlock()
	switch {
	case !ok:
		return Client{}, fmt.Errorf("unknown client %q", id)
	case c.Secret == "" && secret != "":
		return Client{}, errors.New("public client sent a secret")
	case c.Secret != "" && subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1:
		return Client{}, errors.New("wrong client secret")
	}
	return c, nil
}

// serveToken is the token endpoint (RFC 6749 section 3.2).
func (p *IdP) serveToken(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.counts.TokenRequests++
	p.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	c, err := p.authClient(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="testidp"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	var (
		t      Tokens
		status = http.StatusBadRequest
		code   string
		desc   string
	)
	switch gt := r.PostForm.Get("grant_type"); gt {
	case grantCode:
		t, code, desc = p.codeGrant(c, r.PostForm)
	case grantRefresh:
		t, code, desc = p.refreshGrant(c, r.PostForm)
	case grantDevice:
		t, code, desc = p.deviceGrant(c, r.PostForm)
	default:
		code, desc = "unsupported_grant_type", fmt.Sprintf("grant type %q", gt)
	}
	if code != "" {
		p.logf("token %s: %s: %s", r.PostForm.Get("grant_type"), code, desc)
		oauthError(w, status, code, desc)
		return
	}
	if p.fault(FaultMalformedTokenResponse) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"access_token": "truncated`))
		return
	}
	body := map[string]any{"access_token": t.AccessToken, "token_type": "Bearer",
		"expires_in":    max(1, int(t.Expiry.Sub(p.now()).Round(time.Second)/time.Second)),
		"refresh_token": t.RefreshToken, "scope": t.Scope}
	if t.IDToken != "" {
		body["id_token"] = t.IDToken
	}
	writeJSON(w, http.StatusOK, body)
}

// refreshGrant rotates a refresh token (RFC 6749 section 6; RFC 9700
// section 4.14.2): the presented token stops working, a new one comes
// with the new access token, and a used token presented again revokes its
// whole family.
func (p *IdP) refreshGrant(c Client, form url.Values) (Tokens, string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rt, ok := p.refresh[form.Get("refresh_token")]
	switch {
	case !ok:
		return Tokens{}, "invalid_grant", "unknown refresh token"
	case rt.fam.clientID != c.ID:
		return Tokens{}, "invalid_grant", "refresh token of another client"
	case rt.fam.revoked:
		return Tokens{}, "invalid_grant", "refresh token revoked"
	case rt.used:
		rt.fam.revoked = true
		p.counts.ReuseDetected++
		return Tokens{}, "invalid_grant", "refresh token reused; grant revoked"
	case !p.now().Before(rt.expiry):
		return Tokens{}, "invalid_grant", "refresh token expired"
	}
	if s := form.Get("scope"); s != "" {
		have := strings.Fields(rt.fam.scope)
		for _, w := range strings.Fields(s) {
			if !slices.Contains(have, w) {
				return Tokens{}, "invalid_scope", fmt.Sprintf("scope %q was not granted", w)
			}
		}
	}
	rt.used = true
	t, err := p.mintLocked(rt.fam, p.opts.AccessTTL)
	if err != nil {
		return Tokens{}, "server_error", err.Error()
	}
	p.counts.Refreshes++
	return t, "", ""
}

// revokeLocked revokes token for client (any client when empty).
func (p *IdP) revokeLocked(token, clientID string) bool {
	if rt, ok := p.refresh[token]; ok && (clientID == "" || rt.fam.clientID == clientID) {
		// RFC 7009 section 2.1: revoking a refresh token revokes the
		// access tokens of its grant as well.
		rt.fam.revoked = true
		return true
	}
	if at, ok := p.access[token]; ok && (clientID == "" || at.fam.clientID == clientID) {
		at.revoked = true
		return true
	}
	return false
}

// serveRevoke is the revocation endpoint (RFC 7009 section 2): 200 for
// any token, known or not.
func (p *IdP) serveRevoke(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.counts.Revocations++
	p.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	c, err := p.authClient(r)
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	p.mu.Lock()
	p.revokeLocked(r.PostForm.Get("token"), c.ID)
	p.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// introspectLocked is the introspection answer for token.
func (p *IdP) introspectLocked(token string) (map[string]any, bool) {
	now := p.now()
	if at, ok := p.access[token]; ok {
		exp, _ := at.claims["exp"].(int64)
		if at.revoked || at.fam.revoked || now.Unix() >= exp {
			return nil, false
		}
		m := map[string]any{"active": true, "token_type": "Bearer", "username": at.fam.user.Email}
		for _, k := range []string{"iss", "aud", "exp", "iat", "nbf", "sub", "email", "scope", "client_id", "jti"} {
			m[k] = at.claims[k]
		}
		// The grant's extra claims too, as Keycloak and others answer
		// with the token's claims (RFC 7662 section 2.2 allows any).
		for k, v := range at.fam.extra {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
		return m, true
	}
	if rt, ok := p.refresh[token]; ok {
		if rt.used || rt.fam.revoked || !now.Before(rt.expiry) {
			return nil, false
		}
		return map[string]any{"active": true, "token_type": "refresh_token", "username": rt.fam.user.Email,
			"email": rt.fam.user.Email, "sub": rt.fam.user.Subject, "scope": rt.fam.scope,
			"client_id": rt.fam.clientID, "exp": rt.expiry.Unix(), "iss": p.issuer}, true
	}
	return nil, false
}

// serveIntrospect is the introspection endpoint (RFC 7662 section 2): a
// confidential client asks whether a token is active.
func (p *IdP) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.counts.Introspections++
	p.mu.Unlock()
	if p.fault(FaultIntrospectionDown) {
		http.Error(w, "introspection unavailable", http.StatusServiceUnavailable)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	c, err := p.authClient(r)
	if err == nil && c.Secret == "" {
		err = errors.New("public clients may not introspect")
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="testidp"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	p.mu.Lock()
	m, active := p.introspectLocked(r.PostForm.Get("token"))
	p.mu.Unlock()
	if !active {
		m = map[string]any{"active": false}
	}
	writeJSON(w, http.StatusOK, m)
}

// serveUserInfo is OpenID Connect Core section 5.3 for a bearer access
// token.
func (p *IdP) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	var rec *accessRecord
	if ok {
		rec = p.access[tok]
	}
	_, active := p.introspectLocked(tok)
	p.mu.Unlock()
	if rec == nil || !active {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": rec.fam.user.Subject, "email": rec.fam.user.Email, "email_verified": true})
}
