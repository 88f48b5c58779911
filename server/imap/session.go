package imapd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/letterbox-mail/letterbox/server/netlimit"
	"github.com/letterbox-mail/letterbox/store"
)

// session is one IMAP connection. imapserver calls its methods from the
// connection's goroutine, one command at a time (Idle runs on a second
// goroutine while the first waits for DONE).
type session struct {
	srv  *Server
	conn *imapserver.Conn
	log  *slog.Logger
	// cx is the context of the session's commands: the server's base
	// context, and cancelled when the session ends.
	cx     context.Context
	cancel context.CancelFunc
	// nl is the connection as netlimit counted it (nil on other
	// listeners), found at the start: STARTTLS may wrap it later in a way
	// netlimit.From cannot see through.
	nl *netlimit.Conn
	// lo are the options of the listener the connection came from.
	lo ListenerOptions

	user *userState // nil before login
	st   Store
	sel  *selected // nil unless a mailbox is selected
}

var (
	_ imapserver.SessionIMAP4rev2   = (*session)(nil)
	_ imapserver.SessionAppendLimit = (*session)(nil)
)

// newSession is imapserver's NewSession hook.
func (s *Server) newSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, nil, &imap.Error{Type: imap.StatusResponseTypeBye, Text: "Server shutting down"}
	}
	id := s.connID.Add(1)
	nc := c.NetConn()
	cx, cancel := context.WithCancel(s.ctx)
	sess := &session{srv: s, conn: c, cx: cx, cancel: cancel, nl: netlimit.From(nc), lo: s.tags.Of(nc),
		log: s.log.With("conn", id, "remote", nc.RemoteAddr().String())}
	sess.setIdle(s.opts.LoginIdleTimeout)
	s.addSession(sess)
	sess.log.Debug("imap connection")
	return sess, nil, nil
}

// setIdle sets the connection's idle timeout, on netlimit listeners.
func (s *session) setIdle(d time.Duration) {
	if s.nl != nil {
		s.nl.SetIdle(d)
	}
}

// ctx is the context of a command. imapserver passes none; this one ends
// when the server is closed (or its Shutdown gives up waiting) and when
// the session ends.
func (s *session) ctx() context.Context { return s.cx }

// Close ends the session: it is called once, when the connection ends.
func (s *session) Close() error {
	s.cancel()
	s.unselect()
	if s.user != nil {
		s.srv.hub.release(s.user)
		s.user = nil
	}
	s.srv.removeSession(s)
	s.log.Debug("imap connection closed")
	return nil
}

// Errors of logins (RFC 5530 response codes).
var (
	errLockedOut = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable,
		Text: "Too many failed logins to this account from your address, try again later"}
	errAuthUnavailable = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable,
		Text: "Temporary authentication failure"}
)

// Login implements LOGIN and AUTHENTICATE PLAIN (RFC 9051 sections 6.2.3
// and 6.2.2). A wrong password and an unknown user get the same
// [AUTHENTICATIONFAILED]; an account locked out for the client's address,
// or a failure of ours, gets [UNAVAILABLE], so that the client does not
// tell its user that a good password is wrong. A listener without
// password logins answers NO [CANNOT].
func (s *session) Login(username, password string) error {
	if s.lo.NoPassword {
		s.log.Info("imap password login on a listener without them", "login", clean(username))
		return errPasswordOff
	}
	user, err := s.srv.be.Authenticate(s.ctx(), username, password, s.conn.NetConn().RemoteAddr())
	if err != nil {
		return s.authError(err, "password", username)
	}
	return s.loggedIn(user)
}

// loggedIn opens the user's store and enters the authenticated state's
// bookkeeping, after a password or a token was accepted.
func (s *session) loggedIn(user string) error {
	st, err := s.srv.be.Store(s.ctx(), user)
	if err != nil {
		s.log.Error("imap open store", "user", user, "err", err)
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable, Text: "Mailbox store unavailable"}
	}
	s.st = st
	s.user = s.srv.hub.acquire(user, st)
	s.log = s.log.With("user", user)
	if s.nl != nil {
		s.nl.LoggedIn()
	}
	s.setIdle(s.srv.opts.IdleTimeout)
	s.log.Info("imap login")
	return nil
}

// Namespace implements NAMESPACE (RFC 2342): one personal namespace.
func (s *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: delim}}}, nil
}

// AppendLimit is the APPENDLIMIT (RFC 7889) for every mailbox.
func (s *session) AppendLimit() uint32 { return s.srv.opts.AppendLimit }

// Poll sends the updates other sessions and protocols made since the last
// command (RFC 9051 section 5.2); expunges only when allowed.
func (s *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if s.user == nil {
		return nil
	}
	s.user.drain()
	if s.sel == nil {
		return nil
	}
	return s.sel.tracker.Poll(w, allowExpunge)
}

// Idle implements IDLE (RFC 2177): updates are written as the store's
// change feed brings them, until stop is closed. The client may stay
// silent for at least 30 minutes meanwhile.
func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	s.setIdle(max(s.srv.opts.IdleTimeout, minIDLETimeout))
	defer s.setIdle(s.srv.opts.IdleTimeout)
	if s.user == nil {
		<-stop
		return nil
	}
	for {
		wake := s.user.waitChan() // taken before draining: no change is missed
		if err := s.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-wake:
		}
	}
}

// done logs the outcome of a command.
// It is deferred with a pointer to the command's named error result.
func (s *session) done(cmd string, start time.Time, errp *error, attrs ...any) {
	err := *errp
	attrs = append(attrs, "cmd", cmd, "ms", time.Since(start).Milliseconds())
	var ie *imap.Error
	switch {
	case err == nil:
		s.log.Debug("imap command ok", attrs...)
	case errors.As(err, &ie):
		s.log.Info("imap command failed", append(attrs, "status", string(ie.Type), "text", ie.Text)...)
	default:
		s.log.Error("imap command error", append(attrs, "err", err)...)
	}
}

// Errors of commands. imapserver turns an *imap.Error into a tagged
// response as is; anything else becomes NO [SERVERBUG].
var (
	errNoSuchMailbox = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: "No such mailbox"}
	errTryCreate     = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}
	errReadOnly      = &imap.Error{Type: imap.StatusResponseTypeNo, Code: "READ-ONLY", Text: "Mailbox is read-only"}
	errMailboxGone   = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: "Selected mailbox was deleted"}
)

// storeError turns a store error into the IMAP response for it
// (RFC 5530 response codes).
func storeError(op string, err error) error {
	var ie *imap.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return err
	case errors.Is(err, store.ErrNotFound):
		return errNoSuchMailbox
	case errors.Is(err, store.ErrExists):
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAlreadyExists, Text: "Mailbox already exists"}
	case errors.Is(err, store.ErrEmptyMessage):
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Empty message"}
	case errors.Is(err, store.ErrInvalid):
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: clean(err.Error())}
	case errors.Is(err, store.ErrClosed):
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable, Text: "Store closed"}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// clean makes s safe as response text: one line of printable ASCII.
func clean(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			b[i] = '?'
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
