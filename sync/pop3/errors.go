package pop3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Kinds of failure, for callers to test with errors.Is. Every error this
// package returns is either temporary (worth retrying later: the network,
// a busy or overloaded server) or permanent (needs a person: wrong
// password, a server that cannot do what we need, a bad certificate), and
// may carry one of the more precise kinds as well.
var (
	// ErrTemporary marks a failure that may go away by itself: a dropped
	// or refused connection, a timeout, "-ERR [SYS/TEMP]", "[IN-USE]",
	// "[LOGIN-DELAY]".
	ErrTemporary = errors.New("temporary failure")
	// ErrPermanent marks a failure that retrying will not fix.
	ErrPermanent = errors.New("permanent failure")
	// ErrAuth is a rejected login: wrong user name or password ("-ERR
	// [AUTH]", or a -ERR without a code in reply to the credentials).
	// It is permanent.
	ErrAuth = errors.New("login rejected")
	// ErrInUse means another session holds the mailbox ("-ERR [IN-USE]",
	// RFC 2449 section 8.1.1). It is temporary.
	ErrInUse = errors.New("mailbox in use by another session")
	// ErrInsecure means the password would have gone over a connection
	// without TLS while Config.Security is not SecurityNone. Permanent.
	ErrInsecure = errors.New("refusing to send the password without TLS")
	// ErrNoTLS means Security is SecurityStartTLS and the server does not
	// offer STLS (RFC 2595), or refused it. Permanent.
	ErrNoTLS = errors.New("server does not offer STLS")
	// ErrNoUIDL means the server has no UIDL command: without stable ids
	// a download could neither skip what it already has nor delete
	// safely. Permanent.
	ErrNoUIDL = errors.New("server does not support UIDL")
	// ErrProtocol is a reply that does not follow the protocol. Permanent.
	ErrProtocol = errors.New("protocol violation")
	// ErrClosed is returned by a Client used after Close or Quit (after
	// a connection failure, it returns that failure again).
	ErrClosed = errors.New("connection closed")
)

// ServerError is a -ERR reply (RFC 1939 section 3), with the response
// code of RFC 2449 section 8 when the server gave one.
type ServerError struct {
	// Cmd is the command that was refused, without arguments ("RETR").
	Cmd string
	// Code is the response code without brackets, upper case
	// ("SYS/TEMP", "IN-USE", "AUTH"), or "" when there was none.
	Code string
	// Text is the human-readable rest of the line.
	Text string
}

// Error renders the reply as the server sent it.
func (e *ServerError) Error() string {
	s := e.Cmd + ": -ERR"
	if e.Code != "" {
		s += " [" + e.Code + "]"
	}
	if e.Text != "" {
		s += " " + e.Text
	}
	return s
}

// Is classifies the reply by its response code (RFC 2449 section 8 and
// RFC 3206): IN-USE, LOGIN-DELAY and SYS/TEMP are temporary, AUTH and
// SYS/PERM permanent. A refused login without a code is ErrAuth; any
// other -ERR without a code is permanent.
func (e *ServerError) Is(target error) bool {
	// Codes are hierarchical ("SYS/TEMP/..."); the first two levels
	// decide.
	code := e.Code
	if parts := strings.SplitN(code, "/", 3); parts[0] == "SYS" && len(parts) > 1 {
		code = "SYS/" + parts[1]
	} else {
		code = parts[0]
	}
	switch code {
	case "IN-USE":
		return target == ErrInUse || target == ErrTemporary
	case "LOGIN-DELAY", "SYS/TEMP":
		return target == ErrTemporary
	case "AUTH":
		return target == ErrAuth || target == ErrPermanent
	case "SYS/PERM":
		return target == ErrPermanent
	}
	if isLoginCmd(e.Cmd) {
		return target == ErrAuth || target == ErrPermanent
	}
	return target == ErrPermanent
}

func isLoginCmd(cmd string) bool {
	return cmd == "USER" || cmd == "PASS" || cmd == "AUTH"
}

// kindError attaches a kind (ErrTemporary, ErrPermanent, ...) to an error
// without changing its message.
type kindError struct {
	kinds []error
	err   error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }
func (e *kindError) Is(target error) bool {
	for _, k := range e.kinds {
		if k == target {
			return true
		}
	}
	return false
}

// withKind returns err marked with kinds.
func withKind(err error, kinds ...error) error {
	if err == nil {
		return nil
	}
	return &kindError{kinds: kinds, err: err}
}

// permanent wraps a sentinel such as ErrNoUIDL with context and marks it
// permanent.
func permanent(format string, args ...any) error {
	return withKind(fmt.Errorf(format, args...), ErrPermanent)
}

// Temporary reports whether err is worth retrying later without a change
// of configuration.
func Temporary(err error) bool { return errors.Is(err, ErrTemporary) }

// classifyNet marks an error of the network or TLS layer. TLS failures
// that a retry cannot fix (a certificate that does not verify, a server
// that does not speak TLS on this port) are permanent; everything else
// (refused, reset, timed out, DNS) is temporary, which is what an offline
// laptop sees. A cancelled context is neither: the caller asked to stop.
func classifyNet(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrTemporary) || errors.Is(err, ErrPermanent) {
		return err
	}
	var (
		certErr   *tls.CertificateVerificationError
		recordErr tls.RecordHeaderError
		alertErr  tls.AlertError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, ErrProtocol):
		return withKind(err, ErrPermanent)
	case errors.As(err, &certErr), errors.As(err, &recordErr), errors.As(err, &alertErr),
		errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid):
		return withKind(err, ErrPermanent)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return withKind(err, ErrTemporary)
	}
	// EOF, unexpected EOF, resets: the connection went away.
	return withKind(err, ErrTemporary)
}
