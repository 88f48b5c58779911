package backend

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/emersion/go-sasl"
)

// SASL mechanisms of OAuth2 logins.
const (
	// MechOAuthBearer is RFC 7628's OAUTHBEARER.
	MechOAuthBearer = "OAUTHBEARER"
	// MechXOAuth2 is Google's XOAUTH2, which Microsoft speaks too.
	MechXOAuth2 = "XOAUTH2"
)

// OAuthMechanisms are the mechanisms NewOAuthServer knows, in the order
// to advertise them.
var OAuthMechanisms = []string{MechOAuthBearer, MechXOAuth2}

// ErrSASLMalformed is a client message that does not parse; the
// protocols answer it as a syntax error, not as a wrong token.
var ErrSASLMalformed = errors.New("malformed SASL message")

// OAuthCredentials are what the client's OAUTHBEARER or XOAUTH2 message
// carries.
type OAuthCredentials struct {
	// Authzid is the user the client names: OAUTHBEARER's gs2 "a=",
	// XOAUTH2's "user="; may be empty (OAUTHBEARER).
	Authzid string
	// Token is the bearer token.
	Token string
	// Host and Port are OAUTHBEARER's optional "host" and "port".
	Host string
	Port int
}

// oauthServer is the server side of one OAUTHBEARER or XOAUTH2 exchange
// (it implements go-sasl's sasl.Server). go-sasl's own OAUTHBEARER server
// is not used: it panics on an empty response after the error challenge
// (which XOAUTH2 clients send), refuses RFC 7628's extension keys, and
// cannot tell a refused token from an issuer that is down.
type oauthServer struct {
	b      *Backend
	ctx    context.Context
	remote net.Addr
	parse  func([]byte) (OAuthCredentials, error)
	login  func(user string) error

	state   int
	failErr error
}

const (
	oauthStart  = iota
	oauthAsked  // sent the empty challenge for the initial response
	oauthFailed // sent the error challenge; awaiting the client's dummy response
	oauthDone
)

// NewOAuthServer returns the server side of mech (MechOAuthBearer or
// MechXOAuth2) for one authentication from remote. Once the token is good
// it calls login with the user's canonical address, and ends the exchange
// with login's error. A refused token gets the JSON error challenge of
// RFC 7628 section 3.2.2; whatever the client answers then, Next ends
// with the *TokenError (errors.Is ErrAuthFailed). Other failures end the
// exchange at once: ErrSASLMalformed, ErrThrottled, ErrOAuthUnavailable,
// ctx's error. The protocol turns these errors into its answers.
func (b *Backend) NewOAuthServer(ctx context.Context, mech string, remote net.Addr, login func(user string) error) (sasl.Server, error) {
	s := &oauthServer{b: b, ctx: ctx, remote: remote, login: login}
	switch mech {
	case MechOAuthBearer:
		s.parse = ParseOAuthBearer
	case MechXOAuth2:
		s.parse = ParseXOAuth2
	default:
		return nil, fmt.Errorf("SASL mechanism %q: %w", mech, sasl.ErrUnexpectedClientResponse)
	}
	if b.oauth == nil {
		return nil, errors.New("OAuth2 is not configured")
	}
	return s, nil
}

// Next implements sasl.Server.
func (s *oauthServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch s.state {
	case oauthStart:
		if response == nil {
			// No initial response: ask for it with an empty challenge.
			s.state = oauthAsked
			return []byte{}, false, nil
		}
	case oauthAsked:
	case oauthFailed:
		// RFC 7628 section 3.2.3: the client answers the error
		// challenge with %x01; XOAUTH2 clients with an empty line.
		// Either way, and whatever else it sends, the login failed.
		s.state = oauthDone
		return nil, true, s.failErr
	default:
		return nil, true, sasl.ErrUnexpectedClientResponse
	}
	creds, err := s.parse(response)
	if err != nil {
		s.state = oauthDone
		return nil, true, fmt.Errorf("%w: %v", ErrSASLMalformed, err)
	}
	user, err := s.b.AuthenticateToken(s.ctx, creds.Authzid, creds.Token, s.remote)
	if errors.Is(err, ErrAuthFailed) {
		s.state, s.failErr = oauthFailed, err
		return s.b.OAuthChallenge(err), false, nil
	}
	s.state = oauthDone
	if err != nil {
		return nil, true, err
	}
	return nil, true, s.login(user)
}
