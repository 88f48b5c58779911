package accounts

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// The two ways of signing in at an identity provider: the device
// authorization grant (RFC 8628), for headless machines and SSH
// sessions, and the authorization code with PKCE (RFC 7636, S256) and a
// loopback redirect (RFC 8252), when a browser is at hand.

// The sign-in flows (--oauth2-flow).
const (
	FlowDevice  = "device"
	FlowBrowser = "browser"
)

// DefaultBrowserTimeout bounds the wait for the browser's redirect when
// SignInOptions.Timeout is zero.
const DefaultBrowserTimeout = 5 * time.Minute

// SignInOptions say how an OAuth2 sign-in runs.
type SignInOptions struct {
	// Flow is FlowDevice or FlowBrowser; "" is the device flow when the
	// provider has one, else the browser.
	Flow string
	// Prompt receives what the user must do (the code and where to
	// enter it, or the URL the browser was sent to); it is called from
	// the sign-in's goroutine and must not block for long.
	Prompt func(SignInPrompt)
	// OpenURL opens a URL in a browser; nil means OpenBrowser.
	OpenURL func(ctx context.Context, url string) error
	// Paste, when set, is read for a redirect URL pasted by the user
	// (the browser flow on a machine whose loopback the browser cannot
	// reach: its address bar holds the URL, code and state included).
	Paste io.Reader
	// Timeout bounds the wait for the browser (DefaultBrowserTimeout);
	// the device flow waits until its code expires.
	Timeout time.Duration
	// HTTP is the client for the provider; nil means the system roots
	// plus the account's tls_ca.
	HTTP *http.Client
	// RunCmd runs oauth2_client_secret_cmd; nil means RunPasswordCmd.
	RunCmd func(ctx context.Context, cmd string) (string, error)
}

// SignInPrompt is what the user must do to sign in.
type SignInPrompt struct {
	// Flow is FlowDevice or FlowBrowser.
	Flow string
	// Device flow: enter UserCode at VerificationURI (or open
	// VerificationURIComplete, which holds it) before Expires.
	VerificationURI, VerificationURIComplete, UserCode string
	Expires                                            time.Time
	// Browser flow: URL is the authorization request; OpenErr says why
	// no browser could be opened (the user opens URL by hand).
	URL     string
	OpenErr error
}

// ErrSignIn is wrapped by the errors of a sign-in that did not end with
// a token (refused, expired, timed out, a state mismatch).
var ErrSignIn = errors.New("OAuth2 sign-in failed")

// SignIn signs acct in at its identity provider and returns the token
// (access and refresh), its expiry by the local clock. Nothing is
// stored: AddAccount and Reauthorize do that once the login works.
func SignIn(ctx context.Context, acct AccountConfig, o SignInOptions) (*oauth2.Token, error) {
	e := acct.OAuth2Endpoint()
	flow := o.Flow
	if flow == "" {
		flow = FlowBrowser
		if e.DeviceURL != "" {
			flow = FlowDevice
		}
	}
	hc := o.HTTP
	if hc == nil {
		var err error
		if hc, err = idpClient(acct); err != nil {
			return nil, err
		}
	}
	secret, err := clientSecret(ctx, acct, o.RunCmd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignIn, err)
	}
	conf := oauthConfig(acct, secret)
	hctx := context.WithValue(ctx, oauth2.HTTPClient, hc)
	var tok *oauth2.Token
	switch flow {
	case FlowDevice:
		if e.DeviceURL == "" {
			why := "no oauth2_device_url is set"
			if p, ok := LookupProvider(e.Provider); ok && p.DeviceNote != "" {
				why = p.DeviceNote
			}
			return nil, fmt.Errorf("%w: the device flow is not available: %s", ErrSignIn, why)
		}
		tok, err = deviceFlow(hctx, ctx, conf, acct.Name, o)
	case FlowBrowser:
		if e.AuthURL == "" {
			return nil, fmt.Errorf("%w: the browser flow is not available: no oauth2_auth_url is set", ErrSignIn)
		}
		tok, err = browserFlow(hctx, ctx, conf, e, acct.Name, o)
	default:
		return nil, fmt.Errorf("oauth2 flow %q: want device or browser: %w", flow, ErrInvalidSetting)
	}
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		return nil, fmt.Errorf("%w: the provider gave no refresh token, so the sign-in could not last "+
			"(Microsoft needs the offline_access scope; Google access_type=offline)", ErrSignIn)
	}
	if tok.ExpiresIn > 0 {
		tok.Expiry = time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return tok, nil
}

// deviceFlow runs the device authorization grant (RFC 8628): request a
// code (section 3.1), show it, poll the token endpoint at the interval
// asked for, slower after slow_down (section 3.5), until the user
// approves, refuses, or the code expires.
func deviceFlow(hctx, ctx context.Context, conf *oauth2.Config, name string, o SignInOptions) (*oauth2.Token, error) {
	da, err := conf.DeviceAuth(hctx)
	if err != nil {
		return nil, fmt.Errorf("%w: device authorization request: %w", ErrSignIn, explainTokenError(err, name))
	}
	if err := checkDeviceAnswer(da); err != nil {
		return nil, fmt.Errorf("%w: the provider's device authorization answer %w", ErrSignIn, err)
	}
	if o.Prompt != nil {
		o.Prompt(SignInPrompt{Flow: FlowDevice, VerificationURI: da.VerificationURI,
			VerificationURIComplete: da.VerificationURIComplete, UserCode: da.UserCode, Expires: da.Expiry})
	}
	tok, err := conf.DeviceAccessToken(hctx, da)
	if err == nil {
		return tok, nil
	}
	var re *oauth2.RetrieveError
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%w: cancelled: %w", ErrSignIn, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &re) && re.ErrorCode == "expired_token":
		return nil, fmt.Errorf("%w: the code %s expired before it was entered: sign in again", ErrSignIn, da.UserCode)
	case errors.As(err, &re) && re.ErrorCode == "access_denied":
		return nil, fmt.Errorf("%w: the sign-in was refused at the provider", ErrSignIn)
	}
	return nil, fmt.Errorf("%w: %w", ErrSignIn, explainTokenError(err, name))
}

// maxUserCode bounds the user code shown: RFC 8628 section 6.1 wants
// codes short enough to type (Microsoft's are 9 characters).
const maxUserCode = 64

// checkDeviceAnswer checks what of a device authorization answer (RFC
// 8628 section 3.2) is shown to the user, on a terminal or as JSON: a
// user code of printable characters and of a length one can type, and
// https (or loopback http) verification URLs. A provider's answer with
// terminal control sequences is refused, never printed.
func checkDeviceAnswer(da *oauth2.DeviceAuthResponse) error {
	switch {
	case da.DeviceCode == "" || da.UserCode == "":
		return errors.New("lacks a code")
	case len(da.UserCode) > maxUserCode || strings.ContainsFunc(da.UserCode, func(r rune) bool { return !unicode.IsPrint(r) }):
		return errors.New("has a user code that cannot be shown (too long, or control characters)")
	case da.VerificationURI == "" || checkEndpointURL(da.VerificationURI) != nil:
		return errors.New("lacks an https verification URL")
	case checkEndpointURL(da.VerificationURIComplete) != nil:
		return errors.New("has a verification_uri_complete that is not an https URL")
	}
	return nil
}

// browserFlow runs the authorization code grant with PKCE S256 (RFC
// 7636) and a loopback redirect (RFC 8252 section 7.3): it listens on
// 127.0.0.1 on a port the system picks, sends the browser to the
// provider, and takes the code the provider redirects back with, once
// its state matches (RFC 6749 section 10.12), or a pasted redirect URL.
func browserFlow(hctx, ctx context.Context, conf *oauth2.Config, e OAuth2Endpoint, name string, o SignInOptions) (*oauth2.Token, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("%w: loopback listener: %w", ErrSignIn, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	lns := []net.Listener{ln}
	host := e.RedirectHost
	if host == "" {
		host = "127.0.0.1"
	}
	if host == "localhost" {
		// The browser may try ::1 first for "localhost".
		if l6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
			lns = append(lns, l6)
		}
	}
	c := *conf
	c.RedirectURL = "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
	state := randomState()
	verifier := oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	for k, v := range e.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	authURL := c.AuthCodeURL(state, opts...)

	results := make(chan redirectResult, 1)
	deliver := func(r redirectResult) {
		select {
		case results <- r:
		default: // one answer counts
		}
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		res := parseRedirect(r.URL.Query(), state)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<!doctype html><title>letterbox</title><p>Sign-in failed: %s</p>", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprint(w, "<!doctype html><title>letterbox</title><p>Signed in. You can close this tab and go back to letterbox.</p>")
		}
		deliver(res)
	})}
	for _, l := range lns {
		go srv.Serve(l)
	}
	defer srv.Close()

	open := o.OpenURL
	if open == nil {
		open = OpenBrowser
	}
	openErr := open(ctx, authURL)
	if o.Prompt != nil {
		o.Prompt(SignInPrompt{Flow: FlowBrowser, URL: authURL, OpenErr: openErr})
	}
	if o.Paste != nil {
		go readPasted(o.Paste, state, deliver)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultBrowserTimeout
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var res redirectResult
	select {
	case res = <-results:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: cancelled: %w", ErrSignIn, ctx.Err())
	case <-t.C:
		return nil, fmt.Errorf("%w: no answer from the browser within %s", ErrSignIn, timeout)
	}
	if res.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignIn, res.err)
	}
	tok, err := c.Exchange(hctx, res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: code exchange: %w", ErrSignIn, explainTokenError(err, name))
	}
	return tok, nil
}

// redirectResult is what came back to the loopback redirect.
type redirectResult struct {
	code string
	err  error
}

// parseRedirect reads the authorization response (RFC 6749 section
// 4.1.2 and 4.1.2.1): the state must be ours, then code or error.
func parseRedirect(q url.Values, state string) redirectResult {
	if got := q.Get("state"); got != state {
		return redirectResult{err: errors.New("the redirect's state does not match the request's (a forged or stale redirect): sign-in stopped")}
	}
	if e := q.Get("error"); e != "" {
		msg := "the provider refused: " + clipText(e)
		if d := q.Get("error_description"); d != "" {
			msg += ": " + clipText(d)
		}
		return redirectResult{err: errors.New(msg)}
	}
	code := q.Get("code")
	if code == "" {
		return redirectResult{err: errors.New("the redirect has no code")}
	}
	return redirectResult{code: code}
}

// readPasted reads lines from r until one is a redirect URL with a
// state, and delivers what it says.
func readPasted(r io.Reader, state string, deliver func(redirectResult)) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		u, err := url.Parse(strings.TrimSpace(sc.Text()))
		if err != nil || !u.Query().Has("state") {
			continue
		}
		deliver(parseRedirect(u.Query(), state))
		return
	}
}

// randomState is an unguessable state value (RFC 6749 section 10.12).
func randomState() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// BrowserAvailable reports whether a browser can be opened on this
// machine: $BROWSER is set, or a display (X11, Wayland), or macOS and
// Windows, which always have one. getenv is os.Getenv or a test's.
func BrowserAvailable(getenv func(string) string) bool {
	if getenv("BROWSER") != "" {
		return true
	}
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// OpenBrowser opens u with $BROWSER (the first of its ":"-separated
// commands; "%s" is replaced by the URL, else the URL is added), or
// xdg-open, open (macOS) or the URL handler (Windows). It does not wait
// for the browser.
func OpenBrowser(ctx context.Context, u string) error {
	var cmd *exec.Cmd
	if b := os.Getenv("BROWSER"); b != "" {
		first, _, _ := strings.Cut(b, ":")
		if strings.Contains(first, "%s") {
			cmd = exec.Command("sh", "-c", strings.ReplaceAll(first, "%s", shellQuote(u)))
		} else {
			cmd = exec.Command("sh", "-c", first+" "+shellQuote(u))
		}
	} else {
		switch runtime.GOOS {
		case "darwin":
			cmd = exec.Command("open", u)
		case "windows":
			cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
		default:
			cmd = exec.Command("xdg-open", u)
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open a browser: %w", err)
	}
	go cmd.Wait()
	return nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
