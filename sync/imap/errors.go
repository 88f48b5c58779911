package imapsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/emersion/go-imap/v2"
)

// Errors that callers tell apart with errors.Is.
var (
	// ErrAuth means the server refused the login: retrying will not help
	// until the credentials change.
	ErrAuth = errors.New("authentication failed")
	// ErrTemporary means the network or the server failed in a way that
	// may pass (connection refused or cut, timeout, server unavailable):
	// try again later. Local changes stay in the journal meanwhile.
	ErrTemporary = errors.New("temporary failure")
	// ErrMassDelete means a mailbox sync stopped before deleting too much;
	// errors.As with *MassDeleteError gives the counts.
	ErrMassDelete = errors.New("sync would delete too many messages")
)

// Error is a failed IMAP operation on one mailbox (Mailbox may be empty).
type Error struct {
	// Op is the operation: "login", "fetch", "select", ...
	Op string
	// Mailbox is the local name of the mailbox, if any.
	Mailbox string
	// Temporary marks network failures and server unavailability.
	Temporary bool
	// Err is the underlying error.
	Err error
}

// Error formats the error as "imap OP MAILBOX: ERR".
func (e *Error) Error() string {
	s := "imap " + e.Op
	if e.Mailbox != "" {
		s += " " + e.Mailbox
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTemporary) hold for temporary failures.
func (e *Error) Is(target error) bool { return target == ErrTemporary && e.Temporary }

// IsTemporary reports whether err is worth retrying later.
func IsTemporary(err error) bool { return errors.Is(err, ErrTemporary) }

// MassDeleteError reports a mailbox sync stopped by the mass-delete guard.
type MassDeleteError struct {
	// Mailbox is the local name of the mailbox.
	Mailbox string
	// OnServer is true for deletions the journal would make on the
	// server, false for local deletions of messages the server expunged.
	OnServer bool
	// Deletions is how many messages would go; Total is the mailbox size.
	Deletions, Total int
}

// Error describes the stop and how to go on.
func (e *MassDeleteError) Error() string {
	side := "locally"
	if e.OnServer {
		side = "on the server"
	}
	return fmt.Sprintf("imap sync %s: would delete %d of %d messages %s; stopped (run with --force to go on)",
		e.Mailbox, e.Deletions, e.Total, side)
}

// Is makes errors.Is(err, ErrMassDelete) hold.
func (e *MassDeleteError) Is(target error) bool { return target == ErrMassDelete }

// massDelete reports whether deleting n of total messages needs consent:
// more than half of the mailbox and more than 100 messages.
func massDelete(n, total int) bool { return n > 100 && 2*n > total }

// wrap classifies err from operation op on mailbox. Once a client
// exists, an error that is not an IMAP status response means the
// connection failed (the client closes it on any I/O or protocol error):
// temporary. IMAP refusals are temporary only when their code says so
// (see isTemporary). Before that (dial, TLS handshake) only network
// errors are temporary: a certificate problem is not.
func (c *conn) wrap(op, mailbox string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: op, Mailbox: mailbox, Err: err}
	}
	temp := isTemporary(err)
	var ie *imap.Error
	if !errors.As(err, &ie) && c != nil && c.c != nil {
		temp = true
	}
	return &Error{Op: op, Mailbox: mailbox, Temporary: temp, Err: err}
}

// isTemporary classifies an error without looking at the connection.
func isTemporary(err error) bool {
	var ie *imap.Error
	if errors.As(err, &ie) {
		if ie.Type == imap.StatusResponseTypeBye {
			return true
		}
		switch ie.Code {
		case imap.ResponseCodeUnavailable, imap.ResponseCodeInUse, imap.ResponseCodeServerBug, imap.ResponseCodeLimit:
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// isNo reports an IMAP NO (or BAD) with one of codes (any code when none
// are given).
func isNo(err error, codes ...imap.ResponseCode) bool {
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Type == imap.StatusResponseTypeBye {
		return false
	}
	if len(codes) == 0 {
		return true
	}
	for _, c := range codes {
		if ie.Code == c {
			return true
		}
	}
	return false
}
