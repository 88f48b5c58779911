package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/letterbox-mail/letterbox/accounts"
)

// What the wizard shows: the steps, the inputs, the progress log and,
// after a failure, what to try.

// hintsFor explains a failure in terms of what the user can do.
func hintsFor(step wizardStep, err error) []string {
	var tlsErr *accounts.TLSError
	switch {
	case errors.Is(err, accounts.ErrNoServer):
		return []string{
			"No server answered on the usual ports (IMAP 993/143, POP3 995/110, SMTP 465/587/25/2525).",
			"Check the address for typos (e), or enter the servers your provider gives (m).",
			"On a network that blocks mail ports, try again elsewhere (r).",
		}
	case errors.Is(err, accounts.ErrTokenRefused):
		return []string{
			"The server refused the token the provider had just given.",
			"Check the client id and that the account may use IMAP/POP3 and SMTP with OAuth2 (o),",
			"or use a password instead (p).",
		}
	case errors.Is(err, accounts.ErrSignIn) || errors.Is(err, accounts.ErrSignInExpired):
		return []string{
			"The sign-in did not finish (see above). Try again (r), check the client id (o),",
			"or use a password instead (p).",
		}
	case errors.Is(err, accounts.ErrLoginRefused):
		return []string{
			"The server refused the login or the password.",
			"Check the password (p). Gmail, Outlook, iCloud and Yahoo need an app password,",
			"made in the account's security settings, instead of the usual one.",
		}
	case errors.As(err, &tlsErr):
		return []string{
			"The secure connection failed (see above).",
			"If the server uses a private or self-signed certificate, give its CA file (m);",
			"or enter other servers or ports (m).",
		}
	case errors.Is(err, context.DeadlineExceeded):
		return []string{"The server took too long to answer. Check the network and try again (r), or enter servers by hand (m)."}
	case step == stepSaving && (errors.Is(err, accounts.ErrNoKeyring) || strings.Contains(strings.ToLower(err.Error()), "keyring")):
		return []string{
			"The password could not be kept in the system keyring (none is running?).",
			"Give a password command instead (p), such as: pass show mail/work",
		}
	case step == stepSaving:
		return []string{"The account could not be saved. Check that the config directory is writable, then retry (r)."}
	}
	return []string{"Try again (r), check the address (e), or enter the servers by hand (m)."}
}

func describeServers(a accounts.AccountConfig) string {
	in, proto := a.IMAP, "IMAP"
	if a.Mode == accounts.ModePOP3 {
		in, proto = a.POP3, "POP3"
	}
	return fmt.Sprintf("%s %s:%d (%s), SMTP %s:%d (%s)", proto, in.Host, in.Port, in.Security, a.SMTP.Host, a.SMTP.Port, a.SMTP.Security)
}

func (w wizardModel) View() string {
	st := w.c.Styles
	var top, bottom []string
	top = append(top, st.Title.Render("letterbox — add your mail account"), "")
	steps := []string{"address", "servers", "password", "login test", "saved"}
	if w.acct.Auth == accounts.AuthOAuth2 || w.step == stepAuthChoice || w.step == stepOAuth {
		steps[2], steps[3] = "sign-in", "signing in"
	}
	cur := map[wizardStep]int{stepAddress: 0, stepDiscover: 1, stepManual: 1, stepPassword: 2, stepTesting: 3, stepSaving: 4, stepFailed: -1,
		stepAuthChoice: 2, stepOAuth: 2, stepSignIn: 3}[w.step]
	if w.step == stepFailed {
		cur = map[wizardStep]int{stepDiscover: 1, stepTesting: 3, stepSaving: 4, stepSignIn: 3}[w.from]
	}
	var line strings.Builder
	for i, s := range steps {
		switch {
		case i < cur:
			line.WriteString(st.OK.Render("✓ " + s))
		case i == cur:
			line.WriteString(st.Prompt.Render("› " + s))
		default:
			line.WriteString(st.Dim.Render("  " + s))
		}
		line.WriteString("   ")
	}
	top = append(top, line.String(), "")
	for i, in := range w.inputs {
		mark := "  "
		if i == w.focus {
			mark = st.Prompt.Render("> ")
		}
		top = append(top, mark+in.View())
	}
	if w.step == stepDiscover || w.step == stepTesting || w.step == stepSaving {
		top = append(top, w.spin.View()+" working… (esc goes back)")
	}
	top = append(top, w.oauthView()...)
	if w.err != nil {
		msg := w.err.Error()
		if i := strings.Index(msg, " — try --"); i >= 0 {
			msg = msg[:i] // command-line advice; the hints below say it here
		}
		lines := strings.Split(wrapText(msg, w.width-2), "\n")
		if len(lines) > 4 {
			lines = append(lines[:3], "… (the full message is in the log)")
		}
		bottom = append(bottom, "")
		for _, l := range lines {
			bottom = append(bottom, st.Error.Render(l))
		}
	}
	if w.step == stepFailed {
		for _, h := range w.hints {
			for _, l := range strings.Split(wrapText(h, w.width-2), "\n") {
				bottom = append(bottom, st.Warn.Render(l))
			}
		}
		help := "r retry · e edit the address · m enter servers · p password · q quit"
		if w.oauthOK {
			help = "r retry · e edit the address · m enter servers · o OAuth2 · p password · q quit"
		}
		bottom = append(bottom, "", st.Dim.Render(truncate(help, w.width)))
	} else if len(w.inputs) > 0 {
		bottom = append(bottom, "", st.Dim.Render(truncate("enter continue · tab next field · esc back · ctrl+c quit", w.width)))
	}
	// The progress log fills what is left, newest lines last.
	room := w.height - len(top) - len(bottom) - 1
	if room > 0 && len(w.log) > 0 && w.step != stepAddress {
		start := max(0, len(w.log)-room)
		top = append(top, "")
		for _, l := range w.log[start:] {
			top = append(top, st.Dim.Render("  "+truncate(l, w.width-4)))
		}
	}
	for len(top)+len(bottom) < w.height {
		top = append(top, "")
	}
	return strings.Join(append(top, bottom...), "\n")
}
