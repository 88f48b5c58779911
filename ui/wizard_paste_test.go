package ui

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/internal/testidp"
)

// idpSetup is fakeSetup whose OAuth2 sign-ins are real ones, run by
// accounts.SignIn against the local identity provider with what the
// interface passes (its prompt, its pasted redirect): the wizard's
// SaveOAuth2 and the re-sign-in's Reauthorize. No browser can be opened
// (as over SSH): the authorization URL goes to urls. The provider has a
// device endpoint only with device (Google's mail scope has none).
type idpSetup struct {
	fakeSetup
	idp    *testidp.IdP
	ca     string
	device bool
	urls   chan string

	mu        sync.Mutex
	tokens    []string // refresh tokens got, by account
	cancelled int
	errs      []error
}

func newIDPSetup(t *testing.T, device bool) *idpSetup {
	t.Helper()
	idp := testidp.New(t, testidp.Options{User: testidp.User{Subject: "alice", Email: "alice@example.test"}})
	ca := filepath.Join(t.TempDir(), "idp.pem")
	if err := os.WriteFile(ca, idp.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return &idpSetup{idp: idp, ca: ca, device: device, urls: make(chan string, 4)}
}

func (s *idpSetup) OAuth2For(_ context.Context, email string) (accounts.OAuth2Hint, bool) {
	return accounts.OAuth2Hint{Reason: "its autoconfig document lists OAuth2"}, strings.HasPrefix(email, "alice@")
}

// signIn runs the real sign-in of name at the provider.
func (s *idpSetup) signIn(ctx context.Context, name string, si accounts.SignInOptions) error {
	o := accounts.OAuth2Settings{OAuth2Provider: accounts.ProviderCustom, OAuth2ClientID: testidp.DefaultClientID,
		OAuth2AuthURL: s.idp.AuthURL(), OAuth2TokenURL: s.idp.TokenURL(), OAuth2Scopes: strings.Fields(testidp.DefaultScope)}
	if s.device {
		o.OAuth2DeviceURL = s.idp.DeviceURL()
	}
	acct := accounts.AccountConfig{Name: name, Email: "alice@example.test", Mode: accounts.ModeIMAP,
		IMAP: accounts.ServerConfig{Host: "127.0.0.1"}, SMTP: accounts.ServerConfig{Host: "127.0.0.1"},
		TLSCA: s.ca, Auth: accounts.AuthOAuth2, OAuth2Settings: o}
	si.OpenURL = func(_ context.Context, u string) error {
		s.urls <- u
		return errors.New("no display")
	}
	tok, err := accounts.SignIn(ctx, acct, si)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case ctx.Err() != nil:
		s.cancelled++
	case err != nil:
		s.errs = append(s.errs, err)
	default:
		s.tokens = append(s.tokens, tok.RefreshToken)
	}
	return err
}

func (s *idpSetup) SaveOAuth2(ctx context.Context, acct accounts.AccountConfig, si accounts.SignInOptions) error {
	return s.signIn(ctx, acct.Name, si)
}

func (s *idpSetup) Reauthorize(ctx context.Context, name string, si accounts.SignInOptions) error {
	return s.signIn(ctx, name, si)
}

func (s *idpSetup) counts() (tokens, cancelled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens), s.cancelled
}

// redirectOf plays a browser on another machine: the user consents at
// the provider, which redirects to the loopback address that browser
// cannot reach; the address bar holds the redirect, returned here.
func redirectOf(t *testing.T, idp *testidp.IdP, authURL string) string {
	t.Helper()
	c := *idp.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if loc == "" || !strings.Contains(loc, "code=") {
		t.Fatalf("the provider did not redirect: %s %q", resp.Status, loc)
	}
	return loc
}

func waitURL(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("no authorization URL")
		return ""
	}
}

// TestWizardOAuth2PastedRedirect: with a provider that has no device
// flow (Google's mail scope) and no browser on this machine (SSH), the
// wizard shows the authorization URL and an input where the user pastes
// the address the browser ended on; the sign-in finishes with it (before,
// the wizard waited for a loopback redirect that could never come).
func TestWizardOAuth2PastedRedirect(t *testing.T) {
	setup := newIDPSetup(t, false)
	h := newHarness(t, 120, 30, Options{Setup: setup})
	h.typeText("alice@example.test")
	h.keys("enter")
	h.wantView("signs in with OAuth2")
	h.keys("o")
	h.typeText(testidp.DefaultClientID)
	h.keys("enter")
	authURL := waitURL(t, setup.urls)
	h.waitView("No browser could be opened", "Paste here the address", "esc cancels")

	// Something that is not the redirect is refused, saying what is
	// wanted; the sign-in goes on.
	h.typeText("4/0AbCdEf")
	h.keys("enter")
	h.waitView("paste the whole address")
	if n, _ := setup.counts(); n != 0 || h.m.wizard.step != stepSignIn {
		t.Fatalf("a bad paste ended the sign-in: step %d", h.m.wizard.step)
	}

	redirect := redirectOf(t, setup.idp, authURL)
	for range len("4/0AbCdEf") {
		h.process(keyMsg("backspace"))
	}
	h.process(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(redirect), Paste: true})
	h.keys("enter")
	h.waitFor(func() bool { return h.m.screen == screenMain })
	if n, _ := setup.counts(); n != 1 || len(h.m.accts) != 1 {
		t.Fatalf("after the pasted redirect: %d tokens, %d accounts, errors %v", n, len(h.m.accts), setup.errs)
	}
}

// TestNoBrowser: without a display the interface's sign-in opens no
// browser (xdg-open could start a text browser on this terminal); the
// prompt then says to open the URL elsewhere.
func TestNoBrowser(t *testing.T) {
	none := func(string) string { return "" }
	if accounts.BrowserAvailable(none) {
		t.Skip("this system always has a browser")
	}
	si := noBrowser(accounts.SignInOptions{}, none)
	if si.OpenURL == nil || si.OpenURL(context.Background(), "https://idp.test/") == nil {
		t.Fatal("a browser would be started without a display")
	}
	display := func(k string) string {
		if k == "DISPLAY" {
			return ":0"
		}
		return ""
	}
	if si := noBrowser(accounts.SignInOptions{}, display); si.OpenURL != nil {
		t.Fatal("with a display the system's browser is not used")
	}
}
