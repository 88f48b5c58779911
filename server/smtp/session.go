package smtpd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/letterbox-mail/letterbox/server/backend"
)

// SMTP replies this package gives (RFC 5321 section 4.2, RFC 3463 codes).
var (
	errRelayDenied  = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
	errNoSuchUser   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	errNotOwner     = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender address is not owned by the authenticated user"}
	errTempFail     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary local problem, try again later"}
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required (RFC 4954)"}
	errNoMX         = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Bounces and unauthenticated relay are not accepted on this port"}
	errLineTooLong  = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Line too long (RFC 5321 section 4.5.3.1.6)"}
	errNeedUTF8     = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "Non-ASCII address needs SMTPUTF8 (RFC 6531)"}
)

func rateError(n int) error {
	return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
		Message: fmt.Sprintf("Sending rate limit reached (%d messages per hour), try again later", n)}
}

type session struct {
	s      *Server
	c      *smtp.Conn
	id     string
	user   string
	from   string
	fromOK bool
	utf8   bool // MAIL FROM had SMTPUTF8
	to     []string
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	id := fmt.Sprintf("%x%04x", time.Now().Unix(), s.ids.Add(1)&0xffff)
	s.log.Debug("smtp connect", "id", id, "remote", c.Conn().RemoteAddr().String())
	return &session{s: s, c: c, id: id}, nil
}

// Mail checks the reverse path (RFC 5321 section 4.1.1.2).
func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	ss.Reset()
	addr, err := ParsePath(from)
	if err != nil {
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 7}, Message: "Bad sender address: " + err.Error()}
	}
	// An address that is not ASCII is allowed only with SMTPUTF8 (RFC
	// 6531 section 3.3), which go-smtp advertises and reports in opts.
	utf8 := opts != nil && opts.UTF8
	if !utf8 && !isASCII(addr) {
		return errNeedUTF8
	}
	if ss.s.opts.Mode == ModeSubmission {
		if ss.user == "" {
			return errAuthRequired
		}
		if addr == "" {
			return errNoMX
		}
		if !strings.EqualFold(addr, ss.user) {
			return errNotOwner
		}
		if !ss.s.rate.allow(ss.user, 1, time.Now()) {
			ss.s.log.Warn("smtp rate limit", "id", ss.id, "user", ss.user)
			return rateError(ss.s.opts.MaxMessagesPerHour)
		}
	}
	ss.from, ss.fromOK, ss.utf8 = addr, true, utf8
	return nil
}

// Rcpt checks a forward path (RFC 5321 section 4.1.1.3): local users on
// every port, other domains only from authenticated users.
func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if !ss.fromOK {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "MAIL first"}
	}
	addr, err := ParsePath(to)
	if err != nil || addr == "" {
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Bad recipient address"}
	}
	if !ss.utf8 && !isASCII(addr) {
		return errNeedUTF8
	}
	_, domain, _ := strings.Cut(addr, "@")
	if ss.s.be.IsLocalDomain(domain) {
		addr = strings.ToLower(addr)
		if !ss.s.be.UserExists(addr) {
			ss.s.log.Info("smtp rcpt unknown", "id", ss.id, "rcpt", addr)
			return errNoSuchUser
		}
	} else if ss.s.opts.Mode != ModeSubmission || ss.user == "" {
		ss.s.log.Warn("smtp relay denied", "id", ss.id, "remote", ss.c.Conn().RemoteAddr().String(), "rcpt", addr)
		return errRelayDenied
	}
	for _, t := range ss.to {
		if strings.EqualFold(t, addr) {
			return nil
		}
	}
	ss.to = append(ss.to, addr)
	return nil
}

// Data hands the message to the Deliverer; the reply is sent only after
// it is durable for every recipient (or refused for all).
func (ss *session) Data(r io.Reader) error {
	_, isTLS := ss.c.TLSConnectionState()
	env := Envelope{From: ss.from, To: append([]string(nil), ss.to...), User: ss.user, Helo: ss.c.Hostname(),
		Remote: ss.c.Conn().RemoteAddr(), TLS: isTLS, ID: ss.id, UTF8: ss.utf8}
	ctx, cancel := context.WithTimeout(ss.s.ctx, 10*time.Minute)
	defer cancel()
	start := time.Now()
	br := ss.s.bufs.Get().(*bufio.Reader)
	br.Reset(r)
	err := ss.s.dl.Deliver(ctx, env, &crlfReader{r: br, reject: ss.s.opts.RejectBareLF})
	br.Reset(nil)
	ss.s.bufs.Put(br)
	var se *smtp.SMTPError
	switch {
	case err == nil:
		if ss.user != "" {
			ss.s.rate.add(ss.user, 1, time.Now())
		}
		ss.s.log.Info("smtp accepted", "id", ss.id, "remote", backend.HostOf(env.Remote), "user", ss.user, "from", env.From, "rcpts", len(env.To), "took", time.Since(start))
		return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "OK: queued as " + ss.id}
	case errors.Is(err, smtp.ErrTooLongLine):
		ss.s.log.Info("smtp refused", "id", ss.id, "user", ss.user, "reason", "line too long")
		return errLineTooLong
	case errors.As(err, &se):
		ss.s.log.Info("smtp refused", "id", ss.id, "user", ss.user, "code", se.Code, "reason", se.Message)
		return se
	default:
		ss.s.log.Error("smtp delivery failed", "id", ss.id, "user", ss.user, "err", err)
		return errTempFail
	}
}

func (ss *session) Reset() { ss.from, ss.fromOK, ss.utf8, ss.to = "", false, false, nil }

func (ss *session) Logout() error {
	ss.s.log.Debug("smtp disconnect", "id", ss.id, "user", ss.user)
	return nil
}
