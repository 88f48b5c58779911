package imapd

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"

	"github.com/letterbox-mail/letterbox/server/backend"
)

// OAuthBackend is the optional part of a Backend for OAuth2 logins
// (found by type assertion); server/backend.Backend implements it.
type OAuthBackend interface {
	// OAuthEnabled reports whether tokens can be checked at all.
	OAuthEnabled() bool
	// NewOAuthServer is the server side of OAUTHBEARER or XOAUTH2 for
	// one AUTHENTICATE (backend.Backend.NewOAuthServer).
	NewOAuthServer(ctx context.Context, mech string, remote net.Addr, login func(user string) error) (sasl.Server, error)
}

// ListenerOptions are what may differ between the listeners of one
// server (ServeListener).
type ListenerOptions struct {
	// NoPassword refuses LOGIN and AUTHENTICATE PLAIN on the listener
	// (NO [CANNOT]) and leaves AUTH=PLAIN out of the capabilities; OAuth2
	// mechanisms still work.
	NoPassword bool
}

// ServeListener is Serve, with lo applying to the connections of l.
func (s *Server) ServeListener(l net.Listener, lo ListenerOptions) error {
	return s.Serve(s.tags.Tag(l, lo))
}

var _ imapserver.SessionSASL = (*session)(nil)

// oauth returns the backend's OAuth2 part when tokens can be checked.
func (s *session) oauth() OAuthBackend {
	if ob, ok := s.srv.be.(OAuthBackend); ok && ob.OAuthEnabled() {
		return ob
	}
	return nil
}

// AuthenticateMechanisms are the SASL mechanisms of AUTH= (RFC 9051
// section 6.2.2): PLAIN unless passwords are off on this listener,
// OAUTHBEARER (RFC 7628) and XOAUTH2 when OAuth2 is configured.
func (s *session) AuthenticateMechanisms() []string {
	var mechs []string
	if !s.lo.NoPassword {
		mechs = append(mechs, sasl.Plain)
	}
	if s.oauth() != nil {
		mechs = append(mechs, backend.OAuthMechanisms...)
	}
	return mechs
}

// errPasswordOff answers a password login on a listener without them.
var errPasswordOff = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot,
	Text: "Password login is disabled on this port; use AUTHENTICATE OAUTHBEARER or XOAUTH2"}

// Authenticate implements AUTHENTICATE (RFC 9051 section 6.2.2; SASL-IR,
// RFC 4959, is imapserver's). For OAUTHBEARER and XOAUTH2 a refused token
// gets RFC 7628's error challenge, then NO [AUTHENTICATIONFAILED] after
// the client's dummy response; an issuer that cannot be reached gets NO
// [UNAVAILABLE].
func (s *session) Authenticate(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		if s.lo.NoPassword {
			return nil, errPasswordOff
		}
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthorizationFailed,
					Text: "SASL identity not supported"}
			}
			return s.Login(username, password)
		}), nil
	case backend.MechOAuthBearer, backend.MechXOAuth2:
		ob := s.oauth()
		if ob == nil {
			break
		}
		srv, err := ob.NewOAuthServer(s.ctx(), mech, s.conn.NetConn().RemoteAddr(), s.loggedIn)
		if err != nil {
			s.log.Error("imap oauth2", "err", err)
			return nil, errAuthUnavailable
		}
		return &saslAnswers{srv: srv, sess: s, mech: mech}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot,
		Text: "Unsupported authentication mechanism"}
}

// saslAnswers turns the errors of an OAuth2 exchange into IMAP answers
// (imapserver would make anything but an *imap.Error a NO [SERVERBUG]).
type saslAnswers struct {
	srv  sasl.Server
	sess *session
	mech string
}

func (a *saslAnswers) Next(response []byte) ([]byte, bool, error) {
	chal, done, err := a.srv.Next(response)
	if err != nil {
		err = a.sess.authError(err, a.mech, "")
	}
	return chal, done, err
}

// Errors of OAuth2 logins.
var (
	errTokenRefused = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
		Text: "OAuth2 token refused"}
	errTokenUnchecked = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable,
		Text: "Cannot check the token now, try again later"}
)

// authError turns a login failure into its IMAP answer (RFC 5530 response
// codes) and logs it: a wrong password or token is [AUTHENTICATIONFAILED];
// a lockout, an issuer that is down, or a failure of ours is
// [UNAVAILABLE], so that the client does not tell its user that good
// credentials are wrong. login is what the client typed (never a
// password or token).
func (s *session) authError(err error, mech, login string) error {
	var ie *imap.Error
	attrs := []any{"mech", mech}
	if login != "" {
		attrs = append(attrs, "login", clean(login))
	}
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return err
	case errors.Is(err, backend.ErrSASLMalformed):
		s.log.Info("imap login malformed", attrs...)
		return &imap.Error{Type: imap.StatusResponseTypeBad, Code: imap.ResponseCodeClientBug,
			Text: "Malformed " + strings.ToUpper(mech) + " message"}
	case errors.Is(err, backend.ErrAuthFailed), errors.Is(err, backend.ErrNoUser):
		s.log.Info("imap login failed", attrs...)
		if mech == backend.MechOAuthBearer || mech == backend.MechXOAuth2 {
			return errTokenRefused
		}
		return imapserver.ErrAuthFailed
	case errors.Is(err, backend.ErrThrottled):
		s.log.Warn("imap login locked out", attrs...)
		return errLockedOut
	case errors.Is(err, backend.ErrOAuthUnavailable):
		s.log.Warn("imap login: token not checked", append(attrs, "err", err)...)
		return errTokenUnchecked
	}
	s.log.Error("imap login error", append(attrs, "err", err)...)
	return errAuthUnavailable
}
