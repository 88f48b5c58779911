package ui

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// Setup is what the wizard needs to make an account. Configure may take
// long (discovery and port probing) and reports its steps through log;
// it is called from a Cmd only. AccountSetup implements it.
type Setup interface {
	// Configure finds the servers of email; manual names servers the
	// user typed ("host:port", empty to discover).
	Configure(ctx context.Context, name, email string, manual ManualServers, log func(string)) (accounts.AccountConfig, error)
	// TestLogin logs in to the incoming and SMTP servers.
	TestLogin(ctx context.Context, acct accounts.AccountConfig, password string) error
	// Save keeps the password in the keyring (or sets acct.PasswordCmd
	// when passwordCmd is not empty) and adds acct to config.toml.
	Save(ctx context.Context, acct accounts.AccountConfig, password, passwordCmd string) error
	// Open opens the saved account. The save step's Cmd returns the
	// Backend in a message and Update adds it to the model; the
	// interface owns it (Run closes it if it is an io.Closer).
	Open(ctx context.Context, acct accounts.AccountConfig) (Backend, error)
}

// ManualServers are servers the user entered in the wizard.
type ManualServers struct {
	IMAP, POP3, SMTP string
	// TLSCA is a PEM file of CA certificates to trust (a private or
	// self-signed server).
	TLSCA string
}

type wizardStep int

const (
	stepAddress    wizardStep = iota // e-mail address and account name
	stepDiscover                     // discovery and probing, with progress
	stepManual                       // servers by hand
	stepPassword                     // password or password command
	stepTesting                      // login test
	stepSaving                       // saving and opening
	stepFailed                       // a failure with what to try
	stepAuthChoice                   // OAuth2 or a password (wizard_oauth.go)
	stepOAuth                        // the OAuth2 client id (and endpoints)
	stepSignIn                       // the OAuth2 sign-in, its code and URL shown
)

// wizardModel walks the user through adding the first account:
// address → discovery and port probing (progress shown) → password →
// login test → saved. Every failure says what to try next.
type wizardModel struct {
	c        *Common
	ctx      context.Context
	setup    Setup
	step     wizardStep
	inputs   []textinput.Model // of the current step
	focus    int
	spin     spinner.Model
	id       int // of the running step; stale results drop
	log      []string
	acct     accounts.AccountConfig
	manual   ManualServers
	err      error
	hints    []string
	from     wizardStep // the step that failed
	width    int
	height   int
	password string
	// oauth says the address signs in with OAuth2 (oauthOK); cancel
	// stops the running sign-in, whose prompt is the code and URL.
	oauth   accounts.OAuth2Hint
	oauthOK bool
	cancel  context.CancelFunc
	pane    signInPane
}

// Messages of the wizard's steps.
type (
	wizardLogMsg struct {
		id   int
		line string
		ch   <-chan tea.Msg
	}
	wizardConfiguredMsg struct {
		id   int
		acct accounts.AccountConfig
		err  error
		// oauth, when oauthOK, says the address signs in with OAuth2.
		oauth   accounts.OAuth2Hint
		oauthOK bool
	}
	wizardTestedMsg struct {
		id  int
		err error
	}
	wizardSavedMsg struct {
		id   int
		b    Backend
		feed Feed
		err  error
	}
	// wizardDoneMsg hands the new account to the root.
	wizardDoneMsg struct {
		b    Backend
		feed Feed
	}
)

func newWizard(c *Common, ctx context.Context, setup Setup) wizardModel {
	w := wizardModel{c: c, ctx: ctx, setup: setup, spin: spinner.New(spinner.WithSpinner(spinner.Dot))}
	w.enter(stepAddress)
	return w
}

func (w wizardModel) Init() tea.Cmd { return textinput.Blink }

func newInput(prompt, placeholder string) textinput.Model {
	in := textinput.New()
	in.Prompt = prompt
	in.Placeholder = placeholder
	return in
}

// enter switches to step and builds its inputs.
func (w *wizardModel) enter(step wizardStep) tea.Cmd {
	w.step, w.focus = step, 0
	w.inputs = nil
	if step != stepFailed {
		w.err = nil
	}
	switch step {
	case stepAddress:
		email := newInput("E-mail address: ", "ann@example.com")
		email.SetValue(w.acct.Email)
		name := newInput("Account name:   ", "derived from the address")
		name.SetValue(w.acct.Name)
		w.inputs = []textinput.Model{email, name}
	case stepManual:
		imap := newInput("IMAP server: ", "imap.example.com:993 (or leave empty and give POP3)")
		imap.SetValue(w.manual.IMAP)
		pop := newInput("POP3 server: ", "pop.example.com:995")
		pop.SetValue(w.manual.POP3)
		smtp := newInput("SMTP server: ", "smtp.example.com:465")
		smtp.SetValue(w.manual.SMTP)
		ca := newInput("CA file:     ", "only for a self-signed server: /path/to/cert.pem")
		ca.SetValue(w.manual.TLSCA)
		w.inputs = []textinput.Model{imap, pop, smtp, ca}
	case stepPassword:
		pw := newInput("Password:         ", "")
		pw.EchoMode = textinput.EchoPassword
		pw.EchoCharacter = '•'
		cmd := newInput("or password command: ", "pass show mail/work")
		cmd.SetValue(w.acct.PasswordCmd)
		w.inputs = []textinput.Model{pw, cmd}
	case stepOAuth:
		w.inputs = w.oauthInputs()
	}
	for i := range w.inputs {
		w.inputs[i].Width = max(20, w.width-30)
	}
	if len(w.inputs) > 0 {
		return w.inputs[0].Focus()
	}
	return w.spin.Tick
}

func (w wizardModel) setSize(width, height int) wizardModel {
	w.width, w.height = width, height
	w.pane = w.pane.setWidth(width)
	for i := range w.inputs {
		w.inputs[i].Width = max(20, width-30)
	}
	return w
}

var nameChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// defaultName derives an account name from an address: its domain's
// first label ("work" for ann@work.example).
func defaultName(email string) string {
	_, domain, ok := strings.Cut(email, "@")
	if !ok || domain == "" {
		return nameChars.ReplaceAllString(email, "")
	}
	label, _, _ := strings.Cut(domain, ".")
	return nameChars.ReplaceAllString(label, "")
}

func (w wizardModel) Update(msg tea.Msg) (wizardModel, tea.Cmd) {
	if next, cmd, ok := w.updateOAuth(msg); ok {
		return next, cmd
	}
	switch msg := msg.(type) {
	case spinner.TickMsg:
		if w.step == stepDiscover || w.step == stepTesting || w.step == stepSaving || w.step == stepSignIn {
			var cmd tea.Cmd
			w.spin, cmd = w.spin.Update(msg)
			return w, cmd
		}
		return w, nil
	case wizardLogMsg:
		if msg.id != w.id {
			return w, nil
		}
		w.log = append(w.log, msg.line)
		return w, waitStream(msg.ch)
	case wizardConfiguredMsg:
		if msg.id != w.id {
			return w, nil
		}
		if msg.err != nil {
			return w.fail(stepDiscover, msg.err), nil
		}
		w.acct = msg.acct
		w.log = append(w.log, "found: "+describeServers(msg.acct))
		w.oauth, w.oauthOK = msg.oauth, msg.oauthOK
		if w.oauthOK {
			return w, w.enter(stepAuthChoice)
		}
		return w, w.enter(stepPassword)
	case wizardTestedMsg:
		if msg.id != w.id {
			return w, nil
		}
		if msg.err != nil {
			return w.fail(stepTesting, msg.err), nil
		}
		w.log = append(w.log, "login works")
		return w.save()
	case wizardSavedMsg:
		if msg.id != w.id {
			return w, nil
		}
		if msg.err != nil {
			return w.fail(stepSaving, msg.err), nil
		}
		return w, func() tea.Msg { return wizardDoneMsg{b: msg.b, feed: msg.feed} }
	case tea.KeyMsg:
		return w.key(msg)
	}
	if len(w.inputs) > 0 {
		var cmd tea.Cmd
		w.inputs[w.focus], cmd = w.inputs[w.focus].Update(msg)
		return w, cmd
	}
	if w.step == stepSignIn {
		var cmd tea.Cmd
		w.pane, cmd = w.pane.update(msg)
		return w, cmd
	}
	return w, nil
}

func (w wizardModel) key(msg tea.KeyMsg) (wizardModel, tea.Cmd) {
	s := msg.String()
	if s == "ctrl+c" {
		w.stopSignIn()
		return w, tea.Quit
	}
	switch w.step {
	case stepAuthChoice, stepSignIn:
		return w.keyOAuth(msg)
	case stepDiscover, stepTesting, stepSaving:
		if s == "esc" {
			w.id++ // drop the running step's result
			return w, w.enter(stepAddress)
		}
		return w, nil
	case stepFailed:
		switch s {
		case "e", "esc":
			return w, w.enter(stepAddress)
		case "m":
			return w, w.enter(stepManual)
		case "p":
			return w, w.enter(stepPassword)
		case "o":
			if w.oauthOK {
				return w, w.enter(stepOAuth)
			}
		case "r", "enter":
			return w.retry()
		case "q":
			return w, tea.Quit
		}
		return w, nil
	}
	switch s {
	case "esc":
		if w.step == stepAddress {
			return w, tea.Quit
		}
		return w, w.enter(stepAddress)
	case "tab", "down":
		if w.step == stepAddress && w.focus == 0 && w.inputs[1].Value() == "" {
			w.inputs[1].SetValue(defaultName(strings.TrimSpace(w.inputs[0].Value())))
		}
		w.inputs[w.focus].Blur()
		w.focus = (w.focus + 1) % len(w.inputs)
		return w, w.inputs[w.focus].Focus()
	case "shift+tab", "up":
		w.inputs[w.focus].Blur()
		w.focus = (w.focus + len(w.inputs) - 1) % len(w.inputs)
		return w, w.inputs[w.focus].Focus()
	case "enter":
		return w.submit()
	}
	var cmd tea.Cmd
	w.inputs[w.focus], cmd = w.inputs[w.focus].Update(msg)
	return w, cmd
}

// submit finishes the current step's form.
func (w wizardModel) submit() (wizardModel, tea.Cmd) {
	switch w.step {
	case stepAddress:
		email := strings.TrimSpace(w.inputs[0].Value())
		name := strings.TrimSpace(w.inputs[1].Value())
		if name == "" {
			name = defaultName(email)
		}
		if !strings.Contains(email, "@") {
			w.err = errors.New("enter an e-mail address such as ann@example.com")
			return w, nil
		}
		w.acct.Email, w.acct.Name, w.err = email, name, nil
		w.manual = ManualServers{}
		return w.discover()
	case stepManual:
		w.manual = ManualServers{IMAP: strings.TrimSpace(w.inputs[0].Value()), POP3: strings.TrimSpace(w.inputs[1].Value()),
			SMTP: strings.TrimSpace(w.inputs[2].Value()), TLSCA: expandHome(strings.TrimSpace(w.inputs[3].Value()))}
		return w.discover()
	case stepPassword:
		pw, pcmd := w.inputs[0].Value(), strings.TrimSpace(w.inputs[1].Value())
		if pw == "" && pcmd == "" {
			w.err = errors.New("enter the password, or a command that prints it")
			return w, nil
		}
		w.err = nil
		w.acct.PasswordCmd = pcmd
		w.acct.Auth, w.acct.OAuth2Settings = "", accounts.OAuth2Settings{}
		w.password = pw
		return w.test()
	case stepOAuth:
		return w.submitOAuth()
	}
	return w, nil
}

// discover runs Configure, streaming its log lines.
func (w wizardModel) discover() (wizardModel, tea.Cmd) {
	w.id++
	w.log = []string{"finding the servers of " + w.acct.Email + "…"}
	id, ctx, setup, name, email, manual := w.id, w.ctx, w.setup, w.acct.Name, w.acct.Email, w.manual
	start := w.enter(stepDiscover)
	return w, tea.Batch(start, func() tea.Msg {
		ch := make(chan tea.Msg, 16)
		go func() {
			defer close(ch)
			acct, err := setup.Configure(ctx, name, email, manual, func(line string) {
				select {
				case ch <- wizardLogMsg{id: id, line: line, ch: ch}:
				case <-ctx.Done():
				}
			})
			msg := wizardConfiguredMsg{id: id, acct: acct, err: err}
			if oset, ok := setup.(OAuthSetup); ok && err == nil {
				msg.oauth, msg.oauthOK = oset.OAuth2For(ctx, email)
			}
			ch <- msg
		}()
		return waitStream(ch)()
	})
}

// test runs the login test.
func (w wizardModel) test() (wizardModel, tea.Cmd) {
	w.id++
	w.log = append(w.log, "testing the login…")
	id, ctx, setup, acct, pw := w.id, w.ctx, w.setup, w.acct, w.password
	if pw == "" && acct.PasswordCmd != "" {
		start := w.enter(stepTesting)
		return w, tea.Batch(start, func() tea.Msg {
			p, err := accounts.RunPasswordCmd(ctx, acct.PasswordCmd)
			if err == nil {
				err = setup.TestLogin(ctx, acct, p)
			}
			return wizardTestedMsg{id: id, err: err}
		})
	}
	start := w.enter(stepTesting)
	return w, tea.Batch(start, func() tea.Msg { return wizardTestedMsg{id: id, err: setup.TestLogin(ctx, acct, pw)} })
}

// save stores the account and opens it.
func (w wizardModel) save() (wizardModel, tea.Cmd) {
	w.id++
	w.log = append(w.log, "saving…")
	id, ctx, setup, acct, pw := w.id, w.ctx, w.setup, w.acct, w.password
	start := w.enter(stepSaving)
	return w, tea.Batch(start, func() tea.Msg {
		if err := setup.Save(ctx, acct, pw, acct.PasswordCmd); err != nil {
			return wizardSavedMsg{id: id, err: err}
		}
		b, err := setup.Open(ctx, acct)
		if err != nil {
			return wizardSavedMsg{id: id, err: err}
		}
		return wizardSavedMsg{id: id, b: b, feed: b.Subscribe()}
	})
}

// retry runs the failed step again.
func (w wizardModel) retry() (wizardModel, tea.Cmd) {
	switch w.from {
	case stepDiscover:
		return w.discover()
	case stepTesting:
		return w.test()
	case stepSaving:
		return w.save()
	case stepSignIn:
		return w.signIn()
	}
	return w, w.enter(stepAddress)
}

// fail shows err with what to try.
func (w wizardModel) fail(from wizardStep, err error) wizardModel {
	w.from, w.err = from, err
	w.hints = hintsFor(from, err)
	w.enter(stepFailed)
	return w
}
