package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
)

// oauthSetup is fakeSetup that knows OAuth2: oauth@example.test signs in
// with Microsoft, sso@example.test with a provider of its own; SaveOAuth2 shows a device code and waits for the
// test to sign in (signIn) or for its context to end.
type oauthSetup struct {
	fakeSetup
	signIn    chan error
	mu        sync.Mutex
	oauthSave []accounts.AccountConfig
	cancelled int
}

func (s *oauthSetup) OAuth2For(_ context.Context, email string) (accounts.OAuth2Hint, bool) {
	switch {
	case strings.HasPrefix(email, "oauth@"):
		return accounts.OAuth2Hint{Provider: accounts.ProviderMicrosoft, Reason: "its mail goes to Microsoft"}, true
	case strings.HasPrefix(email, "sso@"):
		return accounts.OAuth2Hint{Reason: "its autoconfig document lists OAuth2"}, true
	}
	return accounts.OAuth2Hint{}, false
}

func (s *oauthSetup) SaveOAuth2(ctx context.Context, acct accounts.AccountConfig, si accounts.SignInOptions) error {
	si.Prompt(accounts.SignInPrompt{Flow: accounts.FlowDevice, VerificationURI: "https://microsoft.test/devicelogin", UserCode: "WDJB-MJHT",
		Expires: time.Now().Add(15 * time.Minute)})
	select {
	case err := <-s.signIn:
		if err == nil {
			s.mu.Lock()
			s.oauthSave = append(s.oauthSave, acct)
			s.mu.Unlock()
		}
		return err
	case <-ctx.Done():
		s.mu.Lock()
		s.cancelled++
		s.mu.Unlock()
		return ctx.Err()
	}
}

// TestWizardOAuth2: an address that signs in with OAuth2 is offered it;
// the wizard asks for the client id, shows the device code and URL with
// a spinner while the sign-in runs in a Cmd, esc cancels the sign-in's
// context, and a finished sign-in opens the account.
func TestWizardOAuth2(t *testing.T) {
	setup := &oauthSetup{signIn: make(chan error)}
	h := newHarness(t, 100, 30, Options{Setup: setup})
	h.typeText("oauth@example.test")
	h.keys("enter")
	h.wantView("signs in with OAuth2 (its mail goes to Microsoft)", "o sign in with Microsoft (OAuth2)", "p use a password")
	h.keys("o")
	h.wantView("Client id:", "› sign-in")
	h.notView("Token URL:") // a preset needs no endpoints
	h.keys("enter")
	h.wantView("enter the client id")
	h.typeText("my-client")
	h.keys("enter")
	h.waitView("https://microsoft.test/devicelogin", "WDJB-MJHT", "waiting for the sign-in", "esc cancels")

	// esc cancels the sign-in's context and goes back to the form.
	h.keys("esc")
	h.wantView("Client id:")
	deadline := time.Now().Add(5 * time.Second)
	for {
		setup.mu.Lock()
		n := setup.cancelled
		setup.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("esc did not cancel the sign-in's context")
		}
		h.settle()
	}

	// Again, and this time the user signs in.
	h.keys("enter")
	h.waitView("WDJB-MJHT")
	setup.signIn <- nil
	h.settle()
	if h.m.screen != screenMain || len(h.m.accts) != 1 {
		t.Fatalf("after the sign-in: screen %d\n%s", h.m.screen, h.view())
	}
	if len(setup.oauthSave) != 1 || setup.oauthSave[0].Auth != accounts.AuthOAuth2 || setup.oauthSave[0].OAuth2ClientID != "my-client" ||
		setup.oauthSave[0].OAuth2Provider != accounts.ProviderMicrosoft {
		t.Fatalf("saved %+v", setup.oauthSave)
	}
}

// TestWizardOAuth2Failure: a failed sign-in explains itself and offers
// OAuth2 again or a password; a provider without a preset is asked for
// its endpoints.
func TestWizardOAuth2Failure(t *testing.T) {
	setup := &oauthSetup{signIn: make(chan error, 1)}
	h := newHarness(t, 100, 30, Options{Setup: setup})
	h.typeText("sso@example.test")
	h.keys("enter")
	h.wantView("o sign in with its provider (OAuth2)")
	h.keys("o")
	h.wantView("Client id:", "Token URL:", "Device URL:", "Authorization URL:", "Scopes:")
	h.typeText("cid")
	setup.signIn <- accounts.ErrSignIn
	h.keys("enter")
	h.waitView("OAuth2 sign-in failed", "The sign-in did not finish", "o OAuth2")
	h.keys("p")
	h.wantView("Password:")
	h.typeText("secret")
	h.keys("enter")
	if h.m.screen != screenMain || len(setup.saved) != 1 || setup.saved[0].Auth != "" {
		t.Fatalf("password after a failed sign-in: %+v\n%s", setup.saved, h.view())
	}
}
