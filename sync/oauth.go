package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// OAuth2 logins (RFC 7628), shared by the three protocol clients: the
// TokenSource that gives them bearer tokens, the choice of mechanism,
// the SASL clients (oauthbearer.go, xoauth2.go), the server's JSON error
// challenge and the one retry after a refresh (OAuthRetry).

// TokenSource gives the bearer tokens of an account that signs in with
// OAuth2. The protocol clients call Token before a login and, when the
// server refuses the token, Refused once with it, then log in once more
// with the token Refused returns. One source is shared by all of an
// account's connections: implementations are safe for concurrent use.
type TokenSource interface {
	// Token returns an access token that is valid now (refreshed first
	// when it is about to expire). Its error has a kind: Auth when the
	// sign-in has expired or was revoked (the user must sign in again),
	// Temporary when the identity provider cannot be reached.
	Token(ctx context.Context) (string, error)
	// Refused is told that a server refused token. It returns a fresh
	// token worth one more login, or "" when another try would not help;
	// its error is as Token's.
	Refused(ctx context.Context, token string) (string, error)
}

// The SASL mechanisms of OAuth2 logins.
const (
	// MechOAuthBearer is OAUTHBEARER (RFC 7628 section 3), the standard.
	MechOAuthBearer = "OAUTHBEARER"
	// MechXOAuth2 is XOAUTH2, Google's older format, which Microsoft's
	// servers speak too (some only that).
	MechXOAuth2 = "XOAUTH2"
)

// ChooseOAuthMech returns the mechanism to use of those a server offers
// (offers reports whether it lists one, by its upper-case name):
// OAUTHBEARER before XOAUTH2, "" when it offers neither.
func ChooseOAuthMech(offers func(mech string) bool) string {
	for _, m := range []string{MechOAuthBearer, MechXOAuth2} {
		if offers(m) {
			return m
		}
	}
	return ""
}

// OAuthLogin is what an OAuth2 SASL client sends: the user, the bearer
// token and, for OAUTHBEARER, the server's host and port (RFC 7628
// section 3.1; optional, sent when known).
type OAuthLogin struct {
	User, Token string
	Host        string
	Port        int
}

// check refuses what cannot go into the SASL message: a token that is
// not an RFC 6750 b64token, a user or host with a control character
// (the fields are separated by ^A).
func (l OAuthLogin) check() error {
	if !isB64Token(l.Token) {
		return errors.New("the access token is empty or not a bearer token (RFC 6750 section 2.1)")
	}
	if l.User == "" || strings.ContainsFunc(l.User+l.Host, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("the login name is empty or holds a control character")
	}
	return nil
}

// isB64Token reports whether s is a b64token (RFC 6750 section 2.1):
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

// OAuthClient is a SASL client (go-sasl's Client) for OAUTHBEARER or
// XOAUTH2. Unlike go-sasl's OAUTHBEARER client, it answers the server's
// error challenge as RFC 7628 section 3.2.3 asks (OAUTHBEARER: one ^A;
// XOAUTH2: an empty response), so the exchange ends with the server's
// refusal rather than in the middle, and it keeps the challenge for the
// error (Challenge). Make one per attempt.
type OAuthClient struct {
	mech      string
	ir        []byte
	challenge *OAuthChallenge
	answered  bool
}

// NewOAuthClient returns a client of mech (MechOAuthBearer or
// MechXOAuth2) for l.
func NewOAuthClient(mech string, l OAuthLogin) (*OAuthClient, error) {
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", mech, err)
	}
	c := &OAuthClient{mech: mech}
	switch mech {
	case MechOAuthBearer:
		c.ir = oauthBearerMessage(l)
	case MechXOAuth2:
		c.ir = xoauth2Message(l)
	default:
		return nil, fmt.Errorf("SASL mechanism %q is not an OAuth2 one", mech)
	}
	return c, nil
}

// Start returns the mechanism and the initial response.
func (c *OAuthClient) Start() (string, []byte, error) { return c.mech, c.ir, nil }

// Next answers a server challenge. The only challenge of these
// mechanisms is the JSON error (RFC 7628 section 3.2.2), which is kept
// for Challenge and answered with the dummy response that lets the
// server send its final refusal. A second challenge is an error.
func (c *OAuthClient) Next(challenge []byte) ([]byte, error) {
	if c.answered {
		return nil, fmt.Errorf("%s: a second server challenge: %w", c.mech, ErrProtocol)
	}
	c.answered = true
	ch, err := ParseOAuthChallenge(challenge)
	if err != nil {
		ch = OAuthChallenge{Status: "unreadable challenge: " + err.Error()}
	}
	c.challenge = &ch
	if c.mech == MechOAuthBearer {
		return []byte{0x01}, nil // kvsep, RFC 7628 section 3.2.3
	}
	return []byte{}, nil
}

// Challenge returns the server's error challenge, or nil when none came.
func (c *OAuthClient) Challenge() *OAuthChallenge { return c.challenge }

// OAuthChallenge is the JSON error a server sends when it refuses a
// bearer token (RFC 7628 section 3.2.2).
type OAuthChallenge struct {
	// Status is the RFC 6750 error ("invalid_token") or, as Google and
	// Dovecot send, an HTTP status ("400", "401").
	Status string
	// Scope is the scope the server wants, if it said.
	Scope string
	// OpenIDConfiguration is the URL of the provider's discovery
	// document, if the server said.
	OpenIDConfiguration string
}

// maxChallenge bounds the JSON error challenge read from a server.
const maxChallenge = 16 << 10

// ParseOAuthChallenge decodes the JSON error challenge of RFC 7628
// section 3.2.2 (base64 decoding is the protocol's): an object whose
// "status" is a string or a number; "scope" and "openid-configuration"
// are kept when they are strings. Other members are ignored.
func ParseOAuthChallenge(b []byte) (OAuthChallenge, error) {
	var ch OAuthChallenge
	if len(b) > maxChallenge {
		return ch, fmt.Errorf("challenge of %d bytes is too long", len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return ch, fmt.Errorf("challenge is not a JSON object: %w", err)
	}
	str := func(key string) (string, bool) {
		v, ok := raw[key]
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return clip(s), true
		}
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if d.Decode(&n) == nil {
			return n.String(), true
		}
		return "", false
	}
	status, ok := str("status")
	if !ok || status == "" {
		return ch, errors.New("challenge has no status")
	}
	ch.Status = status
	ch.Scope, _ = str("scope")
	ch.OpenIDConfiguration, _ = str("openid-configuration")
	return ch, nil
}

// clip shortens a string from a server for an error message and drops
// control characters.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Describe says what the status means, in words, for an error message.
func (c OAuthChallenge) Describe() string {
	var why string
	switch c.Status {
	case "invalid_token", "401":
		why = "invalid or expired token"
	case "insufficient_scope", "403":
		why = "the token lacks the scope the server wants"
	case "invalid_request", "400":
		why = "the server could not use the token"
	}
	s := "status " + strconv.Quote(c.Status)
	if why != "" {
		s += ": " + why
	}
	if c.Scope != "" {
		s += "; scope wanted: " + c.Scope
	}
	return s
}

// TokenRefusedError is a server's refusal of a bearer token: the
// mechanism, the JSON challenge it sent (if any) and its final answer
// (the IMAP NO, POP3 -ERR or SMTP 535 in Err). Its kind is Auth.
type TokenRefusedError struct {
	Mech      string
	Challenge *OAuthChallenge
	Err       error
}

// Error says the token was refused, with the challenge's status.
func (e *TokenRefusedError) Error() string {
	s := "the server refused the OAuth2 token (" + e.Mech
	if e.Challenge != nil {
		s += ", " + e.Challenge.Describe()
	}
	s += ")"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the server's answer.
func (e *TokenRefusedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrAuth) hold.
func (e *TokenRefusedError) Is(target error) bool { return Auth.Matches(target) }

// OAuthRetry runs an OAuth2 login: attempt(token) is one SASL exchange
// with the server, whose refusal of the token is of kind Auth. When the
// first attempt is refused, src.Refused gives a fresh token (after a
// refresh) and attempt runs once more with it; a refused refresh (the
// sign-in expired or was revoked) is returned instead of the refusal.
// Any other failure ends it at once.
func OAuthRetry(ctx context.Context, src TokenSource, token string, attempt func(token string) error) error {
	err := attempt(token)
	if err == nil || KindOf(err) != Auth {
		return err
	}
	next, rerr := src.Refused(ctx, token)
	if rerr != nil {
		return rerr
	}
	if next == "" || next == token {
		return err
	}
	return attempt(next)
}
