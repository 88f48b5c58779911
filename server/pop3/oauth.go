package pop3d

import (
	"context"
	"encoding/base64"
	"net"

	"github.com/emersion/go-sasl"

	"github.com/letterbox-mail/letterbox/server/backend"
)

// OAuthBackend is the optional part of a Backend for OAuth2 logins
// (found by type assertion); server/backend.Backend implements it.
type OAuthBackend interface {
	// OAuthEnabled reports whether tokens can be checked at all.
	OAuthEnabled() bool
	// NewOAuthServer is the server side of OAUTHBEARER or XOAUTH2 for
	// one AUTH (backend.Backend.NewOAuthServer).
	NewOAuthServer(ctx context.Context, mech string, remote net.Addr, login func(user string) error) (sasl.Server, error)
}

// ListenerOptions are what may differ between the listeners of one
// server (ServeListener).
type ListenerOptions struct {
	// NoPassword refuses USER/PASS and AUTH PLAIN on the listener and
	// leaves them out of CAPA; OAuth2 mechanisms still work.
	NoPassword bool
}

// maxAuthLine is the longest line read before login, with the CRLF: a
// bearer token of a few kilobytes fits neither POP3's 255 octets (RFC
// 2449 section 4) nor Options.MaxLineLength. Clients send it as a
// response to the empty challenge (RFC 5034 section 4) or, in practice,
// as the AUTH command's initial response; both may be this long, as an
// SMTP AUTH line may (RFC 4954 section 4).
const maxAuthLine = 12288

// lineLimit is the longest command line accepted now: longer before login
// when OAuth2 is on, for AUTH with a token.
func (ss *session) lineLimit() int {
	if ss.state == stateAuthorization && ss.oauth() != nil {
		return max(ss.srv.opts.MaxLineLength, maxAuthLine)
	}
	return ss.srv.opts.MaxLineLength
}

// ServeListener is Serve, with lo applying to the connections of l.
func (s *Server) ServeListener(l net.Listener, lo ListenerOptions) error {
	return s.Serve(s.tags.Tag(l, lo))
}

// oauth returns the backend's OAuth2 part when tokens can be checked.
func (ss *session) oauth() OAuthBackend {
	if ob, ok := ss.srv.be.(OAuthBackend); ok && ob.OAuthEnabled() {
		return ob
	}
	return nil
}

// mechanisms are the SASL mechanisms offered on this connection.
func (ss *session) mechanisms() []string {
	var m []string
	if !ss.lo.NoPassword {
		m = append(m, "PLAIN")
	}
	if ss.oauth() != nil {
		m = append(m, backend.OAuthMechanisms...)
	}
	return m
}

// authOAuth runs an OAUTHBEARER or XOAUTH2 exchange (RFC 5034 section 4
// framing): the initial response if given, the server's challenges as
// "+ base64" lines. A refused token gets RFC 7628's JSON error challenge,
// and -ERR [AUTH] after the client's dummy response. It reports whether
// the session must end.
func (ss *session) authOAuth(mech, resp string, hasIR bool) bool {
	srv, err := ss.oauth().NewOAuthServer(ss.ctx, mech, ss.remote, ss.enter)
	if err != nil {
		return ss.loginDone(err, mech, "")
	}
	var msg []byte // nil: no initial response
	if hasIR {
		if msg, err = decodeSASL(resp); err != nil {
			ss.authFailures++
			ss.fail("Invalid base64 data")
			return ss.authFailures >= maxAuthFailures
		}
	}
	for {
		chal, done, err := srv.Next(msg)
		if err != nil || done {
			return ss.loginDone(err, mech, "")
		}
		answer, end := ss.challenge(base64.StdEncoding.EncodeToString(chal))
		if answer == "" {
			return end
		}
		if msg, err = decodeSASL(answer); err != nil {
			ss.authFailures++
			ss.fail("Invalid base64 data")
			return ss.authFailures >= maxAuthFailures
		}
	}
}

// decodeSASL decodes a base64 SASL message; "=" is the empty one.
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.DecodeString(s)
}
