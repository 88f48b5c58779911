package testidp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func ctxFor(t *testing.T, p *IdP) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return context.WithValue(ctx, oauth2.HTTPClient, p.HTTPClient())
}

func config(p *IdP) *oauth2.Config {
	return &oauth2.Config{ClientID: DefaultClientID, Scopes: []string{"openid", "email", "mail"},
		Endpoint: oauth2.Endpoint{AuthURL: p.AuthURL(), TokenURL: p.TokenURL(), DeviceAuthURL: p.DeviceURL(),
			AuthStyle: oauth2.AuthStyleInParams}}
}

// retrieveCode is the OAuth2 error code of err, "" when it has none.
func retrieveCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// TestJWKSVerify checks the tokens with go-oidc, as the mail server does:
// discovery, both algorithms, a key rollover, and the faults that must
// fail verification.
func TestJWKSVerify(t *testing.T) {
	p := New(t, Options{})
	ctx := oidc.ClientContext(ctxFor(t, p), p.HTTPClient())
	prov, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	v := prov.VerifierContext(ctx, &oidc.Config{ClientID: DefaultAudience, SupportedSigningAlgs: []string{RS256, ES256}})
	verify := func(tok string) (map[string]any, error) {
		idt, err := v.Verify(ctx, tok)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		return m, idt.Claims(&m)
	}
	issue := func(g Grant) string {
		t.Helper()
		tk, err := p.Issue(g)
		if err != nil {
			t.Fatal(err)
		}
		return tk.AccessToken
	}
	rs := issue(Grant{})
	m, err := verify(rs)
	if err != nil {
		t.Fatalf("RS256 token: %v", err)
	}
	if m["email"] != "alice@example.test" || m["scope"] != DefaultScope || m["iss"] != p.Issuer() {
		t.Errorf("claims %v", m)
	}
	if err := p.SetAlgorithm(ES256); err != nil {
		t.Fatal(err)
	}
	es := issue(Grant{User: User{Email: "bob@example.test"}})
	if m, err := verify(es); err != nil || m["email"] != "bob@example.test" {
		t.Fatalf("ES256 token: %v %v", m, err)
	}
	// Rollover: a token of the new key verifies (go-oidc fetches the
	// JWKS again for the unknown kid); old tokens still do until the old
	// keys are retired.
	fetches := p.Counts().JWKSFetches
	if err := p.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(issue(Grant{})); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	if p.Counts().JWKSFetches == fetches {
		t.Error("the rollover did not make the verifier fetch the JWKS again")
	}
	// A verifier that fetches the JWKS afresh no longer finds the
	// retired key (go-oidc keeps the keys it has cached).
	p.RetireOldKeys()
	fresh := prov.VerifierContext(ctx, &oidc.Config{ClientID: DefaultAudience, SupportedSigningAlgs: []string{RS256, ES256}})
	if _, err := fresh.Verify(ctx, es); err == nil {
		t.Error("a token of a retired key still verifies")
	}
	for _, tc := range []struct {
		name  string
		fault Fault
		grant Grant
		want  string
	}{
		{"bad signature", FaultBadSignature, Grant{}, "signature"},
		{"wrong audience", FaultWrongAudience, Grant{}, "audience"},
		{"expired", -1, Grant{AccessTTL: -time.Minute}, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault >= 0 {
				p.SetFault(tc.fault, true)
				defer p.SetFault(tc.fault, false)
			}
			_, err := verify(issue(tc.grant))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verify: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestDeviceFlow(t *testing.T) {
	p := New(t, Options{})
	ctx := ctxFor(t, p)
	cfg := config(p)
	run := func(decide func(code string) error) (*oauth2.Token, error) {
		t.Helper()
		da, err := cfg.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if da.VerificationURI != p.VerificationURL() || da.Interval != 1 || len(da.UserCode) != 9 {
			t.Fatalf("device authorization %+v", da)
		}
		code, err := p.WaitUserCode(ctx)
		if err != nil || code != da.UserCode {
			t.Fatalf("WaitUserCode = %q, %v; want %q", code, err, da.UserCode)
		}
		if err := decide(strings.ToLower(code)); err != nil {
			t.Fatal(err)
		}
		return cfg.DeviceAccessToken(ctx, da)
	}
	tok, err := run(p.Approve)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !p.Active(tok.AccessToken) {
		t.Fatalf("token %+v", tok)
	}
	if _, err := run(p.Deny); retrieveCode(err) != "access_denied" {
		t.Fatalf("denied: %v", err)
	}
	p.SetFault(FaultExpiredDeviceCode, true)
	if _, err := run(func(string) error { return nil }); retrieveCode(err) != "expired_token" {
		t.Fatalf("expired: %v", err)
	}
	p.SetFault(FaultExpiredDeviceCode, false)
	if c := p.Counts(); c.DeviceGrants != 1 {
		t.Errorf("counts %+v", c)
	}
}

// TestDevicePolling drives the token endpoint by hand: pending, slow_down
// for a poll too soon, expiry by the clock, and a code used once only.
func TestDevicePolling(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	p := New(t, Options{Now: clock.Now, DeviceInterval: 5 * time.Second, DeviceCodeTTL: time.Minute})
	c := p.HTTPClient()
	post := func(u string, v url.Values) map[string]any {
		t.Helper()
		v.Set("client_id", DefaultClientID)
		resp, err := c.PostForm(u, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	da := post(p.DeviceURL(), url.Values{})
	poll := func() string {
		t.Helper()
		m := post(p.TokenURL(), url.Values{"grant_type": {grantDevice}, "device_code": {da["device_code"].(string)}})
		if e, ok := m["error"].(string); ok {
			return e
		}
		return "ok"
	}
	steps := []struct {
		advance time.Duration
		act     func()
		want    string
	}{
		{0, nil, "authorization_pending"},
		{time.Second, nil, "slow_down"},
		{5 * time.Second, nil, "authorization_pending"},
		{5 * time.Second, func() { p.SetFault(FaultSlowDown, true) }, "slow_down"},
		{5 * time.Second, func() {
			if err := p.Approve(da["user_code"].(string)); err != nil {
				t.Fatal(err)
			}
		}, "ok"},
		{5 * time.Second, nil, "invalid_grant"},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if s.act != nil {
			s.act()
		}
		if got := poll(); got != s.want {
			t.Fatalf("step %d: %s, want %s", i, got, s.want)
		}
	}
	da = post(p.DeviceURL(), url.Values{})
	clock.Advance(2 * time.Minute)
	if got := poll(); got != "expired_token" {
		t.Fatalf("after expiry: %s", got)
	}
	if err := p.Approve(da["user_code"].(string)); err == nil {
		t.Fatal("approved an expired user code")
	}
}

// loopbackApp is the client's side of the code flow: a loopback HTTP
// server that receives the redirect.
func loopbackApp(t *testing.T) (redirect string, got <-chan url.Values) {
	ch := make(chan url.Values, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch <- r.URL.Query()
		fmt.Fprintln(w, "signed in; you may close this window")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/callback", ch
}

func TestCodeFlowPKCE(t *testing.T) {
	p := New(t, Options{})
	ctx := ctxFor(t, p)
	cfg := config(p)
	redirect, got := loopbackApp(t)
	cfg.RedirectURL = redirect
	verifier := oauth2.GenerateVerifier()
	res, err := p.Browse(ctx, cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	q := <-got
	if res.Status != 200 || res.State != "st4te" || q.Get("state") != "st4te" || q.Get("code") == "" || q.Get("code") != res.Code {
		t.Fatalf("browse %+v, redirect query %v", res, q)
	}
	if _, err := cfg.Exchange(ctx, res.Code, oauth2.VerifierOption(oauth2.GenerateVerifier())); retrieveCode(err) != "invalid_grant" {
		t.Fatalf("exchange with the wrong verifier: %v", err)
	}
	tok, err := cfg.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := tok.Extra("id_token").(string); id == "" || !p.Active(tok.AccessToken) {
		t.Fatalf("token %+v", tok)
	}
	// The same code again: refused, and what it got is revoked.
	if _, err := cfg.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier)); retrieveCode(err) != "invalid_grant" {
		t.Fatalf("second exchange: %v", err)
	}
	if p.Active(tok.AccessToken) || p.Active(tok.RefreshToken) {
		t.Error("tokens of a code used twice are still active")
	}

	t.Run("no PKCE", func(t *testing.T) {
		res, err := p.Browse(ctx, cfg.AuthCodeURL("s"))
		<-got
		if err != nil || res.Error != "invalid_request" || res.Code != "" {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("plain PKCE", func(t *testing.T) {
		res, err := p.Browse(ctx, cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", verifier),
			oauth2.SetAuthURLParam("code_challenge_method", "plain")))
		<-got
		if err != nil || res.Error != "invalid_request" {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("denied", func(t *testing.T) {
		res, err := p.BrowseDeny(ctx, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		<-got
		if err != nil || res.Error != "access_denied" || res.State != "s" {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("localhost redirect", func(t *testing.T) {
		c := *cfg
		c.RedirectURL = strings.Replace(redirect, "127.0.0.1", "localhost", 1)
		if _, err := p.Browse(ctx, c.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))); err == nil {
			t.Fatal("redirect to localhost allowed")
		}
	})
}

// TestRefreshRotation: each refresh rotates the refresh token; a used one
// presented again revokes the family.
func TestRefreshRotation(t *testing.T) {
	clock := NewManualClock(time.Now())
	p := New(t, Options{Now: clock.Now, AccessTTL: 2 * time.Second})
	ctx := ctxFor(t, p)
	cfg := config(p)
	first, err := p.Issue(Grant{})
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Second)}).Token()
	}
	second, err := refresh(first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate")
	}
	if p.Active(first.RefreshToken) || !p.Active(second.RefreshToken) || !p.Active(first.AccessToken) {
		t.Fatal("after rotation: the old refresh token must be inactive, the new one and the old access token active")
	}
	clock.Advance(3 * time.Second)
	if p.Active(first.AccessToken) {
		t.Error("access token active after its TTL")
	}
	if _, err := refresh(first.RefreshToken); retrieveCode(err) != "invalid_grant" {
		t.Fatalf("reuse: %v", err)
	}
	if p.Active(second.RefreshToken) || p.Active(second.AccessToken) {
		t.Error("reuse did not revoke the family")
	}
	if _, err := refresh(second.RefreshToken); retrieveCode(err) != "invalid_grant" {
		t.Fatalf("refresh in a revoked family: %v", err)
	}
	if c := p.Counts(); c.Refreshes != 1 || c.ReuseDetected != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestIntrospectAndRevoke(t *testing.T) {
	p := New(t, Options{})
	c := p.HTTPClient()
	introspect := func(id, secret, tok string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", p.IntrospectionURL(), strings.NewReader(url.Values{"token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			req.SetBasicAuth(id, secret)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	tk, err := p.Issue(Grant{User: User{Email: "carol@example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	st, m := introspect(DefaultServerClientID, DefaultServerClientSecret, tk.AccessToken)
	if st != 200 || m["active"] != true || m["email"] != "carol@example.test" || m["aud"] != DefaultAudience {
		t.Fatalf("introspect: %d %v", st, m)
	}
	for _, bad := range [][2]string{{"", ""}, {DefaultServerClientID, "wrong"}, {DefaultClientID, ""}} {
		if st, _ := introspect(bad[0], bad[1], tk.AccessToken); st != 401 {
			t.Errorf("introspect as %q/%q: %d, want 401", bad[0], bad[1], st)
		}
	}
	resp, err := c.PostForm(p.RevocationURL(), url.Values{"client_id": {DefaultClientID}, "token": {tk.RefreshToken}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, m := introspect(DefaultServerClientID, DefaultServerClientSecret, tk.AccessToken); m["active"] != false || len(m) != 1 {
		t.Fatalf("after revoking the refresh token, the access token: %v", m)
	}
	p.SetFault(FaultIntrospectionDown, true)
	if st, _ := introspect(DefaultServerClientID, DefaultServerClientSecret, tk.AccessToken); st != 503 {
		t.Errorf("introspection down: %d", st)
	}
}

func TestFaultsOfTheTokenEndpoint(t *testing.T) {
	p := New(t, Options{})
	ctx := ctxFor(t, p)
	cfg := config(p)
	tk, err := p.Issue(Grant{})
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt string) error {
		_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Second)}).Token()
		return err
	}
	p.SetFault(FaultMalformedTokenResponse, true)
	if err := refresh(tk.RefreshToken); err == nil || retrieveCode(err) != "" {
		t.Fatalf("malformed response: %v", err)
	}
	p.SetFault(FaultMalformedTokenResponse, false)
	p.SetFault(FaultDown, true)
	if _, err := cfg.DeviceAuth(ctx); err == nil {
		t.Fatal("device authorization worked while down")
	}
	p.SetFault(FaultDown, false)
	if _, err := cfg.DeviceAuth(ctx); err != nil {
		t.Fatalf("after coming back: %v", err)
	}
}
