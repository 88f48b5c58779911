package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/letterbox-mail/letterbox/accounts"
)

// fakeSetup plays the wizard's Setup: Configure logs two steps and
// succeeds for addresses at example.test; TestLogin accepts "secret".
type fakeSetup struct {
	mu      sync.Mutex
	saved   []accounts.AccountConfig
	saveErr error
	manual  ManualServers
}

func (s *fakeSetup) Configure(ctx context.Context, name, email string, manual ManualServers, log func(string)) (accounts.AccountConfig, error) {
	s.mu.Lock()
	s.manual = manual
	s.mu.Unlock()
	log("autoconfig https://autoconfig.example.test/…: not found")
	log("probing imap.example.test:993…")
	if !strings.HasSuffix(email, "@example.test") && manual.IMAP == "" {
		return accounts.AccountConfig{}, fmt.Errorf("configure %s: %w", name, &accounts.ProbeError{Protocol: accounts.IMAP,
			Attempts: []accounts.Attempt{{Endpoint: accounts.Endpoint{Host: "imap.nowhere.test", Port: 993}, Err: errors.New("connection refused")}}})
	}
	return accounts.AccountConfig{Name: name, Email: email, Mode: accounts.ModeIMAP,
		IMAP: accounts.ServerConfig{Host: "imap.example.test", Port: 993, Security: accounts.SecurityTLS},
		SMTP: accounts.ServerConfig{Host: "smtp.example.test", Port: 465, Security: accounts.SecurityTLS}}, nil
}

func (s *fakeSetup) TestLogin(ctx context.Context, acct accounts.AccountConfig, password string) error {
	if password != "secret" {
		return fmt.Errorf("IMAP imap.example.test:993: %w (NO [AUTHENTICATIONFAILED])", accounts.ErrLoginRefused)
	}
	return nil
}

func (s *fakeSetup) Save(ctx context.Context, acct accounts.AccountConfig, password, passwordCmd string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveErr != nil && passwordCmd == "" {
		return s.saveErr
	}
	acct.PasswordCmd = passwordCmd
	s.saved = append(s.saved, acct)
	return nil
}

func (s *fakeSetup) Open(ctx context.Context, acct accounts.AccountConfig) (Backend, error) {
	return newFake(acct.Name, 4), nil
}

func TestWizardAddsAccount(t *testing.T) {
	setup := &fakeSetup{}
	h := newHarness(t, 90, 24, Options{Setup: setup})
	h.wantView("add your mail account", "E-mail address:")
	h.typeText("ann@example.test")
	h.keys("tab")
	if v := h.m.wizard.inputs[1].Value(); v != "example" {
		t.Fatalf("default name %q", v)
	}
	h.keys("enter")
	h.wantView("✓ address", "probing imap.example.test:993", "found: IMAP imap.example.test:993 (tls)", "Password:")
	h.typeText("wrong")
	h.keys("enter")
	h.wantView("login refused", "app password", "r retry")
	h.keys("p")
	h.typeText("secret")
	h.keys("enter")
	if h.m.screen != screenMain || len(h.m.accts) != 1 {
		t.Fatalf("after setup: screen %d, %d accounts\n%s", h.m.screen, len(h.m.accts), h.view())
	}
	h.wantView("example › INBOX", "Message number 1")
	if len(setup.saved) != 1 || setup.saved[0].Email != "ann@example.test" {
		t.Fatalf("saved %+v", setup.saved)
	}
}

func TestWizardExplainsFailures(t *testing.T) {
	setup := &fakeSetup{saveErr: fmt.Errorf("keep the password: %w", accounts.ErrNoKeyring)}
	h := newHarness(t, 100, 30, Options{Setup: setup})
	h.keys("enter")
	h.wantView("enter an e-mail address")
	h.typeText("ann@nowhere.test")
	h.keys("enter")
	h.wantView("no IMAP server answered", "imap.nowhere.test:993: connection refused", "enter the servers your provider gives (m)")
	h.keys("m")
	h.wantView("IMAP server:", "SMTP server:")
	h.typeText("mail.nowhere.test:993")
	h.keys("tab", "tab")
	h.typeText("mail.nowhere.test:465")
	h.keys("enter")
	if setup.manual.IMAP != "mail.nowhere.test:993" || setup.manual.SMTP != "mail.nowhere.test:465" {
		t.Fatalf("manual servers %+v", setup.manual)
	}
	h.wantView("Password:")
	h.typeText("secret")
	h.keys("enter")
	h.wantView("keyring", "password command instead (p)")
	h.keys("p", "tab")
	h.typeText("echo secret")
	h.keys("enter")
	if h.m.screen != screenMain || setup.saved[0].PasswordCmd != "echo secret" {
		t.Fatalf("after setup: screen %d, saved %+v\n%s", h.m.screen, setup.saved, h.view())
	}
}
