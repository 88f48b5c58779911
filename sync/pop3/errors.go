package pop3

import (
	"errors"
	"fmt"
	"strings"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Every error this package returns has a kind of package sync: Temporary
// (worth retrying later: the network, a timeout, a busy or overloaded
// server: "-ERR [SYS/TEMP]", "[IN-USE]", "[LOGIN-DELAY]"), Auth (a
// rejected login: "-ERR [AUTH]", or a -ERR without a code in reply to the
// credentials), Protocol (a reply that does not follow the protocol) or
// Permanent (a server that cannot do what we need, a bad certificate), or
// Cancelled. Test them with errors.Is(err, lbsync.ErrAuth),
// lbsync.IsTemporary and the like; errors.Is(err, lbsync.ErrPermanent)
// holds for Auth and Protocol too. Some carry one of these more precise
// sentinels as well.
var (
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

// Kind classifies the reply by its response code (RFC 2449 section 8 and
// RFC 3206): IN-USE, LOGIN-DELAY and SYS/TEMP are Temporary, AUTH is Auth
// and SYS/PERM Permanent. A refused login without a code is Auth; any
// other -ERR without a code is Permanent.
func (e *ServerError) Kind() lbsync.Kind {
	// Codes are hierarchical ("SYS/TEMP/..."); the first two levels
	// decide.
	code := e.Code
	if parts := strings.SplitN(code, "/", 3); parts[0] == "SYS" && len(parts) > 1 {
		code = "SYS/" + parts[1]
	} else {
		code = parts[0]
	}
	switch code {
	case "IN-USE", "LOGIN-DELAY", "SYS/TEMP":
		return lbsync.Temporary
	case "AUTH":
		return lbsync.Auth
	case "SYS/PERM":
		return lbsync.Permanent
	}
	if isLoginCmd(e.Cmd) {
		return lbsync.Auth
	}
	return lbsync.Permanent
}

// Is makes errors.Is hold for the sentinels of package sync by Kind, and
// for ErrInUse when the code is IN-USE.
func (e *ServerError) Is(target error) bool {
	if target == ErrInUse {
		return strings.SplitN(e.Code, "/", 2)[0] == "IN-USE"
	}
	return e.Kind().Matches(target)
}

func isLoginCmd(cmd string) bool {
	return cmd == "USER" || cmd == "PASS" || cmd == "AUTH"
}

// withKind returns err marked with kind k, its message unchanged.
func withKind(k lbsync.Kind, err error) error {
	if err == nil {
		return nil
	}
	return &lbsync.Error{Kind: k, Err: err}
}

// permanent wraps a sentinel such as ErrNoUIDL with context and marks it
// permanent.
func permanent(format string, args ...any) error {
	return withKind(lbsync.Permanent, fmt.Errorf(format, args...))
}

// classifyNet marks an error of the network or TLS layer with the kind
// package sync's classifier gives it (a certificate that does not
// verify is Permanent; a server that does not speak TLS on this port is
// Protocol; refused, reset, timed out, DNS are Temporary, which is what
// an offline laptop sees; a cancelled context is Cancelled). An error the
// classifier does not know ended the session all the same: Temporary. An
// error with a kind keeps it.
func classifyNet(err error) error {
	if err == nil {
		return nil
	}
	var e *lbsync.Error
	if errors.As(err, &e) && e.Kind != lbsync.Other {
		return err
	}
	k := lbsync.KindOf(err)
	if k == lbsync.Other {
		k = lbsync.Temporary
	}
	return withKind(k, err)
}
