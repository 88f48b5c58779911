package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/internal/testidp"
	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
	"github.com/letterbox-mail/letterbox/store"
)

// memKeyring is an in-memory OS keyring for the command line's tests.
type memKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *memKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[service+"/"+user]
	if !ok {
		return "", accounts.ErrNotInKeyring
	}
	return v, nil
}

func (k *memKeyring) Set(service, user, pw string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.m[service+"/"+user] = pw
	return nil
}

func (k *memKeyring) Delete(service, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, service+"/"+user)
	return nil
}

func (k *memKeyring) values() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, v := range k.m {
		out = append(out, v)
	}
	return out
}

// lockedBuf is a bytes.Buffer for concurrent writers.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// oauthCLI is the command line's world for OAuth2: a provider, letterbox
// serve for a.test checking its tokens, a CA bundle trusting both (and
// more, for a Dovecot), a keyring, a browser the test plays.
type oauthCLI struct {
	t       *testing.T
	idp     *testidp.IdP
	srv     *server.Server
	dir     string
	ca      string
	kr      *memKeyring
	srvLogs *lockedBuf
	idpLogs *lockedBuf
	browse  func(ctx context.Context, url string) error
}

func newOAuthCLI(t *testing.T, mode string, opts testidp.Options) *oauthCLI {
	t.Helper()
	c := &oauthCLI{t: t, dir: t.TempDir(), kr: &memKeyring{}, srvLogs: &lockedBuf{}, idpLogs: &lockedBuf{}}
	opts.User = testidp.User{Subject: "alice", Email: "alice@a.test"}
	opts.Logf = func(f string, a ...any) { fmt.Fprintf(c.idpLogs, f+"\n", a...) }
	c.idp = testidp.New(t, opts)
	write := func(name string, b []byte) string {
		p := filepath.Join(c.dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certPEM, keyPEM, err := tlsutil.SelfSignedPEM([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	c.ca = write("ca.pem", append(append([]byte{}, certPEM...), c.idp.CertPEM()...))
	lo := "127.0.0.1:0"
	cfg := &server.Config{Hostname: "mx.a.test", Domains: []string{"a.test"}, Data: filepath.Join(c.dir, "server"),
		Listen: server.Listen{SMTP: lo, Submission: lo, SMTPS: lo, IMAP: lo, IMAPS: lo, POP3: lo, POP3S: lo}}
	cfg.TLS.Cert, cfg.TLS.Key = write("cert.pem", certPEM), write("key.pem", keyPEM)
	cfg.OAuth2 = server.OAuth2Config{Issuer: c.idp.Issuer(), Audience: testidp.DefaultAudience, Mode: mode, CAFile: write("idp.pem", c.idp.CertPEM())}
	if mode == "introspection" {
		cfg.OAuth2.ClientID = testidp.DefaultServerClientID
		cfg.OAuth2.ClientSecretFile = write("secret", []byte(testidp.DefaultServerClientSecret))
	}
	cfg.Limits.AuthMaxDelay.Duration = time.Millisecond
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(c.srvLogs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice@a.test", "bob@a.test"} {
		if err := s.Backend.Users.Add(u, "unused-password"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	st, err := s.Backend.Store(context.Background(), "alice@a.test")
	if err != nil {
		t.Fatal(err)
	}
	st.Append(context.Background(), "INBOX", strings.NewReader("From: carol@elsewhere.test\r\nSubject: for the token holder\r\n\r\nhi\r\n"), store.AppendOptions{})
	c.srv = s
	return c
}

// run runs the command line with the test's keyring and browser.
func (c *oauthCLI) run(stdin string, args ...string) (int, string, string) {
	var out, errb lockedBuf
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
		keyring: c.kr, openURL: c.browse}
	all := append([]string{"--config", filepath.Join(c.dir, "config.toml"), "--data", filepath.Join(c.dir, "data")}, args...)
	code := runEnv(context.Background(), e, all)
	return code, out.String(), errb.String()
}

// approveNext approves the next device code, as a person would.
func (c *oauthCLI) approveNext() <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code, err := c.idp.WaitUserCode(ctx)
		if err == nil {
			err = c.idp.Approve(code)
		}
		done <- err
	}()
	return done
}

// oauthFlags are the account add flags for the provider (custom).
func (c *oauthCLI) oauthFlags() []string {
	return []string{"--auth", "oauth2", "--oauth2-provider", "custom", "--oauth2-client-id", testidp.DefaultClientID,
		"--oauth2-auth-url", c.idp.AuthURL(), "--oauth2-token-url", c.idp.TokenURL(), "--oauth2-device-url", c.idp.DeviceURL(),
		"--oauth2-scopes", strings.ReplaceAll(testidp.DefaultScope, " ", ","), "--tls-ca", c.ca}
}

// noTokenLeaked fails when a refresh token the keyring holds, or one of
// tokens, is in config.toml, the server's or provider's log, or outs.
func (c *oauthCLI) noTokenLeaked(tokens []string, outs ...string) {
	c.t.Helper()
	cfg, _ := os.ReadFile(filepath.Join(c.dir, "config.toml"))
	texts := append([]string{string(cfg), c.srvLogs.String(), c.idpLogs.String()}, outs...)
	for _, tok := range append(tokens, c.kr.values()...) {
		for i, text := range texts {
			if len(tok) >= 8 && strings.Contains(text, tok) {
				c.t.Errorf("a token (%.8s…) is in text %d (0 config.toml, 1 server log, 2 provider log, then outputs)", tok, i)
			}
		}
	}
}

// TestOAuth2CLI: account add --auth oauth2 headless, with the device
// flow's prompt as a JSON event and on stderr, the browser flow played
// by the test, then sync, send and account test with the kept sign-in;
// account auth signs in again; the flags are checked.
func TestOAuth2CLI(t *testing.T) {
	c := newOAuthCLI(t, "jwks", testidp.Options{})
	imaps, smtps, pop3s := c.srv.Addr("imaps").String(), c.srv.Addr("smtps").String(), c.srv.Addr("pop3s").String()

	// Device flow, --json: the prompt is one JSON event, then the account.
	approved := c.approveNext()
	code, out, errs := c.run("", append([]string{"account", "add", "work", "--email", "alice@a.test", "--imap", imaps, "--smtp", smtps,
		"--security", "tls", "--smtp-security", "tls", "--json"}, c.oauthFlags()...)...)
	if code != 0 {
		t.Fatalf("account add (device): %d\n%s", code, errs)
	}
	if err := <-approved; err != nil {
		t.Fatal(err)
	}
	rows := jsonLines(t, "account add --auth oauth2 --json", out, 2)
	checkSchema(t, "oauth2 device", rows[0])
	checkSchema(t, "account", rows[1])
	if rows[0]["type"] != "oauth2_sign_in" || rows[0]["flow"] != "device" || rows[0]["verification_uri"] != c.idp.VerificationURL() || rows[1]["auth"] != "oauth2" {
		t.Fatalf("events %v", rows)
	}
	// The default flow without a display or a terminal is the device
	// flow, its prompt on stderr.
	approved = c.approveNext()
	code, out, errs = c.run("", append([]string{"account", "add", "pop", "--email", "alice@a.test", "--mode", "pop3", "--pop3", pop3s,
		"--smtp", smtps, "--security", "tls", "--smtp-security", "tls"}, c.oauthFlags()...)...)
	<-approved
	if code != 0 || !strings.Contains(errs, "To sign in pop, open "+c.idp.VerificationURL()) || !strings.Contains(errs, "and enter the code ") ||
		!strings.Contains(errs, "the refresh token is kept in the OS keyring") {
		t.Fatalf("account add (device, stderr): %d\n%s\n%s", code, out, errs)
	}

	// Browser flow, the test plays the browser on the URL our client
	// would open.
	c.browse = func(ctx context.Context, u string) error {
		go c.idp.Browse(context.Background(), u)
		return nil
	}
	code, out, errs = c.run("", append([]string{"account", "add", "web", "--email", "alice@a.test", "--imap", imaps, "--smtp", smtps,
		"--security", "tls", "--smtp-security", "tls", "--json", "--oauth2-flow", "browser"}, c.oauthFlags()...)...)
	if code != 0 {
		t.Fatalf("account add (browser): %d\n%s", code, errs)
	}
	rows = jsonLines(t, "browser flow", out, 2)
	checkSchema(t, "oauth2 browser", rows[0])
	if u, _ := rows[0]["url"].(string); !strings.HasPrefix(u, c.idp.AuthURL()+"?") || !strings.Contains(u, "code_challenge_method=S256") || rows[0]["opened"] != true {
		t.Fatalf("browser event %v", rows[0])
	}

	for _, name := range []string{"work", "pop", "web"} {
		if code, out, errs := c.run("", "sync", name); code != 0 {
			t.Fatalf("sync %s: %d\n%s%s", name, code, out, errs)
		}
		if code, _, errs := c.run("", "account", "test", name); code != 0 {
			t.Fatalf("account test %s: %d\n%s", name, code, errs)
		}
	}
	code, out, errs = c.run("hello with a token\n", "send", "work", "--to", "bob@a.test", "--subject", "token")
	if code != 0 {
		t.Fatalf("send: %d\n%s%s", code, out, errs)
	}
	code, out, _ = c.run("", "account", "show", "work")
	if code != 0 || !strings.Contains(out, "oauth2 (custom, refresh token in the OS keyring)") {
		t.Fatalf("account show: %s", out)
	}
	code, _, errs = c.run("", "account", "password", "work", "--password-stdin")
	if code != exitUsage || !strings.Contains(errs, "letterbox account auth work") {
		t.Fatalf("account password of an OAuth2 account: %d %s", code, errs)
	}

	// account auth: sign in again; --json says where the token went.
	approved = c.approveNext()
	code, out, errs = c.run("", "account", "auth", "work", "--oauth2-flow", "device", "--json")
	<-approved
	if code != 0 {
		t.Fatalf("account auth: %d\n%s", code, errs)
	}
	rows = jsonLines(t, "account auth --json", out, 2)
	checkSchema(t, "oauth2 device", rows[0])
	checkSchema(t, "account auth", rows[1])
	if rows[1]["token_store"] != "keyring" {
		t.Fatalf("account auth: %v", rows[1])
	}

	// Usage errors.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"account", "add", "x", "--email", "alice@a.test", "--oauth2-client-id", "c"}, "need --auth oauth2"},
		{[]string{"account", "add", "x", "--email", "alice@a.test", "--auth", "kerberos"}, `--auth "kerberos"`},
		{[]string{"account", "add", "x", "--email", "alice@a.test", "--auth", "oauth2", "--oauth2-flow", "telepathy"}, "want device or browser"},
		{[]string{"account", "add", "x", "--email", "alice@a.test", "--auth", "oauth2", "--password-stdin"}, "takes no password"},
		{[]string{"account", "add", "x", "--email", "ann@gmail.com", "--auth", "oauth2"}, "oauth2_client_id is empty"},
		{[]string{"account", "add", "x", "--email", "ann@nowhere.example", "--auth", "oauth2"}, "--oauth2-provider"},
		{[]string{"account", "auth", "x", "--oauth2-flow", "carrier-pigeon"}, "want device or browser"},
	} {
		if code, _, errs := c.run("", tc.args...); code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %s", tc.args, code, errs)
		}
	}
	if code, _, errs := c.run("", "account", "auth", "nobody"); code != exitNotFound {
		t.Errorf("account auth of an unknown account: %d %s", code, errs)
	}
	c.noTokenLeaked(nil, out, errs)
}

// TestOAuth2CLIHint: an address that signs in with OAuth2, added without
// --auth and without a password, gets told what to use.
func TestOAuth2CLIHint(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := cli(t, dir, "", "account", "add", "x", "--email", "ann@gmail.com")
	if code != exitUsage || !strings.Contains(errs, "ann@gmail.com signs in with OAuth2 (gmail.com is Google's): add --auth oauth2 --oauth2-provider google") {
		t.Fatalf("gmail without --auth: %d %s", code, errs)
	}
}

// TestOAuth2CLIDovecot is the command line against Dovecot (passdb
// oauth2 with introspection at the provider; submission through
// letterbox serve asking the same provider): account add --auth oauth2
// with the device flow approved by the test, sync, a sync after the
// access token expired (the provider's clock moved on, so Dovecot would
// refuse the old token; each command is a process of its own and
// refreshes at its first login: accounts TestOAuth2Dovecot shows one
// process refreshing at expiry), a revoked sign-in that says what to do,
// and account auth that brings it back.
func TestOAuth2CLIDovecot(t *testing.T) {
	clock := testidp.NewManualClock(time.Now())
	c := newOAuthCLI(t, "introspection", testidp.Options{Now: clock.Now, AccessTTL: 10 * time.Minute})
	d := testpeer.StartDovecotWith(t, map[string]string{"alice@a.test": "unused-password"}, testpeer.DovecotOptions{
		OAuth2: &testpeer.DovecotOAuth2{IntrospectionURL: c.idp.IntrospectionURL(), ClientID: testidp.DefaultServerClientID,
			ClientSecret: testidp.DefaultServerClientSecret, CAPEM: c.idp.CertPEM()}})
	bundle, _ := os.ReadFile(c.ca)
	dca, _ := os.ReadFile(d.CAFile)
	os.WriteFile(c.ca, append(bundle, dca...), 0o600)
	// Mail for alice, put there by Dovecot's own delivery path: a
	// Maildir file.
	inbox := d.MailDir("alice@a.test")
	for _, sub := range []string{"new", "cur", "tmp"} {
		os.MkdirAll(filepath.Join(inbox, sub), 0o755)
	}
	os.WriteFile(filepath.Join(inbox, "new", "1.M1P1.test"), []byte("From: carol@elsewhere.test\r\nSubject: via dovecot\r\n\r\nhi\r\n"), 0o644)
	d.Chown(t, inbox)

	approved := c.approveNext()
	code, out, errs := c.run("", append([]string{"account", "add", "work", "--email", "alice@a.test", "--imap", d.IMAPS,
		"--smtp", c.srv.Addr("smtps").String(), "--security", "tls", "--smtp-security", "tls", "--oauth2-flow", "device"}, c.oauthFlags()...)...)
	if err := <-approved; err != nil || code != 0 {
		t.Fatalf("account add: %d %v\n%s%s", code, err, out, errs)
	}
	code, out, errs = c.run("", "sync", "work")
	if code != 0 {
		t.Fatalf("sync: %d\n%s%s\n%s", code, out, errs, d.Log(t))
	}
	code, out, _ = c.run("", "list", "work", "--json")
	if rows := jsonLines(t, "list", out, 1); code != 0 || rows[0]["subject"] != "via dovecot" {
		t.Fatalf("list: %v", rows)
	}
	before := c.idp.Counts().Refreshes
	clock.Advance(11 * time.Minute)
	if code, out, errs := c.run("", "sync", "work"); code != 0 {
		t.Fatalf("sync after expiry: %d\n%s%s", code, out, errs)
	}
	if c.idp.Counts().Refreshes <= before {
		t.Fatal("no refresh after expiry")
	}

	rt, _ := c.kr.Get(accounts.KeyringService, "work:oauth2-refresh")
	if !c.idp.RevokeFamily(rt) {
		t.Fatal("revoke")
	}
	code, out, errs = c.run("", "sync", "work")
	want := "the sign-in for work has expired or was revoked: run `letterbox account auth work`"
	if code != exitFailure || !strings.Contains(out+errs, want) {
		t.Fatalf("sync after revocation: %d\n%s%s", code, out, errs)
	}
	approved = c.approveNext()
	if code, _, errs := c.run("", "account", "auth", "work", "--oauth2-flow", "device"); code != 0 {
		t.Fatalf("account auth: %d %s", code, errs)
	}
	<-approved
	if code, out, errs := c.run("", "sync", "work"); code != 0 {
		t.Fatalf("sync after account auth: %d\n%s%s", code, out, errs)
	}
	c.noTokenLeaked([]string{rt}, out, errs, d.Log(t))
}

// TestOAuth2CLIRevoked: once the provider revoked the sign-in, send,
// sync and account test say to sign in again with account auth (not to
// fix a password, and not that a server refused a token), and the
// message waits in the Outbox until then.
func TestOAuth2CLIRevoked(t *testing.T) {
	c := newOAuthCLI(t, "jwks", testidp.Options{})
	approved := c.approveNext()
	code, _, errs := c.run("", append([]string{"account", "add", "work", "--email", "alice@a.test", "--imap", c.srv.Addr("imaps").String(),
		"--smtp", c.srv.Addr("smtps").String(), "--security", "tls", "--smtp-security", "tls", "--oauth2-flow", "device"}, c.oauthFlags()...)...)
	if err := <-approved; err != nil || code != 0 {
		t.Fatalf("account add: %d %v\n%s", code, err, errs)
	}
	rt, _ := c.kr.Get(accounts.KeyringService, "work:oauth2-refresh")
	if !c.idp.RevokeFamily(rt) {
		t.Fatal("revoke")
	}
	want := "run `letterbox account auth work`"
	var outs []string
	for _, args := range [][]string{{"send", "work", "--to", "bob@a.test", "--subject", "waits"}, {"sync", "work"}, {"account", "test", "work"}} {
		code, out, errs := c.run("hi\n", args...)
		outs = append(outs, out, errs)
		if code == 0 || !strings.Contains(out+errs, want) || strings.Contains(out+errs, "account password") ||
			strings.Contains(out+errs, "server refused") {
			t.Errorf("%v after revocation: %d\n%s%s", args, code, out, errs)
		}
	}
	approved = c.approveNext()
	if code, _, errs := c.run("", "account", "auth", "work", "--oauth2-flow", "device"); code != 0 {
		t.Fatalf("account auth: %d %s", code, errs)
	}
	<-approved
	if code, out, errs := c.run("", "outbox", "work", "--flush"); code != 0 {
		t.Fatalf("outbox --flush after account auth: %d\n%s%s", code, out, errs)
	}
	c.noTokenLeaked([]string{rt}, outs...)
}

// TestOAuth2CLITokenCmd: with --oauth2-token-cmd an external helper
// prints the access token: account add tests it and keeps nothing,
// sync and send use it, a token the server refuses runs the command
// once more (the helper's refreshed token is used), and a token it
// keeps printing that the server refuses says what to fix.
func TestOAuth2CLITokenCmd(t *testing.T) {
	c := newOAuthCLI(t, "jwks", testidp.Options{})
	tokFile := filepath.Join(c.dir, "helper-token")
	give := func(ttl time.Duration) string {
		tk, err := c.idp.Issue(testidp.Grant{User: testidp.User{Subject: "alice", Email: "alice@a.test"}, AccessTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(tokFile, []byte(tk.AccessToken+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return tk.AccessToken
	}
	good := give(time.Hour)
	code, out, errs := c.run("", "account", "add", "work", "--email", "alice@a.test", "--imap", c.srv.Addr("imaps").String(),
		"--smtp", c.srv.Addr("smtps").String(), "--security", "tls", "--smtp-security", "tls", "--tls-ca", c.ca,
		"--auth", "oauth2", "--oauth2-token-cmd", "cat "+tokFile)
	if code != 0 {
		t.Fatalf("account add --oauth2-token-cmd: %d\n%s%s", code, out, errs)
	}
	if v := c.kr.values(); len(v) != 0 {
		t.Fatalf("the keyring got %d entries for an account whose token comes from a command", len(v))
	}
	if code, out, errs := c.run("", "sync", "work"); code != 0 {
		t.Fatalf("sync: %d\n%s%s", code, out, errs)
	}
	if code, out, errs := c.run("hi\n", "send", "work", "--to", "bob@a.test", "--subject", "helper"); code != 0 {
		t.Fatalf("send: %d\n%s%s", code, out, errs)
	}
	// The helper hands out a token that expired; by the next login it
	// has a fresh one (a helper refreshes on each run): the refusal runs
	// the command again and the sync goes through.
	dead := give(-time.Second)
	cmdFile := filepath.Join(c.dir, "helper.sh")
	script := "#!/bin/sh\nn=$(cat " + tokFile + ".n 2>/dev/null || echo 0)\necho $((n+1)) > " + tokFile + ".n\n" +
		"if [ \"$n\" = 0 ]; then cat " + tokFile + "; else echo " + good + "; fi\n"
	if err := os.WriteFile(cmdFile, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(c.dir, "config.toml")
	cfg, _ := os.ReadFile(cfgPath)
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(cfg), "cat "+tokFile, cmdFile, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := c.run("", "sync", "work"); code != 0 {
		t.Fatalf("sync with a refused token, then the helper's fresh one: %d\n%s%s", code, out, errs)
	}
	// A helper that only has a refused token: sync fails and names the
	// command, not account auth (letterbox keeps no sign-in here).
	os.WriteFile(cfgPath, cfg, 0o600)
	code, out, errs = c.run("", "sync", "work")
	if code == 0 || !strings.Contains(out+errs, "oauth2_token_cmd") || strings.Contains(out+errs, "account auth") {
		t.Fatalf("sync with a helper's refused token: %d\n%s%s", code, out, errs)
	}
	if code, _, errs := c.run("", "account", "auth", "work"); code != exitUsage || !strings.Contains(errs, "oauth2_token_cmd") {
		t.Fatalf("account auth of a token-command account: %d %s", code, errs)
	}
	c.noTokenLeaked([]string{good, dead}, out, errs)
}

// TestOAuth2CLIDefaultFlow: on a terminal without a display (an SSH
// session), a provider without a device flow (Google's mail scope) signs
// in with the browser flow by default, its URL to open elsewhere and the
// redirect to paste back, instead of failing on the device flow.
func TestOAuth2CLIDefaultFlow(t *testing.T) {
	c := newOAuthCLI(t, "jwks", testidp.Options{})
	tty := openTerminal(t)
	c.browse = func(ctx context.Context, u string) error {
		go c.idp.Browse(context.Background(), u)
		return errors.New("no display")
	}
	// The provider's endpoints without its device endpoint.
	flags := []string{"--auth", "oauth2", "--oauth2-provider", "custom", "--oauth2-client-id", testidp.DefaultClientID,
		"--oauth2-auth-url", c.idp.AuthURL(), "--oauth2-token-url", c.idp.TokenURL(),
		"--oauth2-scopes", strings.ReplaceAll(testidp.DefaultScope, " ", ","), "--tls-ca", c.ca}
	var out, errb lockedBuf
	e := &env{stdin: tty, stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, keyring: c.kr, openURL: c.browse}
	args := append([]string{"--config", filepath.Join(c.dir, "config.toml"), "--data", filepath.Join(c.dir, "data"),
		"account", "add", "web", "--email", "alice@a.test", "--imap", c.srv.Addr("imaps").String(), "--smtp", c.srv.Addr("smtps").String(),
		"--security", "tls", "--smtp-security", "tls"}, flags...)
	if code := runEnv(context.Background(), e, args); code != 0 || !strings.Contains(errb.String(), "paste here the address") {
		t.Fatalf("account add without a device flow, on a terminal: %d\n%s", code, errb.String())
	}
}

// openTerminal returns the follower side of a new pseudo-terminal.
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the terminal: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return pts
}

// TestOAuth2CLIClientSecret: a provider that wants a client secret even
// from a desktop app (as Google does) gets it from
// --oauth2-client-secret-cmd, at the sign-in and at every refresh; only
// the command is in config.toml; a wrong secret says which settings to
// check.
func TestOAuth2CLIClientSecret(t *testing.T) {
	const secret = "desktop-s3cret-value"
	c := newOAuthCLI(t, "jwks", testidp.Options{Clients: []testidp.Client{{ID: "desktop", Secret: secret},
		{ID: testidp.DefaultServerClientID, Secret: testidp.DefaultServerClientSecret}}})
	secretFile := filepath.Join(c.dir, "client-secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.browse = func(ctx context.Context, u string) error {
		go c.idp.Browse(context.Background(), u)
		return nil
	}
	add := func(name, secretCmd string) (int, string) {
		flags := []string{"--auth", "oauth2", "--oauth2-provider", "custom", "--oauth2-client-id", "desktop",
			"--oauth2-client-secret-cmd", secretCmd, "--oauth2-auth-url", c.idp.AuthURL(), "--oauth2-token-url", c.idp.TokenURL(),
			"--oauth2-scopes", strings.ReplaceAll(testidp.DefaultScope, " ", ","), "--tls-ca", c.ca, "--oauth2-flow", "browser"}
		code, _, errs := c.run("", append([]string{"account", "add", name, "--email", "alice@a.test", "--imap", c.srv.Addr("imaps").String(),
			"--smtp", c.srv.Addr("smtps").String(), "--security", "tls", "--smtp-security", "tls"}, flags...)...)
		return code, errs
	}
	if code, errs := add("bad", "echo wrong-secret"); code == 0 || !strings.Contains(errs, "refused the client (invalid_client") ||
		!strings.Contains(errs, "oauth2_client_secret_cmd") {
		t.Fatalf("a wrong client secret: %d\n%s", code, errs)
	}
	if code, errs := add("work", "cat "+secretFile); code != 0 {
		t.Fatalf("account add with a client secret command: %d\n%s", code, errs)
	}
	before := c.idp.Counts().Refreshes
	if code, out, errs := c.run("", "sync", "work"); code != 0 {
		t.Fatalf("sync (a refresh with the secret): %d\n%s%s", code, out, errs)
	}
	if c.idp.Counts().Refreshes == before {
		t.Fatal("sync did not refresh")
	}
	cfg, _ := os.ReadFile(filepath.Join(c.dir, "config.toml"))
	if strings.Contains(string(cfg), secret) || !strings.Contains(string(cfg), `oauth2_client_secret_cmd = "cat `+secretFile+`"`) {
		t.Fatalf("config.toml:\n%s", cfg)
	}
	c.noTokenLeaked([]string{secret})
}
