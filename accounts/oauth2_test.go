package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

func oauthAccount() AccountConfig {
	return AccountConfig{Name: "work", Email: "ann@example.com", Mode: ModeIMAP,
		IMAP: ServerConfig{Host: "imap.example.com"}, SMTP: ServerConfig{Host: "smtp.example.com"},
		Auth: AuthOAuth2, OAuth2Settings: OAuth2Settings{OAuth2Provider: ProviderMicrosoft, OAuth2ClientID: "client"}}
}

// TestOAuth2Validate: the oauth2_* keys are checked like the others.
func TestOAuth2Validate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(a *AccountConfig)
		want string // "" for valid
	}{
		{"microsoft preset", func(a *AccountConfig) {}, ""},
		{"google preset", func(a *AccountConfig) { a.OAuth2Provider = ProviderGoogle }, ""},
		{"custom", func(a *AccountConfig) {
			a.OAuth2Provider, a.OAuth2TokenURL, a.OAuth2DeviceURL, a.OAuth2Scopes = "", "https://idp.example.com/token", "https://idp.example.com/device", []string{"mail"}
		}, ""},
		{"custom on loopback http", func(a *AccountConfig) {
			a.OAuth2Provider, a.OAuth2TokenURL, a.OAuth2AuthURL, a.OAuth2Scopes = ProviderCustom, "http://127.0.0.1:9/token", "http://[::1]:9/auth", []string{"mail"}
		}, ""},
		{"token command only", func(a *AccountConfig) {
			a.OAuth2Settings = OAuth2Settings{OAuth2TokenCmd: "oama access ann@example.com"}
		}, ""},
		{"custom without endpoints", func(a *AccountConfig) { a.OAuth2Provider = ProviderCustom }, "oauth2_token_url and oauth2_auth_url or oauth2_device_url are needed"},
		{"custom without scopes", func(a *AccountConfig) {
			a.OAuth2Provider, a.OAuth2TokenURL, a.OAuth2DeviceURL = "", "https://idp.example.com/token", "https://idp.example.com/device"
		}, "oauth2_scopes is empty"},
		{"http elsewhere", func(a *AccountConfig) { a.OAuth2TokenURL = "http://idp.example.com/token" }, "not https"},
		{"credentials in a URL", func(a *AccountConfig) { a.OAuth2AuthURL = "https://u:p@idp.example.com/a" }, "without credentials"},
		{"no client id", func(a *AccountConfig) { a.OAuth2ClientID = "" }, "oauth2_client_id is empty"},
		{"unknown provider", func(a *AccountConfig) { a.OAuth2Provider = "yahoo" }, `oauth2_provider "yahoo"`},
		{"bad scope", func(a *AccountConfig) { a.OAuth2Scopes = []string{"mail read"} }, "is not a scope"},
		{"password_cmd", func(a *AccountConfig) { a.PasswordCmd = "pass x" }, "password_cmd is set but auth is \"oauth2\""},
		{"oauth2 keys on a password account", func(a *AccountConfig) { a.Auth = "" }, "auth is not \"oauth2\""},
		{"unknown auth", func(a *AccountConfig) { a.Auth = "kerberos" }, `auth "kerberos"`},
		{"control character", func(a *AccountConfig) { a.OAuth2ClientSecretCmd = "pass x\nrm -rf" }, "control character"},
		// A bearer token never crosses the network in clear (RFC 6750
		// section 5.3); on the same machine it may.
		{"imap in clear", func(a *AccountConfig) { a.IMAP.Security = SecurityNone }, `imap.security is "none"`},
		{"smtp in clear", func(a *AccountConfig) { a.SMTP.Security = SecurityNone }, `smtp.security is "none"`},
		{"pop3 in clear", func(a *AccountConfig) {
			a.Mode, a.POP3 = ModePOP3, ServerConfig{Host: "pop.example.com", Security: SecurityNone}
		}, `pop3.security is "none"`},
		{"token command in clear", func(a *AccountConfig) {
			a.OAuth2Settings, a.IMAP.Security = OAuth2Settings{OAuth2TokenCmd: "oama access ann@example.com"}, SecurityNone
		}, `imap.security is "none"`},
		{"in clear on loopback", func(a *AccountConfig) {
			a.IMAP, a.SMTP = ServerConfig{Host: "127.0.0.1", Security: SecurityNone}, ServerConfig{Host: "localhost", Security: SecurityNone}
		}, ""},
	} {
		a := oauthAccount()
		tc.edit(&a)
		err := a.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestOAuth2ConfigFile: the keys round-trip through config.toml, unknown
// keys are still refused, and a secret or a token written there is
// refused with the advice to keep it elsewhere.
func TestOAuth2ConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	cfg := &Config{Accounts: []AccountConfig{oauthAccount()}}
	cfg.Accounts[0].OAuth2Scopes = []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil || got.Accounts[0].OAuth2ClientID != "client" || got.Accounts[0].Auth != AuthOAuth2 || len(got.Accounts[0].OAuth2Scopes) != 2 {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	text, _ := os.ReadFile(path)
	for _, k := range []string{`auth = "oauth2"`, `oauth2_provider = "microsoft"`, `oauth2_client_id = "client"`} {
		if !strings.Contains(string(text), k) {
			t.Errorf("config.toml lacks %s:\n%s", k, text)
		}
	}
	base := "[[account]]\nname = \"work\"\nemail = \"ann@example.com\"\nmode = \"imap\"\nauth = \"oauth2\"\n" +
		"oauth2_provider = \"google\"\noauth2_client_id = \"c\"\n[account.imap]\nhost = \"imap.gmail.com\"\n[account.smtp]\nhost = \"smtp.gmail.com\"\n"
	if _, err := parseConfig([]byte(base)); err != nil {
		t.Fatalf("a valid file: %v", err)
	}
	for key, want := range map[string]string{
		"oauth2_client_secret = \"s\"\n": "do not belong in the config",
		"oauth2_refresh_token = \"t\"\n": "do not belong in the config",
		"oauth2_tenant = \"x\"\n":        `unknown key "oauth2_tenant"`,
	} {
		text := strings.Replace(base, "oauth2_client_id = \"c\"\n", "oauth2_client_id = \"c\"\n"+key, 1)
		if _, err := parseConfig([]byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", strings.TrimSpace(key), err, want)
		}
	}
}

// TestOAuth2For: setup learns that an address signs in with OAuth2 from
// its domain, its MX hosts, or its autoconfig document.
func TestOAuth2For(t *testing.T) {
	oauthDoc := strings.Replace(thunderbirdISPDB, "<authentication>password-cleartext</authentication>",
		"<authentication>OAuth2</authentication><authentication>password-cleartext</authentication>", 1)
	srv, _ := serveAutoconfig(t, map[string]string{"/second/sso.example/config-v1.1.xml": oauthDoc,
		"/second/plain.example/config-v1.1.xml": thunderbirdISPDB})
	var log []string
	d := testDiscoverer(srv, fakeResolver{}, &log)
	d.Resolver = mxResolver{mx: map[string][]*net.MX{
		"corp.example":  {{Host: "corp-example.mail.protection.outlook.com.", Pref: 0}},
		"shop.example":  {{Host: "aspmx.l.google.com.", Pref: 1}},
		"plain.example": {{Host: "mx.plain.example.", Pref: 1}},
	}}
	ctx := context.Background()
	for _, tc := range []struct {
		email, provider, reason string
		ok                      bool
	}{
		{"ann@gmail.com", ProviderGoogle, "gmail.com is Google's", true},
		{"ann@hotmail.com", ProviderMicrosoft, "hotmail.com is Microsoft's", true},
		{"ann@corp.example", ProviderMicrosoft, "MX corp-example.mail.protection.outlook.com", true},
		{"ann@shop.example", ProviderGoogle, "MX aspmx.l.google.com", true},
		{"ann@sso.example", "", "lists OAuth2", true},
		{"ann@plain.example", "", "", false},
	} {
		h, ok := d.OAuth2For(ctx, tc.email)
		if ok != tc.ok || h.Provider != tc.provider || !strings.Contains(h.Reason, tc.reason) {
			t.Errorf("%s: %+v %v", tc.email, h, ok)
		}
	}
	cands, err := ParseAutoconfig([]byte(oauthDoc), "ann@example.com", "test")
	if err != nil || !cands[0].OAuth2 || cands[1].OAuth2 {
		t.Errorf("ParseAutoconfig OAuth2: %+v %v", cands, err)
	}
}

// mxResolver answers MX lookups from a table and has no SRV records.
type mxResolver struct{ mx map[string][]*net.MX }

func (r mxResolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	return fakeResolver{}.LookupSRV(ctx, service, proto, name)
}

func (r mxResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if mx, ok := r.mx[name]; ok {
		return mx, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// TestOAuth2Presets: a preset fills the endpoints, scopes and servers;
// what the account sets wins.
func TestOAuth2Presets(t *testing.T) {
	a := oauthAccount()
	e := a.OAuth2Endpoint()
	if e.DeviceURL == "" || e.RedirectHost != "localhost" || !strings.Contains(strings.Join(e.Scopes, " "), "IMAP.AccessAsUser.All") ||
		!strings.Contains(strings.Join(e.Scopes, " "), "offline_access") || !strings.Contains(strings.Join(e.Scopes, " "), "SMTP.Send") {
		t.Errorf("microsoft: %+v", e)
	}
	a.OAuth2Scopes, a.OAuth2TokenURL = []string{"x"}, "https://other.example/token"
	if e := a.OAuth2Endpoint(); e.TokenURL != "https://other.example/token" || len(e.Scopes) != 1 {
		t.Errorf("overrides: %+v", e)
	}
	g, _ := LookupProvider(ProviderGoogle)
	if g.DeviceURL != "" || g.IMAP.Host != "imap.gmail.com" || g.SMTP.Port != 465 || g.AuthParams["access_type"] != "offline" {
		t.Errorf("google: %+v", g)
	}
	m, _ := LookupProvider(ProviderMicrosoft)
	if m.IMAP != (ServerConfig{Host: "outlook.office365.com", Port: 993, Security: SecurityTLS}) || m.SMTP.Host != "smtp.office365.com" || m.SMTP.Port != 587 {
		t.Errorf("microsoft servers: %+v", m)
	}
	// Google has no device flow for mail: asking for it says why.
	ga := oauthAccount()
	ga.OAuth2Provider = ProviderGoogle
	_, err := SignIn(context.Background(), ga, SignInOptions{Flow: FlowDevice})
	if !errors.Is(err, ErrSignIn) || !strings.Contains(err.Error(), "Google's device flow does not allow the mail scope") {
		t.Errorf("google device flow: %v", err)
	}
	// The preset's servers are what FindServers probes.
	o := AddOptions{Email: "ann@gmail.com", Auth: AuthOAuth2, OAuth2: OAuth2Settings{OAuth2ClientID: "c"}}
	cands, err := o.oauth2Defaults()
	if err != nil || o.OAuth2.OAuth2Provider != ProviderGoogle || len(cands) != 2 || cands[0].Host != "imap.gmail.com" || cands[1].Host != "smtp.gmail.com" {
		t.Errorf("defaults for gmail: %+v %v %v", o.OAuth2, cands, err)
	}
	o = AddOptions{Email: "ann@unknown.example", Auth: AuthOAuth2}
	if _, err := o.oauth2Defaults(); !errors.Is(err, ErrInvalidSetting) || !strings.Contains(err.Error(), "--oauth2-provider") {
		t.Errorf("unknown domain: %v", err)
	}
}

// signInAccount is an account at the provider of e, for SignIn alone.
func signInAccount(e *oauthEnv) AccountConfig {
	o := e.addOptions("work", false)
	return AccountConfig{Name: "work", Email: "alice@a.test", Mode: ModeIMAP, IMAP: ServerConfig{Host: "127.0.0.1"},
		SMTP: ServerConfig{Host: "127.0.0.1"}, TLSCA: e.ca, Auth: AuthOAuth2, OAuth2Settings: o.OAuth2}
}

// TestOAuth2BadInput: each fault of the provider or the browser gives a
// clear error, nothing is saved, and no token is written anywhere.
func TestOAuth2BadInput(t *testing.T) {
	e := newOAuthEnv(t, "jwks", testidp.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acct := signInAccount(e)
	var outputs []string
	prompt := func(p SignInPrompt) { outputs = append(outputs, p.URL+" "+p.UserCode) }

	withFault := func(f testidp.Fault, fn func()) {
		e.idp.SetFault(f, true)
		defer e.idp.SetFault(f, false)
		fn()
	}
	// The provider is down.
	withFault(testidp.FaultDown, func() {
		_, err := SignIn(ctx, acct, SignInOptions{Flow: FlowDevice, Prompt: prompt})
		if !errors.Is(err, ErrSignIn) || !strings.Contains(err.Error(), "cannot be reached") {
			t.Errorf("down: %v", err)
		}
	})
	// The device code expires before the user enters it.
	withFault(testidp.FaultExpiredDeviceCode, func() {
		approved := e.approveNext(ctx) // the code is read, too late
		_, err := SignIn(ctx, acct, SignInOptions{Flow: FlowDevice, Prompt: prompt})
		<-approved
		if !errors.Is(err, ErrSignIn) || !strings.Contains(err.Error(), "expired before it was entered") {
			t.Errorf("expired device code: %v", err)
		}
	})
	// A malformed token response.
	withFault(testidp.FaultMalformedTokenResponse, func() {
		approved := e.approveNext(ctx)
		_, err := SignIn(ctx, acct, SignInOptions{Flow: FlowDevice, Prompt: prompt})
		<-approved
		if !errors.Is(err, ErrSignIn) || !strings.Contains(err.Error(), "token response could not be read") {
			t.Errorf("malformed token response: %v", err)
		}
	})
	// The user refuses consent in the browser.
	_, err := SignIn(ctx, acct, SignInOptions{Flow: FlowBrowser, Prompt: prompt, OpenURL: func(ctx context.Context, u string) error {
		go e.idp.BrowseDeny(ctx, u)
		return nil
	}})
	if !errors.Is(err, ErrSignIn) || !strings.Contains(err.Error(), "the provider refused: access_denied") {
		t.Errorf("consent refused: %v", err)
	}
	// A redirect whose state is not ours (forged or stale).
	saw := make(chan testidp.BrowseResult, 1)
	_, err = SignIn(ctx, acct, SignInOptions{Flow: FlowBrowser, Prompt: prompt, OpenURL: func(ctx context.Context, u string) error {
		pu, _ := url.Parse(u)
		q := pu.Query()
		q.Set("state", "forged")
		pu.RawQuery = q.Encode()
		go func() {
			r, _ := e.idp.Browse(ctx, pu.String())
			saw <- r
		}()
		return nil
	}})
	if !errors.Is(err, ErrSignIn) || !strings.Contains(err.Error(), "state does not match") {
		t.Errorf("state mismatch: %v", err)
	}
	if r := <-saw; r.Status != 400 || !strings.Contains(r.Body, "state does not match") {
		t.Errorf("the browser saw %d %q after a state mismatch", r.Status, r.Body)
	}
	// No browser: the wait ends, saying so.
	_, err = SignIn(ctx, acct, SignInOptions{Flow: FlowBrowser, Timeout: 50 * time.Millisecond,
		OpenURL: func(context.Context, string) error { return errors.New("no browser") }})
	if !errors.Is(err, ErrSignIn) || !strings.Contains(err.Error(), "no answer from the browser within 50ms") {
		t.Errorf("no browser: %v", err)
	}
	// A redirect pasted by the user (the browser could not reach the
	// loopback): what the provider would have redirected to.
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	tok, err := SignIn(ctx, acct, SignInOptions{Flow: FlowBrowser, Paste: pr, OpenURL: func(ctx context.Context, u string) error {
		go func() {
			defer pw.Close()
			r, err := redirectOnly(ctx, e.idp, u)
			if err == nil {
				pw.WriteString("junk\n" + r + "\n")
			}
		}()
		return nil
	}})
	if err != nil || tok.RefreshToken == "" {
		t.Errorf("pasted redirect: %v", err)
	}

	// A token of the wrong audience, and one whose signature fails: the
	// server refuses it at the login test, and nothing is saved.
	for _, f := range []testidp.Fault{testidp.FaultWrongAudience, testidp.FaultBadSignature} {
		withFault(f, func() {
			o := e.addOptions("bad", false)
			o.SignIn = SignInOptions{Flow: FlowDevice, Prompt: prompt}
			approved := e.approveNext(ctx)
			_, err := AddAccount(ctx, o)
			<-approved
			if !errors.Is(err, ErrTokenRefused) || !errors.Is(err, ErrLoginRefused) || !strings.Contains(err.Error(), "the server refused the new OAuth2 token") ||
				!strings.Contains(err.Error(), "nothing saved") {
				t.Errorf("fault %d: %v", f, err)
			}
			if _, serr := os.Stat(o.ConfigPath); serr == nil {
				t.Errorf("fault %d: config.toml was written", f)
			}
		})
	}
	if n := len(e.kr.secrets()); n != 0 {
		t.Errorf("%d refresh tokens kept after failed sign-ins", n)
	}
	e.noTokenLeaked(t, nil, strings.Join(outputs, "\n"))
}

// TestOAuth2RefreshFaults: a refresh against a provider that is down is
// temporary; a malformed answer is a protocol error that says what to
// do; neither is worded with a token.
func TestOAuth2RefreshFaults(t *testing.T) {
	e := newOAuthEnv(t, "jwks", testidp.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := e.addOptions("work", false)
	o.SignIn = SignInOptions{Flow: FlowDevice}
	approved := e.approveNext(ctx)
	acct, err := AddAccount(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	<-approved
	src, err := newOAuthSource(acct, acct.DataDir(o.DataDir), sourceOptions{Secrets: o.Secrets})
	if err != nil {
		t.Fatal(err)
	}
	e.idp.SetFault(testidp.FaultDown, true)
	_, err = src.Token(ctx)
	e.idp.SetFault(testidp.FaultDown, false)
	if !lbsync.IsTemporary(err) || !strings.Contains(err.Error(), "cannot be reached") {
		t.Errorf("provider down: %v (%v)", err, lbsync.KindOf(err))
	}
	// A caller that gives up does not cut the refresh short: it ends,
	// and its token is there for the next caller.
	gone, stop := context.WithCancel(ctx)
	stop()
	if _, err := src.Refused(gone, "x"); lbsync.KindOf(err) != lbsync.Cancelled {
		t.Errorf("cancelled caller: %v", err)
	}
	tok, err := src.Token(ctx)
	if err != nil || tok == "" {
		t.Errorf("after a cancelled caller: %v", err)
	}
	// Last, as the provider rotated the token it could not send: the
	// one kept is now a used one, and the next refresh would be refused.
	e.idp.SetFault(testidp.FaultMalformedTokenResponse, true)
	_, err = src.Refused(ctx, tok)
	e.idp.SetFault(testidp.FaultMalformedTokenResponse, false)
	if lbsync.KindOf(err) != lbsync.Protocol || !strings.Contains(err.Error(), "could not be read") || !strings.Contains(err.Error(), "letterbox account auth work") {
		t.Errorf("malformed: %v (%v)", err, lbsync.KindOf(err))
	}
}

// redirectOnly is the first half of the provider's Browse: the user
// consents and the provider answers with the redirect, which a browser
// that cannot reach the loopback shows in its address bar.
func redirectOnly(ctx context.Context, idp *testidp.IdP, authURL string) (string, error) {
	c := *idp.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" {
		return loc, nil
	}
	return "", fmt.Errorf("no redirect: %s", resp.Status)
}

// FuzzTokenFile: the token file's reader never panics and accepts only
// a refresh token without control characters.
func FuzzTokenFile(f *testing.F) {
	f.Add([]byte(`{"refresh_token":"abc","saved":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"refresh_token":""}`))
	f.Add([]byte(`{"refresh_token":"a\nb"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := parseTokenFile(b)
		if err == nil && (tok == "" || hasControl(tok)) {
			t.Fatalf("accepted %q as %q", b, tok)
		}
	})
}
