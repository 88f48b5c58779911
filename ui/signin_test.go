package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// expiredErr is what a sync of an OAuth2 account says when the provider
// refuses its refresh token.
func expiredErr(name string) error {
	return fmt.Errorf("sync %s: oauth2 refresh %s: %w", name, name, accounts.ErrSignInExpired)
}

// signInHarness is one OAuth2 account, work, whose sync fails because
// its sign-in expired, with the interface's Setup at the provider.
func signInHarness(t *testing.T) (*harness, *fakeBackend, *idpSetup) {
	setup := newIDPSetup(t, true)
	f := newFake("work", 3)
	f.syncErr = expiredErr("work")
	h := newHarness(t, 120, 30, Options{Accounts: []Backend{f}, Setup: setup})
	h.send(syncNowMsg{account: "work"})
	return h, f, setup
}

func syncCount(f *fakeBackend) int {
	n := 0
	for _, c := range f.Calls() {
		if c == "sync" {
			n++
		}
	}
	return n
}

// TestSignInAgain: a sync refused for an expired sign-in marks the
// account in the status line and the sidebar and says which key signs in
// again; that key
// runs the device flow in the interface (the code and URL shown, a
// spinner), the test approves it at the provider, and the account syncs
// again. Before, the interface only showed the error, whose advice was to
// quit and run letterbox account auth.
func TestSignInAgain(t *testing.T) {
	h, f, setup := signInHarness(t)
	h.waitView("work ✗ sign in (A)", "press A to sign in again")
	h.notView("account auth")
	if side := h.m.sidebar.View(); !strings.Contains(side, "✗") {
		t.Fatalf("the sidebar does not mark the account:\n%s", side)
	}

	f.mu.Lock()
	f.syncErr = nil
	f.mu.Unlock()
	h.keys("A")
	h.waitView("Sign in again: work")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, err := setup.idp.WaitUserCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.waitView(code, setup.idp.Issuer(), "waiting for the sign-in", "esc cancels")
	if err := setup.idp.Approve(code); err != nil {
		t.Fatal(err)
	}
	h.waitFor(func() bool { return h.m.screen == screenMain && syncCount(f) == 2 })
	h.waitView("work ●", "work: signed in")
	h.notView("sign in (A)")
	if side := h.m.sidebar.View(); strings.Contains(side, "✗") {
		t.Fatalf("the sidebar still marks the account after the sign-in:\n%s", side)
	}
	if n, _ := setup.counts(); n != 1 {
		t.Fatalf("%d sign-ins", n)
	}
}

// TestSignInAgainCancel: esc cancels the sign-in's context and goes
// back; the account still needs signing in.
func TestSignInAgainCancel(t *testing.T) {
	h, f, setup := signInHarness(t)
	h.waitView("work ✗ sign in (A)")
	h.keys("A")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, err := setup.idp.WaitUserCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.waitView(code)
	h.keys("esc")
	h.waitFor(func() bool { _, c := setup.counts(); return c == 1 })
	if h.m.screen != screenMain {
		t.Fatalf("esc left screen %d", h.m.screen)
	}
	h.settle()
	h.wantView("work ✗ sign in (A)")
	if n := syncCount(f); n != 1 {
		t.Fatalf("%d syncs after a cancelled sign-in", n)
	}
}

// TestSignInAgainRefused: a sign-in refused at the provider says so in
// the view and the status line, offers to try again, and the account
// stays marked.
func TestSignInAgainRefused(t *testing.T) {
	h, f, setup := signInHarness(t)
	h.waitView("work ✗ sign in (A)")
	h.keys("A")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, err := setup.idp.WaitUserCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.waitView(code)
	if err := setup.idp.Deny(code); err != nil {
		t.Fatal(err)
	}
	h.waitView("the sign-in was refused at the provider", "enter tries again")
	h.keys("esc")
	h.wantView("work ✗ sign in (A)")
	if n := syncCount(f); n != 1 {
		t.Fatalf("%d syncs after a refused sign-in", n)
	}
}

// TestAccountSetupReauthorize: the interface's Reauthorize is
// accounts.Reauthorize for an account of config.toml.
func TestAccountSetupReauthorize(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &AccountSetup{ConfigPath: cfg, DataDir: t.TempDir()}
	err := s.Reauthorize(context.Background(), "nope", accounts.SignInOptions{})
	if !errors.Is(err, accounts.ErrUnknownAccount) {
		t.Fatalf("unknown account: %v", err)
	}
}

// TestSignInAgainPasted: the re-sign-in at a provider without a device
// flow, with no browser here, takes the pasted redirect as the wizard
// does.
func TestSignInAgainPasted(t *testing.T) {
	setup := newIDPSetup(t, false)
	f := newFake("work", 3)
	f.syncErr = expiredErr("work")
	h := newHarness(t, 120, 30, Options{Accounts: []Backend{f}, Setup: setup})
	h.send(syncNowMsg{account: "work"})
	h.waitView("work ✗ sign in (A)")
	f.mu.Lock()
	f.syncErr = nil
	f.mu.Unlock()
	h.keys("A")
	authURL := waitURL(t, setup.urls)
	h.waitView("Sign in again: work", "No browser could be opened", "Paste here the address")
	h.process(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(redirectOf(t, setup.idp, authURL)), Paste: true})
	h.keys("enter")
	h.waitFor(func() bool { return h.m.screen == screenMain && syncCount(f) == 2 })
	h.waitView("work ●")
	if n, _ := setup.counts(); n != 1 {
		t.Fatalf("%d sign-ins, errors %v", n, setup.errs)
	}
}
