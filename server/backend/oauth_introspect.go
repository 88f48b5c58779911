package backend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// introspector validates opaque (or any) tokens by asking the issuer
// (RFC 7662), authenticated with our client credentials (HTTP Basic,
// RFC 6749 section 2.3.1). Good answers are cached, keyed by the token's
// SHA-256, until CacheTTL passes or the token expires: a token revoked
// meanwhile stays good here for at most CacheTTL.
type introspector struct {
	opts OAuthOptions

	dmu      sync.Mutex // held during discovery of the endpoint
	endpoint string

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	info  *TokenInfo
	until time.Time
}

func newIntrospector(opts OAuthOptions) *introspector {
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultIntrospectCache
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultIntrospectTTL
	}
	return &introspector{opts: opts, endpoint: opts.IntrospectionURL, cache: map[[32]byte]cached{}}
}

// Verify implements TokenVerifier.
func (v *introspector) Verify(ctx context.Context, token string) (*TokenInfo, error) {
	key := sha256.Sum256([]byte(token))
	now := v.opts.Now()
	if info := v.lookup(key, now); info != nil {
		return info, nil
	}
	m, err := v.ask(ctx, token)
	if err != nil {
		return nil, err
	}
	if active, _ := m["active"].(bool); !active {
		return nil, invalidToken("inactive (expired, revoked or unknown to the issuer)")
	}
	// Issuers answer for refresh tokens too: one is not a bearer token
	// (token_type as RFC 7009's hint names it; Keycloak's "typ").
	tt, _ := m["token_type"].(string)
	typ, _ := m["typ"].(string)
	if strings.EqualFold(tt, "refresh_token") || strings.EqualFold(typ, "Refresh") || strings.EqualFold(typ, "Offline") {
		return nil, invalidToken("not an access token (a refresh token)")
	}
	if iss, ok := m["iss"].(string); ok && v.opts.Issuer != "" && iss != v.opts.Issuer {
		return nil, invalidToken("wrong issuer")
	}
	if v.opts.Audience != "" && !audienceHas(m["aud"], v.opts.Audience) {
		return nil, invalidToken("wrong audience")
	}
	info, err := claimsInfo(m, v.opts)
	if err != nil {
		return nil, err
	}
	if !info.Expiry.IsZero() && !now.Before(info.Expiry) {
		return nil, invalidToken("expired")
	}
	v.store(key, info, now)
	return info, nil
}

// audienceHas reports whether an "aud" value (a string or an array of
// them, RFC 7519 section 4.1.3) holds want.
func audienceHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return slices.ContainsFunc(a, func(x any) bool { s, _ := x.(string); return s == want })
	}
	return false
}

// ask posts the token to the introspection endpoint (RFC 7662 section
// 2.1) and returns the answer (section 2.2).
func (v *introspector) ask(ctx context.Context, token string) (map[string]any, error) {
	endpoint, err := v.url(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, oauthHTTPTimeout)
	defer cancel()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("introspect: %w: %v", ErrOAuthUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(v.opts.ClientID), url.QueryEscape(v.opts.ClientSecret))
	resp, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		// The request's URL is in err; the token is in the body, never
		// in an error.
		return nil, fmt.Errorf("introspect: %w: %v", ErrOAuthUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIssuerResponse))
	if err != nil {
		return nil, fmt.Errorf("introspect %s: %w: %v", endpoint, ErrOAuthUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspect %s: %w: %s", endpoint, ErrOAuthUnavailable, resp.Status)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("introspect %s: %w: answer is not a JSON object", endpoint, ErrOAuthUnavailable)
	}
	// Numbers as float64, as in a decoded JWT.
	for k, x := range m {
		if n, ok := x.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				m[k] = f
			}
		}
	}
	return m, nil
}

// url is the introspection endpoint: configured, or from the issuer's
// discovery document (RFC 8414's introspection_endpoint).
func (v *introspector) url(ctx context.Context) (string, error) {
	v.dmu.Lock()
	defer v.dmu.Unlock()
	if v.endpoint != "" {
		return v.endpoint, nil
	}
	ctx, cancel := context.WithTimeout(ctx, oauthHTTPTimeout)
	defer cancel()
	wk := strings.TrimSuffix(v.opts.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wk, nil)
	if err != nil {
		return "", fmt.Errorf("oauth2 discovery: %w: %v", ErrOAuthUnavailable, err)
	}
	resp, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("oauth2 discovery: %w: %v", ErrOAuthUnavailable, err)
	}
	defer resp.Body.Close()
	var meta struct {
		Issuer   string `json:"issuer"`
		Endpoint string `json:"introspection_endpoint"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, maxIssuerResponse)).Decode(&meta) != nil ||
		meta.Endpoint == "" || meta.Issuer != v.opts.Issuer {
		return "", fmt.Errorf("oauth2 discovery %s: %w: no introspection_endpoint for this issuer", wk, ErrOAuthUnavailable)
	}
	v.endpoint = meta.Endpoint
	return v.endpoint, nil
}

func (v *introspector) lookup(key [32]byte, now time.Time) *TokenInfo {
	v.mu.Lock()
	defer v.mu.Unlock()
	c, ok := v.cache[key]
	if !ok {
		return nil
	}
	if !now.Before(c.until) {
		delete(v.cache, key)
		return nil
	}
	return c.info
}

// store caches a good answer until the earlier of CacheTTL and the
// token's expiry. A full cache drops what has expired, then, if that is
// not enough, entries at random (Go's map order).
func (v *introspector) store(key [32]byte, info *TokenInfo, now time.Time) {
	if v.opts.CacheTTL < 0 {
		return
	}
	until := now.Add(v.opts.CacheTTL)
	if !info.Expiry.IsZero() && info.Expiry.Before(until) {
		until = info.Expiry
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cache) >= v.opts.CacheSize {
		for k, c := range v.cache {
			if !now.Before(c.until) {
				delete(v.cache, k)
			}
		}
		for k := range v.cache {
			if len(v.cache) < v.opts.CacheSize*3/4 {
				break
			}
			delete(v.cache, k)
		}
	}
	v.cache[key] = cached{info: info, until: until}
}

// cacheLen is the number of cached answers (tests).
func (v *introspector) cacheLen() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.cache)
}
