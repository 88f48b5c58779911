package imapsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Errors are *lbsync.Error values of kind Temporary, Auth, Permanent,
// Protocol or Cancelled (see package sync), with an Op naming the IMAP
// operation and mailbox ("imap fetch INBOX"); callers test them with
// errors.Is(err, lbsync.ErrAuth), lbsync.IsTemporary and the like. The
// mass-delete guard has its own error.

// ErrMassDelete means a mailbox sync stopped before deleting too much;
// errors.As with *MassDeleteError gives the counts.
var ErrMassDelete = errors.New("sync would delete too many messages")

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

// wrap classifies err from operation op on mailbox into an *lbsync.Error
// ("imap OP MAILBOX: ERR"). An error that has a kind already is returned
// as it is. A cancelled context is Cancelled and a deadline Temporary. An
// IMAP status response is classified by its type and code (kindOf). Other
// errors go to the network classifier; once a client exists, an error it
// leaves unclassified means the connection failed (the client closes it
// on any I/O or protocol error): Temporary. Before that (dial, TLS
// handshake) only the classifier decides: a certificate problem is not
// temporary.
func (c *conn) wrap(op, mailbox string, err error) error {
	if err == nil {
		return nil
	}
	// The guard's failure (a bound, a timeout) is the cause of whatever
	// the client made of it.
	if gerr := c.failure(); gerr != nil {
		err = gerr
	}
	var e *lbsync.Error
	if errors.As(err, &e) && e.Kind != lbsync.Other && e.Op != "" {
		return err
	}
	k := kindOf(err)
	if k == lbsync.Other && c != nil && c.c != nil {
		k = lbsync.Temporary
	}
	if mailbox != "" {
		op += " " + mailbox
	}
	return &lbsync.Error{Op: "imap " + op, Kind: k, Err: err}
}

// kindOf classifies an error without looking at the connection: an IMAP
// status response by its type and code (RFC 5530 response codes), the
// rest as package sync does.
func kindOf(err error) lbsync.Kind {
	var ie *imap.Error
	if errors.As(err, &ie) && !errors.Is(err, context.Canceled) {
		if ie.Type == imap.StatusResponseTypeBye {
			return lbsync.Temporary
		}
		switch ie.Code {
		case imap.ResponseCodeUnavailable, imap.ResponseCodeInUse, imap.ResponseCodeServerBug, imap.ResponseCodeLimit:
			return lbsync.Temporary
		case imap.ResponseCodeAuthenticationFailed, imap.ResponseCodeAuthorizationFailed, imap.ResponseCodeExpired:
			return lbsync.Auth
		}
		return lbsync.Permanent
	}
	return lbsync.KindOf(err)
}

// failure returns the guard's failure, if any.
func (c *conn) failure() error {
	if c == nil {
		return nil
	}
	return c.g.failure()
}

// isTemporary reports an error worth retrying later (see kindOf).
func isTemporary(err error) bool { return kindOf(err) == lbsync.Temporary }

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
