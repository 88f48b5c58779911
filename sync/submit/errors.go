package submit

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Stages of a submission, as found in Error.Stage.
const (
	StageConnect = "connect" // dial, greeting, EHLO
	StageTLS     = "tls"     // implicit TLS or STARTTLS
	StageAuth    = "auth"    // AUTH
	StageMail    = "mail"    // MAIL FROM, and checks of the message before it
	StageRcpt    = "rcpt"    // RCPT TO
	StageData    = "data"    // DATA, the message, the final reply
)

// Sentinel errors; test with errors.Is. A refused login is of kind
// lbsync.Auth (errors.Is(err, lbsync.ErrAuth)).
var (
	// ErrNoStartTLS means Security is "starttls" and the server does not
	// offer STARTTLS; nothing was sent in clear.
	ErrNoStartTLS = errors.New("server does not offer STARTTLS")
	// ErrNoAuth means a login is configured and the server offers no
	// AUTH mechanism this client speaks (PLAIN or LOGIN).
	ErrNoAuth = errors.New("server offers no usable AUTH mechanism")
)

// Error is a failed submission, classified. Use errors.As to get it from
// the errors of Send, TestLogin and Outbox.Flush.
type Error struct {
	// Stage is where the submission failed: one of the Stage constants.
	Stage string
	// Code is the server's SMTP reply code, 0 when the failure was not a
	// reply (network, TLS, local).
	Code int
	// Enhanced is the RFC 3463 enhanced status code ("5.1.1"), if the
	// server gave one.
	Enhanced string
	// Message is the server's reply text, or a description of the failure.
	Message string
	// Kind is the kind of failure (package sync): Temporary for network
	// errors, timeouts and 4xx replies (retry later); Auth for a 5xx
	// reply to AUTH; Cancelled when the context ended; Permanent or
	// Protocol otherwise (Other for a local failure, such as reading the
	// message).
	Kind lbsync.Kind
	// Recipient is the refused address when Stage is StageRcpt.
	Recipient string
	// Err is the underlying error, if any.
	Err error
}

// Error formats the failure as "smtp <stage>: <code> <enhanced> <message>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("smtp " + e.Stage)
	if e.Recipient != "" {
		b.WriteString(" <" + e.Recipient + ">")
	}
	b.WriteString(": ")
	if e.Code != 0 {
		b.WriteString(strconv.Itoa(e.Code) + " ")
	}
	if e.Enhanced != "" {
		b.WriteString(e.Enhanced + " ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is hold for the sentinels of package sync by Kind
// (errors.Is(err, lbsync.ErrAuth) for a 5xx reply to AUTH).
func (e *Error) Is(target error) bool { return e.Kind.Matches(target) }

// messageLevel reports a permanent failure that concerns the message (its
// sender, a recipient, its content) rather than the connection: the next
// message may well go through.
func (e *Error) messageLevel() bool {
	return e.Kind != lbsync.Temporary && e.Kind != lbsync.Cancelled &&
		(e.Stage == StageMail || e.Stage == StageRcpt || e.Stage == StageData)
}

// classify turns err, met at stage, into an *Error. An error that is one
// already is returned as it is. A reply is classified by its code (4xx
// Temporary, 5xx Permanent, or Auth at StageAuth); other errors by
// package sync's network classifier, where an unknown failure while
// connecting counts as Temporary.
func classify(ctx context.Context, stage string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	e = &Error{Stage: stage, Err: err, Message: err.Error()}
	var se *smtp.SMTPError
	var te *textproto.Error
	switch {
	case ctx.Err() != nil:
		// The connection was closed because the context ended.
		e.Err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		e.Message = ctx.Err().Error()
		e.Kind = lbsync.Classify(ctx.Err())
	case errors.As(err, &se):
		e.Code, e.Message = se.Code, se.Message
		if c := se.EnhancedCode; c[0] > 0 {
			e.Enhanced = fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
		}
		e.Kind = replyKind(stage, se.Code)
	case errors.As(err, &te):
		e.Code, e.Message = te.Code, te.Msg
		if enh, rest, ok := strings.Cut(te.Msg, " "); ok && enhancedCode(enh) {
			e.Enhanced, e.Message = enh, rest
		}
		e.Kind = replyKind(stage, te.Code)
	default:
		e.Kind = lbsync.KindOf(err)
		if e.Kind == lbsync.Other && stage == StageConnect {
			e.Kind = lbsync.Temporary
		}
	}
	return e
}

// replyKind classifies an SMTP reply code (RFC 5321 section 4.2.1).
func replyKind(stage string, code int) lbsync.Kind {
	switch {
	case code >= 400 && code < 500:
		return lbsync.Temporary
	case code >= 500 && stage == StageAuth:
		return lbsync.Auth
	}
	return lbsync.Permanent
}

// enhancedCode reports an RFC 3463 status code such as "4.7.0".
func enhancedCode(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil || p == "" {
			return false
		}
	}
	return true
}
