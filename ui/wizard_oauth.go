package ui

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// OAuth2 in the setup wizard: when the address signs in with OAuth2 (its
// domain, MX or autoconfig says so), the wizard offers it beside the
// password; it asks for the client id (and, for a provider without a
// preset, its endpoints), then runs the sign-in in a Cmd that streams
// the device code and URL (or the browser's URL) to the screen, with a
// spinner, until the user signs in or presses esc, which cancels the
// sign-in's context. Update never waits for any of it.

// OAuthSetup is what the wizard needs for OAuth2 accounts; a Setup that
// has it (AccountSetup does) lets the wizard offer OAuth2.
type OAuthSetup interface {
	// OAuth2For says whether email signs in with OAuth2, and at which
	// provider.
	OAuth2For(ctx context.Context, email string) (accounts.OAuth2Hint, bool)
	// SaveOAuth2 signs acct in (si.Prompt receives what the user must
	// do, si.Paste the redirect the user pastes), tests the login, keeps
	// the refresh token and adds acct to config.toml, as
	// accounts.AddAccount does.
	SaveOAuth2(ctx context.Context, acct accounts.AccountConfig, si accounts.SignInOptions) error
}

// OAuth2For asks the account layer's discovery.
func (s *AccountSetup) OAuth2For(ctx context.Context, email string) (accounts.OAuth2Hint, bool) {
	return (&accounts.Discoverer{}).OAuth2For(ctx, email)
}

// SaveOAuth2 is accounts.AddAccount for the configured OAuth2 account;
// the flow is the device flow when the provider has one, else the
// browser (not opened without a display: see noBrowser).
func (s *AccountSetup) SaveOAuth2(ctx context.Context, acct accounts.AccountConfig, si accounts.SignInOptions) error {
	_, err := accounts.AddAccount(ctx, accounts.AddOptions{ConfigPath: s.ConfigPath, Configured: &acct, Auth: accounts.AuthOAuth2,
		DataDir: s.DataDir, Secrets: s.Secrets, SignIn: noBrowser(si, os.Getenv)})
	return err
}

// OAuth2For passes through the gate when the wizard's Setup has it.
func (gs *gatedSetup) OAuth2For(ctx context.Context, email string) (accounts.OAuth2Hint, bool) {
	oset, ok := gs.s.(OAuthSetup)
	if !ok {
		return accounts.OAuth2Hint{}, false
	}
	type hint struct {
		h  accounts.OAuth2Hint
		ok bool
	}
	r, err := through(gs.g, func() (hint, error) {
		h, ok := oset.OAuth2For(ctx, email)
		return hint{h, ok}, nil
	})
	return r.h, err == nil && r.ok
}

// SaveOAuth2 passes through the gate.
func (gs *gatedSetup) SaveOAuth2(ctx context.Context, acct accounts.AccountConfig, si accounts.SignInOptions) error {
	oset, ok := gs.s.(OAuthSetup)
	if !ok {
		return errors.New("this setup cannot add OAuth2 accounts")
	}
	_, err := through(gs.g, func() (struct{}, error) { return struct{}{}, oset.SaveOAuth2(ctx, acct, si) })
	return err
}

var _ OAuthSetup = (*gatedSetup)(nil)

// Messages of the OAuth2 steps.
type (
	// wizardPromptMsg is what the user must do to sign in.
	wizardPromptMsg struct {
		id     int
		prompt accounts.SignInPrompt
		ch     <-chan tea.Msg
	}
)

// oauthFields are the inputs of stepOAuth, in order.
const (
	fieldClientID = iota
	fieldSecretCmd
	fieldTokenURL
	fieldDeviceURL
	fieldAuthURL
	fieldScopes
)

// oauthInputs builds stepOAuth's inputs: the client id and secret
// command, and for a provider without a preset its endpoints and scopes.
func (w *wizardModel) oauthInputs() []textinput.Model {
	o := w.acct.OAuth2Settings
	id := newInput("Client id:             ", "registered with the provider (README, OAuth2)")
	id.SetValue(o.OAuth2ClientID)
	sec := newInput("Client secret command: ", "optional; Google wants one: pass show oauth/google")
	sec.SetValue(o.OAuth2ClientSecretCmd)
	in := []textinput.Model{id, sec}
	if w.oauth.Provider == "" {
		tok := newInput("Token URL:             ", "https://sso.example.com/token")
		tok.SetValue(o.OAuth2TokenURL)
		dev := newInput("Device URL:            ", "https://sso.example.com/device")
		dev.SetValue(o.OAuth2DeviceURL)
		auth := newInput("Authorization URL:     ", "https://sso.example.com/authorize")
		auth.SetValue(o.OAuth2AuthURL)
		sc := newInput("Scopes:                ", "openid email mail")
		sc.SetValue(strings.Join(o.OAuth2Scopes, " "))
		in = append(in, tok, dev, auth, sc)
	}
	return in
}

// updateOAuth handles the OAuth2 steps' messages; ok is false for the
// others.
func (w wizardModel) updateOAuth(msg tea.Msg) (wizardModel, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case wizardPromptMsg:
		if msg.id != w.id {
			return w, nil, true
		}
		var cmd tea.Cmd
		w.pane, cmd = w.pane.setPrompt(msg.prompt)
		return w, tea.Batch(cmd, waitStream(msg.ch)), true
	case wizardSavedMsg:
		if msg.id != w.id || w.step != stepSignIn {
			return w, nil, false // the password path's, or stale
		}
		w.cancel = nil
		w.pane.close()
		if msg.err != nil {
			return w.fail(stepSignIn, msg.err), nil, true
		}
		return w, func() tea.Msg { return wizardDoneMsg{b: msg.b, feed: msg.feed} }, true
	}
	return w, nil, false
}

// keyOAuth handles the keys of the choice and sign-in steps.
func (w wizardModel) keyOAuth(msg tea.KeyMsg) (wizardModel, tea.Cmd) {
	s := msg.String()
	switch w.step {
	case stepAuthChoice:
		switch s {
		case "o", "enter":
			return w, w.enter(stepOAuth)
		case "p":
			return w, w.enter(stepPassword)
		case "esc":
			return w, w.enter(stepAddress)
		}
	case stepSignIn:
		if s == "esc" {
			w.stopSignIn()
			return w, w.enter(stepOAuth)
		}
		var cmd tea.Cmd
		w.pane, cmd = w.pane.key(msg)
		return w, cmd
	}
	return w, nil
}

// stopSignIn cancels a running sign-in and drops its results.
func (w *wizardModel) stopSignIn() {
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
	w.id++
	w.pane.close()
	w.pane.prompt = nil
}

// submitOAuth takes stepOAuth's answers and starts the sign-in.
func (w wizardModel) submitOAuth() (wizardModel, tea.Cmd) {
	val := func(i int) string {
		if i < len(w.inputs) {
			return strings.TrimSpace(w.inputs[i].Value())
		}
		return ""
	}
	o := accounts.OAuth2Settings{OAuth2Provider: w.oauth.Provider, OAuth2ClientID: val(fieldClientID), OAuth2ClientSecretCmd: val(fieldSecretCmd)}
	if w.oauth.Provider == "" {
		o.OAuth2Provider = accounts.ProviderCustom
		o.OAuth2TokenURL, o.OAuth2DeviceURL, o.OAuth2AuthURL = val(fieldTokenURL), val(fieldDeviceURL), val(fieldAuthURL)
		o.OAuth2Scopes = strings.Fields(val(fieldScopes))
	}
	if o.OAuth2ClientID == "" {
		w.err = errors.New("enter the client id you registered with the provider (the README says how)")
		return w, nil
	}
	w.err = nil
	w.acct.Auth, w.acct.OAuth2Settings, w.acct.PasswordCmd = accounts.AuthOAuth2, o, ""
	return w.signIn()
}

// signIn runs SaveOAuth2 (sign-in, login test, keeping the token and
// config.toml), then opens the account, streaming the sign-in's prompt.
func (w wizardModel) signIn() (wizardModel, tea.Cmd) {
	w.stopSignIn()
	oset, ok := w.setup.(OAuthSetup)
	if !ok {
		return w.fail(stepSignIn, errors.New("this setup cannot add OAuth2 accounts")), nil
	}
	ctx, cancel := context.WithCancel(w.ctx)
	w.cancel = cancel
	w.log = append(w.log, "signing in…")
	w.pane = w.pane.reset().setWidth(w.width)
	id, setup, acct, box := w.id, w.setup, w.acct, w.pane.box
	start := w.enter(stepSignIn)
	return w, tea.Batch(start, func() tea.Msg {
		ch := make(chan tea.Msg, 4)
		go func() {
			defer close(ch)
			defer cancel()
			defer box.close()
			err := oset.SaveOAuth2(ctx, acct, accounts.SignInOptions{Paste: box, Prompt: func(p accounts.SignInPrompt) {
				select {
				case ch <- wizardPromptMsg{id: id, prompt: p, ch: ch}:
				case <-ctx.Done():
				}
			}})
			if err != nil {
				ch <- wizardSavedMsg{id: id, err: err}
				return
			}
			b, err := setup.Open(ctx, acct)
			if err != nil {
				ch <- wizardSavedMsg{id: id, err: err}
				return
			}
			ch <- wizardSavedMsg{id: id, b: b, feed: b.Subscribe()}
		}()
		return waitStream(ch)()
	})
}

// oauthView is what the OAuth2 steps show above the log.
func (w wizardModel) oauthView() []string {
	st := w.c.Styles
	var out []string
	switch w.step {
	case stepAuthChoice:
		who := "its provider"
		if w.oauth.Provider != "" {
			who = providerName(w.oauth.Provider)
		}
		out = append(out, wrapText(w.acct.Email+" signs in with OAuth2 ("+w.oauth.Reason+").", w.width-2),
			"", st.Prompt.Render("o")+" sign in with "+who+" (OAuth2)",
			st.Prompt.Render("p")+" use a password instead (an app password)")
	case stepSignIn:
		out = append(out, w.pane.view(st, w.spin.View(), w.width)...)
	}
	return out
}

// providerName is a provider's name for people.
func providerName(p string) string {
	switch p {
	case accounts.ProviderGoogle:
		return "Google"
	case accounts.ProviderMicrosoft:
		return "Microsoft"
	}
	return p
}
