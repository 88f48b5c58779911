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
)

var _ smtp.AuthSession = (*session)(nil)

// AuthMechanisms offers PLAIN and LOGIN on submission ports only; the MX
// port does not advertise AUTH at all.
func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Mode != ModeSubmission {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth implements AUTH (RFC 4954) for PLAIN (RFC 4616) and LOGIN. A
// successful login marks the connection for netlimit (never evicted to
// make room) and ends the short before-login idle timeout.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.opts.Mode != ModeSubmission {
		return nil, smtp.ErrAuthUnsupported
	}
	check := func(username, password string) error {
		ctx, cancel := context.WithTimeout(ss.s.ctx, 30*time.Second)
		defer cancel()
		nc := ss.c.Conn()
		user, err := ss.s.be.Authenticate(ctx, username, password, nc.RemoteAddr())
		switch {
		case err == nil:
			ss.user = user
			netlimit.LoggedIn(nc)
			netlimit.SetIdle(nc, 0) // go-smtp's ReadTimeout from now on
			ss.s.log.Info("smtp auth", "id", ss.id, "user", user)
			return nil
		case errors.Is(err, backend.ErrThrottled):
			ss.s.log.Warn("smtp auth locked out", "id", ss.id, "remote", nc.RemoteAddr().String(), "user", username)
			return errThrottled
		case errors.Is(err, backend.ErrAuthFailed), errors.Is(err, backend.ErrNoUser):
			ss.s.log.Info("smtp auth failed", "id", ss.id, "remote", nc.RemoteAddr().String(), "user", username)
			return smtp.ErrAuthFailed
		default:
			ss.s.log.Error("smtp auth", "id", ss.id, "err", err)
			return errTempAuth
		}
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return smtp.ErrAuthFailed
			}
			return check(username, password)
		}), nil
	case sasl.Login:
		return newLoginServer(check), nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
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
