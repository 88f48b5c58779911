package smtpd

import (
	"context"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
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
	// NoPassword refuses AUTH PLAIN and LOGIN on the listener (504 5.5.4)
	// and leaves them out of EHLO; OAuth2 mechanisms still work.
	NoPassword bool
}

// errTokenUnchecked: the issuer could not be asked; the client keeps its
// token and tries again.
var errTokenUnchecked = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
	Message: "Cannot check the token now, try again later"}

// maxAuthLine is the submission server's line limit: RFC 4954 section 4
// lets an AUTH line (with a bearer token of a few kilobytes) be 12288
// octets; go-smtp's default is 2000.
const maxAuthLine = 12288

// oauthExchangeTimeout bounds one OAuth2 AUTH exchange, the client's
// answers included.
const oauthExchangeTimeout = 2 * time.Minute

// ServeListener is Serve, with lo applying to the connections of l.
func (s *Server) ServeListener(l net.Listener, lo ListenerOptions) error {
	return s.Serve(s.tags.Tag(l, lo))
}

// listener returns the options of the listener the session's connection
// came from.
func (ss *session) listener() ListenerOptions { return ss.s.tags.Of(ss.c.Conn()) }

// oauth returns the backend's OAuth2 part when tokens can be checked.
func (ss *session) oauth() OAuthBackend {
	if ob, ok := ss.s.be.(OAuthBackend); ok && ob.OAuthEnabled() {
		return ob
	}
	return nil
}

// authOAuth is AUTH OAUTHBEARER or XOAUTH2. A refused token gets RFC
// 7628's JSON error challenge (334), then 535 5.7.8 after the client's
// dummy response (section 3.2.3's example).
func (ss *session) authOAuth(mech string) (sasl.Server, error) {
	ob := ss.oauth()
	if ob == nil {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	ctx, cancel := context.WithTimeout(ss.s.ctx, oauthExchangeTimeout)
	srv, err := ob.NewOAuthServer(ctx, mech, ss.c.Conn().RemoteAddr(), func(user string) error {
		ss.loggedIn(user)
		return nil
	})
	if err != nil {
		cancel()
		return nil, ss.authError(err, mech, "")
	}
	return &saslAnswers{srv: srv, ss: ss, mech: mech, cancel: cancel}, nil
}

// saslAnswers turns the errors of an OAuth2 exchange into SMTP replies.
type saslAnswers struct {
	srv    sasl.Server
	ss     *session
	mech   string
	cancel context.CancelFunc
}

func (a *saslAnswers) Next(response []byte) ([]byte, bool, error) {
	chal, done, err := a.srv.Next(response)
	if err != nil {
		err = a.ss.authError(err, a.mech, "")
	}
	if done || err != nil {
		a.cancel()
	}
	return chal, done, err
}
