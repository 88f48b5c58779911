package accounts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/internal/testidp"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// offsetClock is a clock the test moves forward, for the client's idea
// of when its access token expires (the provider and the server keep
// real time, so the tokens they check stay valid by theirs).
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *offsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// TestOAuth2Serve proves OAuth2 end to end against letterbox serve with
// JWKS validation: an IMAP account added with the device flow (approved
// by the test), synced, and sending through SMTPS; a POP3 account added
// with the browser flow (the test plays the browser on the URL our
// client would open) and synced; the access token refreshed before it
// expires, the rotated refresh token saved at once; a token the server
// refuses refreshed and the login retried once. No token reaches a log,
// an output or config.toml.
func TestOAuth2Serve(t *testing.T) {
	e := newOAuthEnv(t, "jwks", testidp.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var progress []string
	var prompts []SignInPrompt

	// IMAP, device flow.
	o := e.addOptions("work", false)
	o.SignIn = SignInOptions{Flow: FlowDevice, Prompt: func(p SignInPrompt) { prompts = append(prompts, p) }}
	o.Progress = func(p AddProgress) { progress = append(progress, p.Text) }
	approved := e.approveNext(ctx)
	acct, err := AddAccount(ctx, o)
	if err != nil {
		t.Fatalf("add with the device flow: %v", err)
	}
	if err := <-approved; err != nil {
		t.Fatal(err)
	}
	if len(prompts) != 1 || prompts[0].UserCode == "" || prompts[0].VerificationURI != e.idp.VerificationURL() {
		t.Fatalf("device prompt %+v", prompts)
	}
	if acct.Auth != AuthOAuth2 || acct.OAuth2ClientID != testidp.DefaultClientID || acct.PasswordCmd != "" {
		t.Fatalf("saved %+v", acct)
	}
	if rt := e.kr.entries[KeyringService+"/work"+refreshUserTail]; rt == "" {
		t.Fatalf("no refresh token in the keyring: %v", e.kr.entries)
	}
	if !strings.Contains(strings.Join(progress, "\n"), "the refresh token is kept in the OS keyring") {
		t.Errorf("progress does not say where the token is: %q", progress)
	}

	clock := &offsetClock{}
	a, err := OpenAccountWith(ctx, acct, o.DataDir, OpenOptions{Secrets: o.Secrets, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatalf("sync: %v", err)
	}
	msgs, err := a.List(ctx, "INBOX", "", 10)
	if err != nil || len(msgs) != 1 || msgs[0].Subject != "for the token holder" {
		t.Fatalf("INBOX after sync: %v %+v", err, msgs)
	}
	d := a.Compose()
	d.To, d.Subject, d.Body = []compose.Address{{Addr: "bob@a.test"}}, "sent with a token", "hi"
	if _, err := a.Queue(ctx, d); err != nil {
		t.Fatal(err)
	}
	if res, err := a.FlushOutbox(ctx, false, nil); err != nil || len(res.Sent) != 1 {
		t.Fatalf("send: %+v %v", res, err)
	}

	// The access token is refreshed before it expires (by the client's
	// clock), and the rotated refresh token replaces the old one at once.
	before := e.idp.Counts().Refreshes
	oldRT := e.kr.entries[KeyringService+"/work"+refreshUserTail]
	clock.Advance(2 * time.Minute) // the provider's tokens live a minute
	if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatalf("sync after expiry: %v", err)
	}
	if got := e.idp.Counts().Refreshes; got != before+1 {
		t.Fatalf("refreshes %d, want %d", got, before+1)
	}
	if rt := e.kr.entries[KeyringService+"/work"+refreshUserTail]; rt == oldRT || rt == "" {
		t.Fatal("the rotated refresh token was not saved")
	}

	// A token the server refuses (it expired, though the client thought
	// it fresh) is refreshed and the login tried once more.
	dead, err := e.idp.Issue(testidp.Grant{User: testidp.User{Subject: "alice", Email: "alice@a.test"}, AccessTTL: -time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a.oauth.mu.Lock()
	a.oauth.tok.AccessToken = dead.AccessToken
	a.oauth.mu.Unlock()
	before = e.idp.Counts().Refreshes
	if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatalf("sync with a refused token: %v", err)
	}
	if got := e.idp.Counts().Refreshes; got != before+1 {
		t.Fatalf("refreshes after a refusal %d, want %d", got, before+1)
	}

	// POP3, browser flow: the test plays the browser on the URL the
	// client would open.
	po := e.addOptions("pop", true)
	browsed := make(chan testidp.BrowseResult, 1)
	po.SignIn = SignInOptions{Flow: FlowBrowser, OpenURL: func(ctx context.Context, u string) error {
		go func() {
			r, err := e.idp.Browse(ctx, u)
			if err != nil {
				t.Errorf("browse: %v", err)
			}
			browsed <- r
		}()
		return nil
	}}
	pacct, err := AddAccount(ctx, po)
	if err != nil {
		t.Fatalf("add with the browser flow: %v", err)
	}
	if r := <-browsed; r.Status != 200 || !strings.Contains(r.Body, "Signed in") {
		t.Fatalf("the browser saw %d %q", r.Status, r.Body)
	}
	pa, err := OpenAccountWith(ctx, pacct, po.DataDir, OpenOptions{Secrets: po.Secrets})
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	if r, err := pa.Sync(ctx, SyncOptions{}); err != nil || r.POP3 == nil || r.POP3.Downloaded != 1 {
		t.Fatalf("pop3 sync: %+v %v", r.POP3, err)
	}
	if c := e.idp.Counts(); c.CodeGrants != 1 || c.DeviceGrants != 1 || c.ReuseDetected != 0 {
		t.Fatalf("provider counts %+v", c)
	}

	// account test: the stored sign-in works for both protocols.
	if err := TestAccountLogin(ctx, acct, o.DataDir, o.Secrets); err != nil {
		t.Fatalf("TestAccountLogin: %v", err)
	}
	a.oauth.mu.Lock()
	held := []string{a.oauth.tok.AccessToken, dead.AccessToken, pa.oauth.tok.AccessToken}
	a.oauth.mu.Unlock()
	e.noTokenLeaked(t, held, strings.Join(progress, "\n"))
}

// TestOAuth2Revoked: once the provider revoked the sign-in, the next
// refresh says what to do, and the sync fails with kind Auth (Watch
// stops, the interface asks the user); account auth signs in again.
func TestOAuth2Revoked(t *testing.T) {
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
	rt := e.kr.entries[KeyringService+"/work"+refreshUserTail]
	if !e.idp.RevokeFamily(rt) {
		t.Fatal("revoke")
	}
	a, err := OpenAccountWith(ctx, acct, o.DataDir, OpenOptions{Secrets: o.Secrets})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.Sync(ctx, SyncOptions{})
	want := "the sign-in for work has expired or was revoked: run `letterbox account auth work`"
	if !errors.Is(err, ErrSignInExpired) || !errors.Is(err, lbsync.ErrAuth) || !strings.Contains(err.Error(), want) {
		t.Fatalf("sync after revocation: %v", err)
	}
	// Sending says the same, and the message waits in the Outbox.
	d := a.Compose()
	d.To, d.Subject, d.Body = []compose.Address{{Addr: "bob@a.test"}}, "waits", "hi"
	if _, err := a.Queue(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FlushOutbox(ctx, false, nil); !errors.Is(err, ErrQueued) || !strings.Contains(err.Error(), want) {
		t.Fatalf("send after revocation: %v", err)
	}
	// account test says the same: the provider refused the refresh; no
	// server refused a token, so it is not a login refusal that blames
	// the provider, client id or scopes the servers accept.
	err = TestAccountLogin(ctx, acct, o.DataDir, o.Secrets)
	if !errors.Is(err, ErrSignInExpired) || errors.Is(err, ErrLoginRefused) || !strings.Contains(err.Error(), want) ||
		strings.Contains(err.Error(), "server refused") {
		t.Fatalf("account test after revocation: %v", err)
	}

	approved = e.approveNext(ctx)
	place, err := Reauthorize(ctx, ReauthOptions{ConfigPath: o.ConfigPath, Name: "work", DataDir: o.DataDir, Secrets: o.Secrets,
		SignIn: SignInOptions{Flow: FlowDevice}})
	if err != nil || !place.Keyring {
		t.Fatalf("reauthorize: %v %v", place, err)
	}
	<-approved
	if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatalf("sync after signing in again: %v", err)
	}
	if _, err := RemoveAccount(ctx, o.ConfigPath, o.DataDir, "work", o.Secrets, false); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.kr.entries[KeyringService+"/work"+refreshUserTail]; ok {
		t.Fatal("the refresh token stays in the keyring after account remove")
	}
}

// TestOAuth2NoKeyring: without a keyring the refresh token goes to a
// 0600 file in the account's directory, and the setup says so; the file
// is then the one read and rotated.
func TestOAuth2NoKeyring(t *testing.T) {
	e := newOAuthEnv(t, "jwks", testidp.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := e.addOptions("work", false)
	o.Secrets = &Secrets{Keyring: &fakeKeyring{err: errors.New("dbus: no session bus")}}
	o.SignIn = SignInOptions{Flow: FlowDevice}
	var progress []string
	o.Progress = func(p AddProgress) { progress = append(progress, p.Text) }
	approved := e.approveNext(ctx)
	acct, err := AddAccount(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	<-approved
	file := filepath.Join(acct.DataDir(o.DataDir), TokenFileName)
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	if p := strings.Join(progress, "\n"); !strings.Contains(p, file+" (mode 0600; no OS keyring could take it)") {
		t.Fatalf("setup does not say where the token went: %q", p)
	}
	if got := OAuth2TokenPlace(acct, o.DataDir); got.File != file {
		t.Fatalf("OAuth2TokenPlace = %+v", got)
	}
	before, _ := os.ReadFile(file)
	a, err := OpenAccountWith(ctx, acct, o.DataDir, OpenOptions{Secrets: o.Secrets})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(file)
	if string(before) == string(after) {
		t.Fatal("the rotated refresh token was not written to the token file")
	}
	rt, err := parseTokenFile(after)
	if err != nil {
		t.Fatal(err)
	}
	e.noTokenLeaked(t, []string{rt})
	// Removing the account removes its refresh token.
	if _, err := RemoveAccount(ctx, o.ConfigPath, o.DataDir, "work", o.Secrets, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token file after account remove: %v", err)
	}
}
