package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// Signing an OAuth2 account in again inside the interface. When the
// provider refuses an account's refresh token (a sync or a send fails
// with accounts.ErrSignInExpired, or ErrNotSignedIn), the status line
// marks the account "✗ sign in (A)" and says which key signs it in
// again. That key (KeyMap.SignIn) opens the sign-in view, which runs
// accounts.Reauthorize (what letterbox account auth NAME runs: the
// sign-in, the login test with the new token, the token kept) in a Cmd,
// showing the device code or the browser's URL with the paste input
// (oauth_pane.go, as in the wizard); esc cancels the sign-in's context.
// Once signed in, the account syncs again: its token source reads the
// new refresh token from where Reauthorize kept it.

// ReauthSetup is a Setup that can sign an OAuth2 account in again;
// AccountSetup is one.
type ReauthSetup interface {
	// Reauthorize signs account name in again, tests the login and
	// keeps the new refresh token (accounts.Reauthorize); si.Prompt
	// receives what the user must do, si.Paste the pasted redirect.
	Reauthorize(ctx context.Context, name string, si accounts.SignInOptions) error
}

// Reauthorize is accounts.Reauthorize for account name of config.toml.
func (s *AccountSetup) Reauthorize(ctx context.Context, name string, si accounts.SignInOptions) error {
	_, err := accounts.Reauthorize(ctx, accounts.ReauthOptions{ConfigPath: s.ConfigPath, Name: name, DataDir: s.DataDir,
		Secrets: s.Secrets, SignIn: noBrowser(si, os.Getenv)})
	return err
}

// Reauthorize passes through the gate when the Setup has it.
func (gs *gatedSetup) Reauthorize(ctx context.Context, name string, si accounts.SignInOptions) error {
	rs, ok := gs.s.(ReauthSetup)
	if !ok {
		return errNoReauth
	}
	_, err := through(gs.g, func() (struct{}, error) { return struct{}{}, rs.Reauthorize(ctx, name, si) })
	return err
}

var (
	_ ReauthSetup = (*AccountSetup)(nil)
	_ ReauthSetup = (*gatedSetup)(nil)
)

var errNoReauth = errors.New("this interface cannot sign accounts in: quit and run letterbox account auth")

// needsSignIn reports whether err means the account must sign in again.
func needsSignIn(err error) bool {
	return err != nil && (errors.Is(err, accounts.ErrSignInExpired) || errors.Is(err, accounts.ErrNotSignedIn))
}

// signInModel is the re-sign-in view of one account.
type signInModel struct {
	c       *Common
	account string
	back    screen // where esc and a finished sign-in return
	id      int    // of the running sign-in; stale results drop
	cancel  context.CancelFunc
	running bool
	pane    signInPane
	spin    spinner.Model
	err     error
	width   int
}

// Messages of the re-sign-in.
type (
	signInPromptMsg struct {
		id     int
		prompt accounts.SignInPrompt
		ch     <-chan tea.Msg
	}
	signInDoneMsg struct {
		id      int
		account string
		err     error
	}
)

func newSignIn(c *Common) signInModel {
	return signInModel{c: c, spin: spinner.New(spinner.WithSpinner(spinner.Dot))}
}

// setWidth follows the window's width.
func (s signInModel) setWidth(w int) signInModel {
	s.width = w
	s.pane = s.pane.setWidth(w)
	return s
}

// stop cancels a running sign-in and drops its results.
func (s signInModel) stop() signInModel {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.pane.close()
	s.id++
	s.running = false
	return s
}

// start runs rs.Reauthorize for account name in a Cmd that streams the
// prompt, then the result.
func (s signInModel) start(ctx context.Context, rs ReauthSetup, name string) (signInModel, tea.Cmd) {
	s = s.stop()
	s.account, s.err, s.running = name, nil, true
	s.pane = s.pane.reset().setWidth(s.width)
	rctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	id, box := s.id, s.pane.box
	return s, tea.Batch(s.spin.Tick, func() tea.Msg {
		ch := make(chan tea.Msg, 4)
		go func() {
			defer close(ch)
			defer cancel()
			defer box.close()
			err := rs.Reauthorize(rctx, name, accounts.SignInOptions{Paste: box, Prompt: func(p accounts.SignInPrompt) {
				select {
				case ch <- signInPromptMsg{id: id, prompt: p, ch: ch}:
				case <-rctx.Done():
				}
			}})
			ch <- signInDoneMsg{id: id, account: name, err: err}
		}()
		return waitStream(ch)()
	})
}

// Update handles the spinner and the paste input's blinks.
func (s signInModel) Update(msg tea.Msg) (signInModel, tea.Cmd) {
	var cmd tea.Cmd
	if _, ok := msg.(spinner.TickMsg); ok {
		if !s.running {
			return s, nil
		}
		s.spin, cmd = s.spin.Update(msg)
		return s, cmd
	}
	s.pane, cmd = s.pane.update(msg)
	return s, cmd
}

func (s signInModel) View() string {
	st := s.c.Styles
	lines := []string{st.Title.Render("Sign in again: " + s.account), ""}
	if s.running {
		lines = append(lines, s.pane.view(st, s.spin.View(), s.width)...)
	}
	if s.err != nil {
		for _, l := range strings.Split(wrapText(s.err.Error(), max(20, s.width-2)), "\n") {
			lines = append(lines, st.Error.Render(l))
		}
		lines = append(lines, "", st.Dim.Render("enter tries again · esc goes back"))
	}
	return strings.Join(lines, "\n")
}

// openSignIn opens the sign-in view for the current account when it
// needs signing in, else for the first account that does, else for the
// current one (to sign in as another user).
func (m Model) openSignIn() (tea.Model, tea.Cmd) {
	if len(m.accts) == 0 {
		return m, nil
	}
	name := m.accts[m.cur].b.Name()
	if m.status.online[name] != linkSignIn {
		for _, a := range m.accts {
			if m.status.online[a.b.Name()] == linkSignIn {
				name = a.b.Name()
				break
			}
		}
	}
	rs, ok := m.opts.Setup.(ReauthSetup)
	if !ok || m.opts.Setup == nil {
		return m, func() tea.Msg { return errMsg{fmt.Errorf("%s: %w %s", name, errNoReauth, name)} }
	}
	if m.signin.c == nil {
		m.signin = newSignIn(m.c)
	}
	m.signin = m.signin.setWidth(m.c.Width)
	m.signin.back, m.screen = m.screen, screenSignIn
	var cmd tea.Cmd
	m.signin, cmd = m.signin.start(m.ctx, rs, name)
	return m, cmd
}

// updateSignIn handles the re-sign-in's messages.
func (m Model) updateSignIn(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case signInPromptMsg:
		if msg.id != m.signin.id {
			return m, nil
		}
		m.signin.pane, cmd = m.signin.pane.setPrompt(msg.prompt)
		return m, tea.Batch(cmd, waitStream(msg.ch))
	case signInDoneMsg:
		if msg.id != m.signin.id {
			return m, nil
		}
		m.signin.running, m.signin.cancel = false, nil
		if msg.err != nil {
			m.signin.err = msg.err
			return m, func() tea.Msg { return errMsg{fmt.Errorf("%s: sign-in: %w", msg.account, msg.err)} }
		}
		if m.screen == screenSignIn {
			m.screen = m.signin.back
		}
		delete(m.status.online, msg.account) // known again after the sync
		m.sidebar = m.sidebar.setSignIn(msg.account, false)
		name := msg.account
		return m, tea.Batch(func() tea.Msg { return infoMsg{text: name + ": signed in; syncing"} },
			func() tea.Msg { return syncNowMsg{account: name} })
	}
	return m, nil
}

// signInKey handles the keys of the sign-in view: esc cancels and goes
// back, enter after a failure tries again, the rest goes to the paste
// input.
func (m Model) signInKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "ctrl+c":
		m.signin = m.signin.stop()
		return m.quit()
	case "esc":
		running := m.signin.running
		m.signin = m.signin.stop()
		m.screen = m.signin.back
		if running {
			return m, func() tea.Msg { return infoMsg{text: m.signin.account + ": sign-in cancelled"} }
		}
		return m, nil
	case "enter":
		if !m.signin.running {
			rs, _ := m.opts.Setup.(ReauthSetup)
			if rs == nil {
				return m, nil
			}
			var cmd tea.Cmd
			m.signin, cmd = m.signin.start(m.ctx, rs, m.signin.account)
			return m, cmd
		}
	}
	var cmd tea.Cmd
	m.signin.pane, cmd = m.signin.pane.key(msg)
	return m, cmd
}

// signInNote is the status line's note for a sync or send refused
// because account must sign in again: the key to press, not the CLI's
// command.
func (m Model) signInNote(account string) tea.Msg {
	return errMsg{fmt.Errorf("%s: the sign-in expired or was revoked: press %s to sign in again", account, m.c.Keys.SignIn.Help().Key)}
}
