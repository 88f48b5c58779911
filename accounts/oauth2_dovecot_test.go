package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
	"github.com/letterbox-mail/letterbox/internal/testpeer"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// seedMaildir puts n messages in user's INBOX of a private Dovecot.
func seedMaildir(t *testing.T, d *testpeer.Dovecot, user string, n int) {
	t.Helper()
	inbox := d.MailDir(user)
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(inbox, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		msg := fmt.Sprintf("From: carol@elsewhere.test\r\nTo: %s\r\nSubject: dovecot %d\r\nMessage-ID: <d%d@test>\r\n\r\nhello\r\n", user, i, i)
		name := filepath.Join(inbox, "new", fmt.Sprintf("%d.M%dP1.test", time.Now().Unix(), i))
		if err := os.WriteFile(name, []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.Chown(t, inbox)
}

// TestOAuth2Dovecot proves OAuth2 against Dovecot (passdb oauth2, token
// introspection at the local provider; submission through letterbox
// serve asking the same provider): the account is added with the device
// flow approved by the test, synced over IMAP and POP3 (OAUTHBEARER;
// XOAUTH2 where the server offers only that is sync/imap's test), then
// the provider's clock and the client's pass the token's lifetime and
// the next sync refreshes first (Dovecot, asking the provider, would
// refuse the old token); then the sign-in is revoked and the sync says
// to sign in again.
func TestOAuth2Dovecot(t *testing.T) {
	clock := testidp.NewManualClock(time.Now())
	e := newOAuthEnv(t, "introspection", testidp.Options{Now: clock.Now, AccessTTL: 10 * time.Minute})
	d := testpeer.StartDovecotWith(t, map[string]string{"alice@a.test": "unused-password"}, testpeer.DovecotOptions{
		OAuth2: &testpeer.DovecotOAuth2{IntrospectionURL: e.idp.IntrospectionURL(), ClientID: testidp.DefaultServerClientID,
			ClientSecret: testidp.DefaultServerClientSecret, CAPEM: e.idp.CertPEM()}})
	seedMaildir(t, d, "alice@a.test", 3)
	bundle, err := os.ReadFile(e.ca)
	if err != nil {
		t.Fatal(err)
	}
	dca, _ := os.ReadFile(d.CAFile)
	if err := os.WriteFile(e.ca, append(bundle, dca...), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, pop := range []bool{false, true} {
		name := map[bool]string{false: "imap", true: "pop"}[pop]
		o := e.addOptions(name, pop)
		if pop {
			o.POP3 = d.POP3S
		} else {
			o.IMAP = d.IMAPS
		}
		o.SignIn = SignInOptions{Flow: FlowDevice}
		approved := e.approveNext(ctx)
		acct, err := AddAccount(ctx, o)
		if err != nil {
			t.Fatalf("%s: add: %v", name, err)
		}
		if err := <-approved; err != nil {
			t.Fatal(err)
		}
		a, err := OpenAccountWith(ctx, acct, o.DataDir, OpenOptions{Secrets: o.Secrets, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
			t.Fatalf("%s: sync: %v", name, err)
		}
		if n, err := a.Count(ctx, PageRequest{Folder: "INBOX"}); err != nil || n != 3 {
			t.Fatalf("%s: INBOX has %d messages (%v), want 3", name, n, err)
		}

		before := e.idp.Counts().Refreshes
		clock.Advance(11 * time.Minute)
		if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
			t.Fatalf("%s: sync after the token expired: %v\n%s", name, err, d.Log(t))
		}
		if got := e.idp.Counts().Refreshes; got != before+1 {
			t.Fatalf("%s: %d refreshes after expiry, want 1", name, got-before)
		}

		// Revoked: the access token in memory is refused, and the
		// refresh it brings about is refused too.
		if !e.idp.RevokeFamily(e.kr.entries[KeyringService+"/"+name+refreshUserTail]) {
			t.Fatal("revoke")
		}
		_, err = a.Sync(ctx, SyncOptions{})
		want := "the sign-in for " + name + " has expired or was revoked: run `letterbox account auth " + name + "`"
		if !errors.Is(err, lbsync.ErrAuth) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: sync after revocation: %v", name, err)
		}
		e.noTokenLeaked(t, nil, d.Log(t))
	}
}
