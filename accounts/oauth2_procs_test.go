package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
)

// Two letterbox processes of one account refreshing at the same moment
// must not lock the user out: the provider rotates refresh tokens and
// revokes the whole sign-in when a used one comes back. The refresh lock
// serialises them and the refresh token is read again under it.

// refresherEnv names the variables of the helper process.
const refresherEnv = "LETTERBOX_TEST_OAUTH_REFRESHER"

// processAccount is the OAuth2 account the refresh tests use, against
// the provider at idp, with its data directory dir.
func processAccount(tokenURL, ca string) AccountConfig {
	return AccountConfig{Name: "work", Email: "alice@a.test", Mode: ModeIMAP, IMAP: ServerConfig{Host: "127.0.0.1"},
		SMTP: ServerConfig{Host: "127.0.0.1"}, TLSCA: ca, Auth: AuthOAuth2,
		OAuth2Settings: OAuth2Settings{OAuth2Provider: ProviderCustom, OAuth2ClientID: testidp.DefaultClientID,
			OAuth2TokenURL: tokenURL, OAuth2DeviceURL: tokenURL, OAuth2Scopes: strings.Fields(testidp.DefaultScope)}}
}

// signedIn starts a provider and keeps a fresh sign-in's refresh token
// in store.
func signedIn(t *testing.T, store tokenStore) (*testidp.IdP, string) {
	t.Helper()
	idp := testidp.New(t, testidp.Options{User: testidp.User{Subject: "alice", Email: "alice@a.test"}})
	tk, err := idp.Issue(testidp.Grant{User: testidp.User{Subject: "alice", Email: "alice@a.test"}, ClientID: testidp.DefaultClientID,
		Scope: testidp.DefaultScope})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.save(context.Background(), tk.RefreshToken, true); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "idp.pem")
	if err := os.WriteFile(ca, idp.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return idp, ca
}

// refreshRounds forces n refreshes of src one after the other.
func refreshRounds(ctx context.Context, src *oauthSource, n int) error {
	tok, err := src.Token(ctx)
	for i := 0; i < n && err == nil; i++ {
		tok, err = src.Refused(ctx, tok)
	}
	return err
}

// TestOAuth2ConcurrentRefresh: two token sources (as two processes have)
// on one account, keyring shared, refresh again and again at once.
func TestOAuth2ConcurrentRefresh(t *testing.T) {
	dir := t.TempDir()
	secrets := &Secrets{Keyring: &fakeKeyring{}}
	idp, ca := signedIn(t, tokenStore{secrets: secrets, name: "work", dir: dir})
	acct := processAccount(idp.TokenURL(), ca)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const rounds = 10
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		src, err := newOAuthSource(acct, dir, sourceOptions{Secrets: secrets})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = refreshRounds(ctx, src, rounds) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if c := idp.Counts(); c.ReuseDetected != 0 || c.Refreshes != 2*(rounds+1) {
		t.Fatalf("provider counts %+v, want %d refreshes and no reuse", c, 2*(rounds+1))
	}
}

// TestOAuth2TwoProcesses: the same with two real processes (this test
// binary run as a helper), the refresh token in the token file as on a
// machine without a keyring.
func TestOAuth2TwoProcesses(t *testing.T) {
	dir := t.TempDir()
	noKeyring := &Secrets{Keyring: &fakeKeyring{err: errors.New("no keyring in this test")}}
	idp, ca := signedIn(t, tokenStore{secrets: noKeyring, name: "work", dir: dir})
	const rounds = 8
	var wg sync.WaitGroup
	outs := make([]string, 2)
	errs := make([]error, 2)
	for i := range outs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOAuth2RefresherProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), refresherEnv+"="+strings.Join([]string{idp.TokenURL(), ca, dir, strconv.Itoa(rounds)}, "\x1f"))
		wg.Go(func() {
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(out), err
		})
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil || !strings.Contains(outs[i], "refreshed "+strconv.Itoa(rounds)) {
			t.Fatalf("process %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	if c := idp.Counts(); c.ReuseDetected != 0 || c.Refreshes != 2*(rounds+1) {
		t.Fatalf("provider counts %+v, want %d refreshes and no reuse", c, 2*(rounds+1))
	}
	// The sign-in still works.
	src, err := newOAuthSource(processAccount(idp.TokenURL(), ca), dir, sourceOptions{Secrets: noKeyring})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatalf("after the two processes: %v", err)
	}
}

// TestOAuth2RefresherProcess is the helper process of
// TestOAuth2TwoProcesses; it does nothing in a normal run.
func TestOAuth2RefresherProcess(t *testing.T) {
	v := os.Getenv(refresherEnv)
	if v == "" {
		return
	}
	p := strings.Split(v, "\x1f")
	rounds, _ := strconv.Atoi(p[3])
	noKeyring := &Secrets{Keyring: &fakeKeyring{err: errors.New("no keyring in this test")}}
	src, err := newOAuthSource(processAccount(p[0], p[1]), p[2], sourceOptions{Secrets: noKeyring})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := refreshRounds(ctx, src, rounds); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("refreshed %d\n", rounds)
}
