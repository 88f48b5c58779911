package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// allowedAlgs are the JWS algorithms a token may be signed with: the
// asymmetric ones go-oidc knows. Never "none", never HMAC (whose key
// would be public).
var allowedAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// maxIssuerResponse bounds what we read from the issuer.
const maxIssuerResponse = 1 << 20

// jwksVerifier validates JWT access tokens (RFC 9068) with go-oidc's
// checks of iss, aud, exp, nbf and the algorithm, against the issuer's
// keys. Discovery happens on first use and is tried again on each login
// until it works, so the server starts while the issuer is down.
type jwksVerifier struct {
	opts OAuthOptions

	mu  sync.Mutex // held during discovery
	ver *oidc.IDTokenVerifier
}

func newJWKSVerifier(opts OAuthOptions) *jwksVerifier { return &jwksVerifier{opts: opts} }

// verifier returns the go-oidc verifier, discovering the issuer first if
// need be.
func (v *jwksVerifier) verifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ver != nil {
		return v.ver, nil
	}
	dctx, cancel := context.WithTimeout(ctx, oauthHTTPTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(dctx, v.opts.HTTPClient), v.opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oauth2 discovery of %s: %w: %v", v.opts.Issuer, ErrOAuthUnavailable, err)
	}
	var meta struct {
		JWKSURL string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKSURL == "" {
		return nil, fmt.Errorf("oauth2 discovery of %s: %w: no jwks_uri", v.opts.Issuer, ErrOAuthUnavailable)
	}
	algs := v.opts.Algorithms
	if len(algs) == 0 {
		for _, a := range meta.Algs {
			if slices.Contains(allowedAlgs, a) {
				algs = append(algs, a)
			}
		}
	}
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	minRefresh := v.opts.JWKSMinRefresh
	if minRefresh == 0 {
		minRefresh = DefaultJWKSMinRefresh
	}
	ks := &keySet{url: meta.JWKSURL, client: v.opts.HTTPClient, now: v.opts.Now, minRefresh: minRefresh}
	for _, a := range algs {
		ks.algs = append(ks.algs, jose.SignatureAlgorithm(a))
	}
	v.ver = oidc.NewVerifier(v.opts.Issuer, ks, &oidc.Config{ClientID: v.opts.Audience,
		SupportedSigningAlgs: algs, Now: v.opts.Now})
	return v.ver, nil
}

// fetchErrKey carries a *error through go-oidc to the key set, which
// stores there a failure to fetch the keys: go-oidc flattens the error
// into text, and a key set we could not fetch is not a bad token.
type fetchErrKey struct{}

// Verify implements TokenVerifier.
func (v *jwksVerifier) Verify(ctx context.Context, token string) (*TokenInfo, error) {
	ver, err := v.verifier(ctx)
	if err != nil {
		return nil, err
	}
	var fetchErr error
	idt, err := ver.Verify(context.WithValue(ctx, fetchErrKey{}, &fetchErr), token)
	if err != nil {
		if fetchErr != nil {
			return nil, fmt.Errorf("oauth2 keys of %s: %w: %v", v.opts.Issuer, ErrOAuthUnavailable, fetchErr)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, jwtError(err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, invalidToken("claims: %v", err)
	}
	return claimsInfo(claims, v.opts)
}

// jwtError names why go-oidc refused a token.
func jwtError(err error) *TokenError {
	var exp *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &exp):
		return invalidToken("expired")
	case strings.Contains(msg, "audience"):
		return invalidToken("wrong audience")
	case strings.Contains(msg, "different provider"):
		return invalidToken("wrong issuer")
	case strings.Contains(msg, "signature"):
		return invalidToken("bad signature")
	case strings.Contains(msg, "nbf"):
		return invalidToken("not valid yet")
	case strings.Contains(msg, "malformed jwt"):
		return invalidToken("malformed token or algorithm not allowed")
	}
	return invalidToken("invalid")
}

// keySet is the issuer's JWKS, cached. Unlike go-oidc's RemoteKeySet it
// fetches the keys again only for a key id it does not know, and at most
// once per minRefresh: a bad signature under a known key costs the
// issuer nothing.
type keySet struct {
	url        string
	client     *http.Client
	now        func() time.Time
	minRefresh time.Duration
	algs       []jose.SignatureAlgorithm

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	fetched  time.Time // of the last attempt; zero before the first
	fetchErr error     // of the last attempt
}

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSigned(jwt, k.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("not exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	if payload, known, err := verifyWith(k.cached(), jws, kid); known {
		return payload, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.fetched.IsZero() && k.minRefresh > 0 && k.now().Sub(k.fetched) < k.minRefresh {
		// Fetched a moment ago, maybe by another login meanwhile.
		if payload, known, err := verifyWith(k.keys, jws, kid); known {
			return payload, err
		}
		if k.fetchErr != nil {
			return nil, reportFetchErr(ctx, k.fetchErr)
		}
		return nil, errors.New("signature by an unknown key")
	}
	if k.fetchErr = k.fetchLocked(ctx); k.fetchErr != nil {
		return nil, reportFetchErr(ctx, k.fetchErr)
	}
	if payload, known, err := verifyWith(k.keys, jws, kid); known {
		return payload, err
	}
	return nil, errors.New("signature by an unknown key")
}

// reportFetchErr hands err to Verify through go-oidc (fetchErrKey).
func reportFetchErr(ctx context.Context, err error) error {
	if p, ok := ctx.Value(fetchErrKey{}).(*error); ok {
		*p = err
	}
	return err
}

// cached returns the keys as last fetched; the slice is never changed,
// only replaced.
func (k *keySet) cached() []jose.JSONWebKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys
}

// verifyWith checks jws with the key kid of keys (any key when the token
// names none); known reports whether there was a key to try.
func verifyWith(keys []jose.JSONWebKey, jws *jose.JSONWebSignature, kid string) (payload []byte, known bool, err error) {
	for i := range keys {
		key := &keys[i]
		if kid != "" && key.KeyID != kid {
			continue
		}
		known = true
		if payload, err = jws.Verify(key); err == nil {
			return payload, true, nil
		}
	}
	if known {
		return nil, true, errors.New("bad signature")
	}
	return nil, false, nil
}

// fetchLocked loads the JWKS (RFC 7517 section 5), keeping the signing
// keys go-jose understands.
func (k *keySet) fetchLocked(ctx context.Context) error {
	k.fetched = k.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", k.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIssuerResponse))
	if err != nil {
		return fmt.Errorf("get %s: %w", k.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s", k.url, resp.Status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return fmt.Errorf("jwks %s: %w", k.url, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return fmt.Errorf("jwks %s: no usable key", k.url)
	}
	k.keys = keys
	return nil
}

// claimsInfo reads a good token's claims (a JWT's, or an introspection
// answer's) and checks the identity claim and the scope.
func claimsInfo(m map[string]any, o OAuthOptions) (*TokenInfo, error) {
	claim := o.Claim
	if claim == "" {
		claim = DefaultOAuthClaim
	}
	id, _ := m[claim].(string)
	if id == "" {
		return nil, invalidToken("no %q claim", claim)
	}
	if claim == "email" {
		switch v := m["email_verified"].(type) {
		case bool:
			if !v {
				return nil, invalidToken("email not verified")
			}
		case string:
			if v == "false" {
				return nil, invalidToken("email not verified")
			}
		}
	}
	info := &TokenInfo{Identity: id}
	info.Subject, _ = m["sub"].(string)
	if exp, ok := m["exp"].(float64); ok {
		info.Expiry = time.Unix(int64(exp), 0)
	}
	switch s := m["scope"].(type) {
	case string:
		info.Scopes = strings.Fields(s)
	}
	switch s := m["scp"].(type) { // Microsoft's and Okta's spelling
	case string:
		info.Scopes = append(info.Scopes, strings.Fields(s)...)
	case []any:
		for _, x := range s {
			if str, ok := x.(string); ok {
				info.Scopes = append(info.Scopes, str)
			}
		}
	}
	if o.Scope != "" && !slices.Contains(info.Scopes, o.Scope) {
		return nil, &TokenError{Status: "insufficient_scope", Reason: "scope " + o.Scope + " missing"}
	}
	return info, nil
}

// oauthChallenge is the JSON of RFC 7628 section 3.2.2.
func oauthChallenge(status, scope, issuer string) []byte {
	m := map[string]string{"status": status}
	if scope != "" {
		m["scope"] = scope
	}
	if issuer != "" {
		m["openid-configuration"] = strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	}
	b, _ := json.Marshal(m)
	return b
}
