package submit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"

	"github.com/emersion/go-smtp"
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

// Sentinel errors; test with errors.Is.
var (
	// ErrAuth means the server rejected the login or password (a 5xx
	// reply to AUTH). It is never Temporary.
	ErrAuth = errors.New("authentication failed")
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
	// Temporary reports a failure that may go away by itself: network
	// errors, timeouts, cancellation and 4xx replies. Retry later.
	Temporary bool
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

// Is makes errors.Is(err, ErrAuth) true for a 5xx reply to AUTH.
func (e *Error) Is(target error) bool {
	return target == ErrAuth && e.Stage == StageAuth && e.Code >= 500 && e.Code < 600
}

// Temporary reports whether err is a submission failure worth retrying
// later without changing anything: see Error.Temporary. Errors that are not
// an *Error are taken as temporary when they are network errors or
// cancellations.
func Temporary(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Temporary
	}
	return err != nil && transient(err)
}

// messageLevel reports a permanent failure that concerns the message (its
// sender, a recipient, its content) rather than the connection: the next
// message may well go through.
func (e *Error) messageLevel() bool {
	return !e.Temporary && (e.Stage == StageMail || e.Stage == StageRcpt || e.Stage == StageData)
}

// classify turns err, met at stage, into an *Error. An error that is one
// already is returned as it is.
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
		e.Temporary = true
	case errors.As(err, &se):
		e.Code, e.Message = se.Code, se.Message
		if c := se.EnhancedCode; c[0] > 0 {
			e.Enhanced = fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
		}
		e.Temporary = se.Code >= 400 && se.Code < 500
	case errors.As(err, &te):
		e.Code, e.Message = te.Code, te.Msg
		if enh, rest, ok := strings.Cut(te.Msg, " "); ok && enhancedCode(enh) {
			e.Enhanced, e.Message = enh, rest
		}
		e.Temporary = te.Code >= 400 && te.Code < 500
	default:
		e.Temporary = transient(err) || stage == StageConnect && !certificateProblem(err)
	}
	return e
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

// transient reports network failures, timeouts and cancellations, but not
// TLS certificate or protocol mismatches, which retrying does not cure.
func transient(err error) bool {
	if certificateProblem(err) {
		return false
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &ne):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNREFUSED):
		return true
	}
	return false
}

// certificateProblem reports TLS failures that need the user's attention:
// an untrusted or mismatched certificate, or a server that does not speak
// TLS on that port.
func certificateProblem(err error) bool {
	var (
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		rh  tls.RecordHeaderError
		ae  tls.AlertError
		ech *tls.ECHRejectionError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &rh) || errors.As(err, &ae) || errors.As(err, &ech)
}
