package smtpd

import (
	"context"
	"errors"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/netlimit"
)

// Replies to AUTH that are not a wrong password (RFC 4954 section 6):
// 454 4.7.0 is a temporary failure, so the client keeps the password.
var (
	errThrottled = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many failed logins to this account from your address, try again later"}
	errTempAuth = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Temporary authentication failure"}
	// errPasswordOff: RFC 4954 section 6's 504 for a mechanism not
	// offered here.
	errPasswordOff = &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 5, 4},
		Message: "Password login is disabled on this port; use AUTH OAUTHBEARER or XOAUTH2"}
)

var _ smtp.AuthSession = (*session)(nil)

// AuthMechanisms offers PLAIN and LOGIN (unless password logins are off
// on this listener), OAUTHBEARER and XOAUTH2 (when OAuth2 is configured)
// on submission ports only; the MX port does not advertise AUTH at all.
func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Mode != ModeSubmission {
		return nil
	}
	var mechs []string
	if !ss.listener().NoPassword {
		mechs = append(mechs, sasl.Plain, sasl.Login)
	}
	if ss.oauth() != nil {
		mechs = append(mechs, backend.OAuthMechanisms...)
	}
	return mechs
}

// Auth implements AUTH (RFC 4954) for PLAIN (RFC 4616) and LOGIN, and
// OAUTHBEARER (RFC 7628) and XOAUTH2 (oauth.go). A successful login marks
// the connection for netlimit (never evicted to make room) and ends the
// short before-login idle timeout.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.opts.Mode != ModeSubmission {
		return nil, smtp.ErrAuthUnsupported
	}
	switch mech {
	case sasl.Plain, sasl.Login:
		if ss.listener().NoPassword {
			ss.s.log.Info("smtp password login on a listener without them", "id", ss.id)
			return nil, errPasswordOff
		}
	case backend.MechOAuthBearer, backend.MechXOAuth2:
		return ss.authOAuth(mech)
	default:
		return nil, smtp.ErrAuthUnknownMechanism
	}
	check := func(username, password string) error {
		ctx, cancel := context.WithTimeout(ss.s.ctx, 30*time.Second)
		defer cancel()
		user, err := ss.s.be.Authenticate(ctx, username, password, ss.c.Conn().RemoteAddr())
		if err != nil {
			return ss.authError(err, "password", username)
		}
		ss.loggedIn(user)
		return nil
	}
	if mech == sasl.Login {
		return newLoginServer(check), nil
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		return check(username, password)
	}), nil
}

// loggedIn records a good login.
func (ss *session) loggedIn(user string) {
	nc := ss.c.Conn()
	ss.user = user
	netlimit.LoggedIn(nc)
	netlimit.SetIdle(nc, 0) // go-smtp's ReadTimeout from now on
	ss.s.log.Info("smtp auth", "id", ss.id, "user", user)
}

// authError turns a failed login into its reply (RFC 4954 section 6) and
// logs it; login is what the client typed (never a secret).
func (ss *session) authError(err error, mech, login string) error {
	var se *smtp.SMTPError
	attrs := []any{"id", ss.id, "remote", ss.c.Conn().RemoteAddr().String(), "mech", mech}
	if login != "" {
		attrs = append(attrs, "user", login)
	}
	switch {
	case errors.As(err, &se):
		return err
	case errors.Is(err, backend.ErrThrottled):
		ss.s.log.Warn("smtp auth locked out", attrs...)
		return errThrottled
	case errors.Is(err, backend.ErrSASLMalformed):
		ss.s.log.Info("smtp auth malformed", attrs...)
		return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Malformed " + mech + " message"}
	case errors.Is(err, backend.ErrAuthFailed), errors.Is(err, backend.ErrNoUser):
		ss.s.log.Info("smtp auth failed", attrs...)
		return smtp.ErrAuthFailed
	case errors.Is(err, backend.ErrOAuthUnavailable):
		ss.s.log.Warn("smtp auth: token not checked", append(attrs, "err", err)...)
		return errTokenUnchecked
	}
	ss.s.log.Error("smtp auth", append(attrs, "err", err)...)
	return errTempAuth
}

// loginServer is the server side of the LOGIN mechanism
// (draft-murchison-sasl-login): the client answers "Username:" and
// "Password:" challenges. go-sasl has only the client side.
type loginServer struct {
	auth     func(username, password string) error
	username string
	step     int
}

func newLoginServer(auth func(username, password string) error) sasl.Server {
	return &loginServer{auth: auth}
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step++
		if len(response) > 0 { // initial response carries the user name
			l.username = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.username = string(response)
		l.step++
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.auth(l.username, string(response))
	}
	return nil, false, errors.New("unexpected client response")
}
