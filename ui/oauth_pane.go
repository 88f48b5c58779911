package ui

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// What an OAuth2 sign-in shows while it runs, in the wizard and in the
// re-sign-in view (signin.go): the device code and the URL to enter it
// at, or the browser flow's authorization URL with an input where the
// user pastes the address the browser ended on. That paste is what makes
// the browser flow work over SSH (Google's mail scope has no device
// flow): the browser, on another machine, cannot reach this machine's
// loopback redirect, but its address bar holds the redirect, code and
// state included, as with the CLI's pasted redirect (accounts'
// SignInOptions.Paste).

// noBrowser keeps a sign-in inside the interface from starting a
// browser where there is no display (an SSH session): xdg-open could
// fall back to a text browser on this very terminal. The sign-in then
// shows its URL to open elsewhere and takes the pasted redirect.
func noBrowser(si accounts.SignInOptions, getenv func(string) string) accounts.SignInOptions {
	if si.OpenURL == nil && !accounts.BrowserAvailable(getenv) {
		si.OpenURL = func(context.Context, string) error {
			return errors.New("no display here (an SSH session?)")
		}
	}
	return si
}

// pasteLimit bounds the pasted address (a redirect is a few hundred
// bytes).
const pasteLimit = 8192

// signInPane is the running sign-in's part of a view. Its box is the
// sign-in's SignInOptions.Paste.
type signInPane struct {
	prompt *accounts.SignInPrompt
	paste  textinput.Model
	box    *pasteBox
	err    error // a paste that is not a redirect
	sent   bool  // a redirect was handed to the sign-in
}

// reset makes the pane of a new sign-in, with a new paste box.
func (p signInPane) reset() signInPane {
	p.close()
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = "http://127.0.0.1:…/?code=…&state=…"
	in.CharLimit = pasteLimit
	in.Width = 60
	return signInPane{paste: in, box: newPasteBox()}
}

// close ends the paste box: the sign-in's reader of it returns.
func (p signInPane) close() {
	if p.box != nil {
		p.box.close()
	}
}

// setPrompt shows what the user must do; the browser flow focuses the
// paste input.
func (p signInPane) setPrompt(pr accounts.SignInPrompt) (signInPane, tea.Cmd) {
	p.prompt = &pr
	if pr.Flow == accounts.FlowBrowser {
		return p, p.paste.Focus()
	}
	return p, nil
}

// setWidth sizes the paste input.
func (p signInPane) setWidth(w int) signInPane {
	p.paste.Width = max(20, w-6)
	return p
}

// key types into the paste input (browser flow only); enter hands the
// address to the sign-in, without waiting for it, once it looks like a
// redirect.
func (p signInPane) key(msg tea.KeyMsg) (signInPane, tea.Cmd) {
	if p.prompt == nil || p.prompt.Flow != accounts.FlowBrowser || p.box == nil {
		return p, nil
	}
	if msg.Type == tea.KeyEnter {
		s := strings.TrimSpace(p.paste.Value())
		if err := checkPasted(s); err != nil {
			p.err = err
			return p, nil
		}
		p.err = nil
		if p.box.put(s) {
			p.sent = true
			p.paste.SetValue("")
		}
		return p, nil
	}
	var cmd tea.Cmd
	p.paste, cmd = p.paste.Update(msg)
	return p, cmd
}

// update passes the paste input's own messages (cursor blinks).
func (p signInPane) update(msg tea.Msg) (signInPane, tea.Cmd) {
	if p.prompt == nil || p.prompt.Flow != accounts.FlowBrowser {
		return p, nil
	}
	var cmd tea.Cmd
	p.paste, cmd = p.paste.Update(msg)
	return p, cmd
}

// checkPasted accepts what the browser's address bar holds after the
// provider's redirect: an http(s) URL with the state and a code (or an
// error). The code alone is refused: without the state the answer could
// not be told from a forged one (RFC 6749 section 10.12).
func checkPasted(s string) error {
	u, err := url.Parse(s)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		q := u.Query()
		if q.Has("state") && (q.Has("code") || q.Has("error")) {
			return nil
		}
	}
	return errors.New("paste the whole address the browser ended on (http://127.0.0.1:…/?code=…&state=…), not the code alone")
}

// view is the pane's lines, width cells wide; spin is the caller's
// spinner.
func (p signInPane) view(st Styles, spin string, width int) []string {
	var out []string
	switch pr := p.prompt; {
	case pr == nil:
		out = append(out, spin+" asking the provider… (esc cancels)")
	case pr.Flow == accounts.FlowDevice:
		out = append(out, "On any device, open", "  "+st.Prompt.Render(pr.VerificationURI), "and enter the code", "  "+st.Title.Render(pr.UserCode))
		if !pr.Expires.IsZero() {
			out = append(out, st.Dim.Render("(it expires at "+pr.Expires.Local().Format("15:04")+")"))
		}
		out = append(out, "", spin+" waiting for the sign-in… (esc cancels)")
	default:
		if pr.OpenErr != nil {
			out = append(out, "No browser could be opened. Open this address, on any machine, to sign in:")
		} else {
			out = append(out, "Your browser was opened to sign in. If it did not open, open this address:")
		}
		// Whole, never cut: the user copies it (an address bar drops
		// the line breaks of a pasted URL).
		for _, l := range chunk(pr.URL, max(20, width-2)) {
			out = append(out, st.Prompt.Render(l))
		}
		out = append(out, "")
		out = append(out, strings.Split(wrapText("If the browser is on another machine, the address it ends on does not load there. "+
			"Paste here the address it ends on, then press enter:", max(20, width-2)), "\n")...)
		out = append(out, p.paste.View())
		switch {
		case p.err != nil:
			out = append(out, st.Error.Render(truncate(p.err.Error(), width)))
		case p.sent:
			out = append(out, st.Dim.Render("address handed to the sign-in"))
		}
		out = append(out, "", spin+" waiting for the browser… (esc cancels)")
	}
	return out
}

// chunk cuts s into pieces of at most n bytes (a URL is ASCII).
func chunk(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// pasteBox is the io.Reader of the addresses the user pastes: Update
// puts a line without waiting, the sign-in's goroutine reads it; close
// (when the sign-in ends) makes Read return io.EOF.
type pasteBox struct {
	lines chan string
	done  chan struct{}
	once  sync.Once
	rest  []byte // read by the sign-in's one reader only
}

func newPasteBox() *pasteBox {
	return &pasteBox{lines: make(chan string, 1), done: make(chan struct{})}
}

// put hands s to the reader; false when one line already waits.
func (b *pasteBox) put(s string) bool {
	select {
	case b.lines <- s:
		return true
	default:
		return false
	}
}

// Read returns the pasted lines, each ending in "\n".
func (b *pasteBox) Read(p []byte) (int, error) {
	if len(b.rest) == 0 {
		select {
		case s := <-b.lines:
			b.rest = []byte(s + "\n")
		case <-b.done:
			return 0, io.EOF
		}
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

func (b *pasteBox) close() { b.once.Do(func() { close(b.done) }) }
