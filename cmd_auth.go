package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/letterbox-mail/letterbox/accounts"
)

// OAuth2 on the command line: the --auth oauth2 flags of account add,
// letterbox account auth NAME, and what the sign-in shows (the device
// code and URL, or the browser's URL) on stderr or as JSON events.

// oauthFlags are the OAuth2 flags of account add (and --oauth2-flow of
// account auth).
type oauthFlags struct {
	auth, provider, clientID, secretCmd string
	authURL, tokenURL, deviceURL        string
	tokenCmd, flow                      string
	scopes                              []string
}

// addOAuthFlags registers the flags of account add.
func addOAuthFlags(fs *pflag.FlagSet, f *oauthFlags) {
	fs.StringVar(&f.auth, "auth", "", "how to sign in: password (default) or oauth2")
	fs.StringVar(&f.provider, "oauth2-provider", "", "OAuth2 provider preset: google, microsoft or custom (default: from the address's domain)")
	fs.StringVar(&f.clientID, "oauth2-client-id", "", "OAuth2 client `ID` registered with the provider (README, \"OAuth2\")")
	fs.StringVar(&f.secretCmd, "oauth2-client-secret-cmd", "", "shell `COMMAND` that prints the OAuth2 client secret (Google wants one)")
	fs.StringVar(&f.authURL, "oauth2-auth-url", "", "authorization endpoint `URL` (custom provider; browser flow)")
	fs.StringVar(&f.tokenURL, "oauth2-token-url", "", "token endpoint `URL` (custom provider)")
	fs.StringVar(&f.deviceURL, "oauth2-device-url", "", "device authorization endpoint `URL` (custom provider; device flow)")
	fs.StringSliceVar(&f.scopes, "oauth2-scopes", nil, "`SCOPES` to ask for, comma-separated (default: the preset's)")
	fs.StringVar(&f.tokenCmd, "oauth2-token-cmd", "", "shell `COMMAND` that prints an access token (an external helper such as oama; letterbox then keeps no token)")
	addFlowFlag(fs, &f.flow)
}

func addFlowFlag(fs *pflag.FlagSet, flow *string) {
	fs.StringVar(flow, "oauth2-flow", "", "device or browser (default: browser when a display or $BROWSER is there and stdin is a terminal, else device; browser on a terminal for a provider without a device flow)")
}

// settings are the flags as accounts.OAuth2Settings; --oauth2-* flags
// without --auth oauth2 are a usage error.
func (f oauthFlags) settings() (accounts.AuthMethod, accounts.OAuth2Settings, error) {
	s := accounts.OAuth2Settings{OAuth2Provider: f.provider, OAuth2ClientID: f.clientID, OAuth2ClientSecretCmd: f.secretCmd,
		OAuth2AuthURL: f.authURL, OAuth2TokenURL: f.tokenURL, OAuth2DeviceURL: f.deviceURL, OAuth2Scopes: f.scopes, OAuth2TokenCmd: f.tokenCmd}
	switch accounts.AuthMethod(f.auth) {
	case "", accounts.AuthPassword:
		if f.provider+f.clientID+f.secretCmd+f.authURL+f.tokenURL+f.deviceURL+f.tokenCmd+f.flow != "" || len(f.scopes) > 0 {
			return "", s, usagef("account add: the --oauth2-* flags need --auth oauth2")
		}
		return accounts.AuthMethod(f.auth), s, nil
	case accounts.AuthOAuth2:
	default:
		return "", s, usagef("account add: --auth %q: want password or oauth2", f.auth)
	}
	if err := checkFlow(f.flow); err != nil {
		return "", s, err
	}
	return accounts.AuthOAuth2, s, nil
}

func checkFlow(flow string) error {
	switch flow {
	case "", accounts.FlowDevice, accounts.FlowBrowser:
		return nil
	}
	return usagef("--oauth2-flow %q: want device or browser", flow)
}

// signInOptions are the sign-in's options on the command line: the
// flow (the flag, else browser with a display and a terminal; else, on
// a terminal, the device flow when the provider has one and the browser
// flow with a pasted redirect when not, as for Google over SSH; else
// device), the prompt on stderr or as a JSON event, the browser, and a
// pasted redirect URL on a terminal.
func (e *env) signInOptions(name, flow string, asJSON bool) accounts.SignInOptions {
	tty := isTerminal(e.stdin)
	if flow == "" {
		switch {
		case accounts.BrowserAvailable(e.getenv) && tty:
			flow = accounts.FlowBrowser
		case tty: // "": accounts.SignIn picks by the provider
		default:
			flow = accounts.FlowDevice
		}
	}
	o := accounts.SignInOptions{Flow: flow, OpenURL: e.openURL,
		Prompt: func(p accounts.SignInPrompt) { e.showPrompt(name, p, asJSON) }}
	if flow != accounts.FlowDevice && tty {
		o.Paste = e.stdin
	}
	return o
}

// oauthPromptJSON is the --json event of a sign-in: what the user must
// do (docs/cli.md, "OAuth2 sign-in").
type oauthPromptJSON struct {
	Type                    string `json:"type"`
	Account                 string `json:"account"`
	Flow                    string `json:"flow"`
	VerificationURI         string `json:"verification_uri,omitempty"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
	UserCode                string `json:"user_code,omitempty"`
	ExpiresAt               string `json:"expires_at,omitempty"`
	URL                     string `json:"url,omitempty"`
	Opened                  *bool  `json:"opened,omitempty"`
}

// showPrompt tells the user what to do: a JSON event on stdout with
// --json, else lines on stderr.
func (e *env) showPrompt(name string, p accounts.SignInPrompt, asJSON bool) {
	if asJSON {
		ev := oauthPromptJSON{Type: "oauth2_sign_in", Account: name, Flow: p.Flow}
		if p.Flow == accounts.FlowDevice {
			ev.VerificationURI, ev.VerificationURIComplete, ev.UserCode = p.VerificationURI, p.VerificationURIComplete, p.UserCode
			if !p.Expires.IsZero() {
				ev.ExpiresAt = p.Expires.UTC().Format(time.RFC3339)
			}
		} else {
			opened := p.OpenErr == nil
			ev.URL, ev.Opened = p.URL, &opened
		}
		_ = writeJSONLine(e.stdout, ev)
		return
	}
	if p.Flow == accounts.FlowDevice {
		fmt.Fprintf(e.stderr, "To sign in %s, open %s\nand enter the code %s", name, p.VerificationURI, p.UserCode)
		if !p.Expires.IsZero() {
			fmt.Fprintf(e.stderr, " (it expires at %s)", p.Expires.Local().Format("15:04"))
		}
		fmt.Fprintln(e.stderr, ".\nWaiting for the sign-in… (ctrl+c stops)")
		return
	}
	if p.OpenErr != nil {
		fmt.Fprintf(e.stderr, "No browser could be opened (%v). To sign in %s, open:\n  %s\n", p.OpenErr, name, p.URL)
	} else {
		fmt.Fprintf(e.stderr, "A browser was opened to sign in %s. If it did not open, open:\n  %s\n", name, p.URL)
	}
	if isTerminal(e.stdin) {
		fmt.Fprintln(e.stderr, "If the browser is on another machine, paste here the address it ends on (it fails to load; its URL is what counts).")
	}
	fmt.Fprintln(e.stderr, "Waiting for the browser… (ctrl+c stops)")
}

// oauthHint says, for an account add without --auth, whether the
// address signs in with OAuth2 (its domain, MX or autoconfig), as a
// sentence for an error message; "" when not.
func oauthHint(ctx context.Context, email string) string {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	h, ok := (&accounts.Discoverer{}).OAuth2For(ctx, email)
	if !ok {
		return ""
	}
	flags := "--auth oauth2"
	if h.Provider != "" {
		flags += " --oauth2-provider " + h.Provider
	}
	return fmt.Sprintf("%s signs in with OAuth2 (%s): add %s --oauth2-client-id ID (README, \"OAuth2\", says how to register one)",
		email, h.Reason, flags)
}

func accountAuthCmd(e *env) *cobra.Command {
	var flow string
	var asJSON bool
	c := &cobra.Command{
		Use:   "auth NAME",
		Short: "Sign an OAuth2 account in again (its sign-in expired or was revoked)",
		Long: `Sign in again at the identity provider of an OAuth2 account: with the
device flow (a code to enter at a URL, on any device) or the browser
(PKCE, a loopback redirect). The login is tested with the new token
before it replaces the old refresh token in the OS keyring (or in the
account's token file when there is no keyring).`,
		Example:           `  letterbox account auth work --oauth2-flow device`,
		Args:              wantArgs(1, "one account NAME"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFlow(flow); err != nil {
				return err
			}
			acct, err := e.findAccount(args[0])
			if err != nil {
				return err
			}
			path, err := e.configPath()
			if err != nil {
				return err
			}
			base, err := e.dataHome()
			if err != nil {
				return err
			}
			o := accounts.ReauthOptions{ConfigPath: path, Name: acct.Name, DataDir: base, Secrets: e.secrets(),
				SignIn: e.signInOptions(acct.Name, flow, asJSON)}
			if !asJSON {
				o.Progress = func(p accounts.AddProgress) { fmt.Fprintln(e.stderr, p.Text) }
			}
			place, err := accounts.Reauthorize(cmd.Context(), o)
			if errors.Is(err, accounts.ErrInvalidSetting) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONLine(e.stdout, tokenPlaceJSON(acct.Name, place))
			}
			fmt.Fprintf(e.stdout, "%s: signed in; the refresh token is kept in %s\n", acct.Name, place)
			return nil
		},
	}
	addFlowFlag(c.Flags(), &flow)
	c.Flags().BoolVar(&asJSON, "json", false, "print the sign-in prompt and the result as JSON")
	return c
}

// authJSON is `account auth --json`: where the refresh token is kept.
type authJSON struct {
	Name       string `json:"name"`
	TokenStore string `json:"token_store"`
	TokenFile  string `json:"token_file"`
}

func tokenPlaceJSON(name string, p accounts.TokenPlace) authJSON {
	if p.Keyring {
		return authJSON{Name: name, TokenStore: "keyring"}
	}
	return authJSON{Name: name, TokenStore: "file", TokenFile: p.File}
}

// describeAuth says how an account signs in, for account show.
func describeAuth(a accounts.AccountConfig, base string) string {
	if !a.IsOAuth2() {
		return "password"
	}
	if a.OAuth2TokenCmd != "" {
		return "oauth2 (token from " + a.OAuth2TokenCmd + ")"
	}
	e := a.OAuth2Endpoint()
	return "oauth2 (" + strings.TrimSpace(e.Provider) + ", refresh token in " + accounts.OAuth2TokenPlace(a, base).String() + ")"
}
