package sync

import (
	"context"
	"errors"
	"os"
)

// Kind classifies a failure, so that a caller decides between trying
// again later and asking the user, without comparing strings (the kinds
// of upspin's errors package). The protocol packages (sync/imap,
// sync/pop3, sync/submit) give every error they return one of these.
type Kind uint8

// The kinds of failure.
const (
	// Other is an error not classified (a local one: the store, a file).
	Other Kind = iota
	// Temporary is a failure that may pass by itself: the network is
	// down or cut, a timeout, a busy or unavailable server. Retry later
	// as is; local changes wait in the journal and the outbox meanwhile.
	Temporary
	// Auth is a refused login or password. Retrying will not help until
	// the credentials change.
	Auth
	// Permanent is a failure retrying will not fix: a certificate that
	// does not verify, a server without something we need (TLS, UIDL), a
	// refused message.
	Permanent
	// Protocol is a peer that does not follow the protocol (a malformed
	// or oversized reply, not TLS on a TLS port). Retrying will not help.
	Protocol
	// Cancelled means the caller's context was cancelled: nothing failed.
	Cancelled
)

var kindNames = [...]string{
	Other:     "error",
	Temporary: "temporary failure",
	Auth:      "login refused",
	Permanent: "permanent failure",
	Protocol:  "protocol violation",
	Cancelled: "cancelled",
}

// String names the kind ("temporary failure", "login refused", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown kind"
}

// Matches reports whether a failure of kind k matches target, one of the
// Err sentinels: each sentinel matches its own kind, and ErrPermanent
// also matches Auth and Protocol (neither passes by itself). Error types
// that know their kind implement Is with it.
func (k Kind) Matches(target error) bool {
	t, ok := target.(kindError)
	if !ok {
		return false
	}
	if Kind(t) == Permanent {
		return k == Permanent || k == Auth || k == Protocol
	}
	return k == Kind(t) && k != Other
}

// kindError is the type of the sentinels: a kind as an error.
type kindError Kind

func (k kindError) Error() string { return Kind(k).String() }

// Is lets a sentinel wrapped by fmt.Errorf("...: %w", ErrProtocol) match
// ErrPermanent as well.
func (k kindError) Is(target error) bool { return Kind(k).Matches(target) }

// Sentinels for errors.Is: errors.Is(err, ErrAuth) holds for any error of
// kind Auth, wrapped at any depth.
var (
	ErrTemporary error = kindError(Temporary)
	ErrAuth      error = kindError(Auth)
	ErrPermanent error = kindError(Permanent)
	ErrProtocol  error = kindError(Protocol)
	ErrCancelled error = kindError(Cancelled)
)

// Error is a failed operation with its kind.
type Error struct {
	// Op is the operation, with its object if any: "imap fetch INBOX",
	// "pop3 RETR", "smtp rcpt <ann@example.com>". Empty marks Err with a
	// kind without adding to its message.
	Op string
	// Kind is the kind of failure; Other when unclassified.
	Kind Kind
	// Err is the underlying error.
	Err error
}

// Error formats the error as "OP: ERR", or "OP timed out: ERR" when the
// operation ran out of time, so that the message names what timed out.
func (e *Error) Error() string {
	msg := "<nil>"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	switch {
	case e.Op == "":
		return msg
	case IsTimeout(e.Err):
		return e.Op + " timed out: " + msg
	}
	return e.Op + ": " + msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTemporary) (and the other sentinels) hold
// for an *Error of that kind; see Kind.Matches.
func (e *Error) Is(target error) bool { return e.Kind.Matches(target) }

// E returns err as an *Error of operation op. Its kind is k, or, when k
// is Other, what Classify says. An err that already carries a kind (an
// *Error, or a detailed error of a protocol package) keeps it; nil stays
// nil.
func E(op string, k Kind, err error) error {
	if err == nil {
		return nil
	}
	if k == Other {
		k = KindOf(err)
	}
	return &Error{Op: op, Kind: k, Err: err}
}

// probeOrder is the order KindOf asks the sentinels in: the precise
// permanent kinds before ErrPermanent, which matches them too.
var probeOrder = [...]Kind{Cancelled, Auth, Protocol, Temporary, Permanent}

// KindOf returns the kind of err: that of the outermost *Error with a
// kind; else that of an error in the chain that matches a sentinel (the
// protocol packages' detailed errors, such as a POP3 -ERR reply or an
// SMTP reply, implement Is); else what Classify says of the network and
// context errors in the chain. A nil error is Other.
func KindOf(err error) Kind {
	if err == nil {
		return Other
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != Other {
		return e.Kind
	}
	for _, k := range probeOrder {
		if errors.Is(err, kindError(k)) {
			return k
		}
	}
	return Classify(err)
}

// IsTemporary reports whether err is worth retrying later as is: its
// kind is Temporary.
func IsTemporary(err error) bool { return KindOf(err) == Temporary }

// IsTimeout reports whether err is an operation that ran out of time: a
// network deadline (net.Error.Timeout, os.ErrDeadlineExceeded) or a
// context deadline.
func IsTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
