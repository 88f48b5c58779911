// Package submit sends mail: Send submits one message to an SMTP submission
// server (RFC 6409) with go-smtp's client, and Outbox queues messages in the
// store and flushes them, moving each one to Sent once the server has it.
//
// It may import store; it must not import accounts, ui or server. It keeps
// no package state, never logs, and never puts a password or a token in
// an error. With Server.OAuth2 it authenticates with AUTH OAUTHBEARER or
// XOAUTH2 (oauth.go) instead of a password.
//
// Each step of connecting (TCP, TLS handshake, STARTTLS, the greeting,
// which is read here rather than by go-smtp) has Server.ConnectTimeout,
// and each command Server.Timeout; a deadline that passes is an
// lbsync.TimeoutError saying what did not come ("smtp tls: TLS handshake
// not finished within 30s"). What the server sends between two of our
// writes is bounded at 1 MiB (a greeting, a multi-line reply, a TLS
// handshake are far smaller): past it the send fails with a Protocol
// error ("server reply longer than 1 MiB: hostile or broken server").
//
// Security is never downgraded: "tls" is TLS from the first byte (RFC 8314),
// "starttls" fails with ErrNoStartTLS rather than continue in clear when
// the server does not offer STARTTLS (RFC 3207), and "none" (plain text)
// happens only when configured.
//
// The outbox keeps these promises (see Outbox for the details):
//   - Queue returns once the message is durable in the Outbox mailbox.
//   - Flush and Retry hold the store's cross-process "outbox" lock
//     (store.Lock) besides the Outbox's mutex, and read the Outbox only
//     once they hold it: two flushes, in one process or in two, never
//     send a message twice.
//   - A Sent copy that cannot be filed (Outbox.FileSent's error) stops
//     the flush with that error; the message stays queued, marked sent.
//   - Flush sends oldest first. Bcc recipients are in the envelope but the
//     Bcc header is stripped from the bytes sent and from the Sent copy;
//     the Outbox copy keeps it so the envelope survives a restart.
//   - A message the server accepted is marked sent (store keyword
//     $LetterboxSent, committed durably) before anything else happens, so
//     a later Flush files it in Sent instead of sending it again. The one
//     window for a duplicate is a crash or power loss between the server's
//     reply to the final "." and that commit, a few milliseconds; and a
//     connection lost after the final "." but before the reply leaves the
//     outcome unknown, in which case the message is sent again (RFC 5321
//     section 6.1 accepts duplicates over losses).
package submit

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Security modes of Server.
const (
	SecurityTLS      = "tls"      // implicit TLS, port 465 (RFC 8314)
	SecurityStartTLS = "starttls" // STARTTLS required, port 587 (RFC 3207)
	SecurityNone     = "none"     // plain text, port 25 or 2525; only when configured
)

// DefaultTimeout is the per-command timeout when Server.Timeout is zero.
const DefaultTimeout = time.Minute

// Server is how to reach and log in to an SMTP submission server.
type Server struct {
	Host string
	// Port is 465, 587 or 25 according to Security when zero.
	Port int
	// Security is SecurityTLS, SecurityStartTLS or SecurityNone. When
	// empty it is SecurityTLS for port 465 and SecurityStartTLS otherwise:
	// plain text is never chosen by default.
	Security string
	// Login and Password authenticate with AUTH PLAIN, or AUTH LOGIN when
	// the server offers only that (RFC 4954). No AUTH when Login is empty.
	// With SecurityNone the password crosses the network in clear.
	Login, Password string
	// OAuth2, when set, authenticates with a bearer token instead of the
	// password: AUTH OAUTHBEARER, or XOAUTH2 when the server offers only
	// that (RFC 4954, RFC 7628), as Login. A refused token is refreshed
	// and tried once more (lbsync.OAuthRetry).
	OAuth2 lbsync.TokenSource
	// TLS is the client TLS configuration; nil means the system roots.
	// ServerName defaults to Host.
	TLS *tls.Config
	// Dial opens the TCP connection; a net.Dialer when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HeloName is the name given in EHLO; "localhost" when empty.
	HeloName string
	// Timeout bounds each command once connected (the server's silence
	// while a reply is due); DefaultTimeout when zero. The server's reply
	// to the end of the message may take five times as long.
	Timeout time.Duration
	// ConnectTimeout bounds each step of setting up the connection: the
	// TCP connect, the TLS handshake (and STARTTLS's), the greeting;
	// lbsync.DefaultConnectTimeout when zero, none when negative.
	ConnectTimeout time.Duration
}

// String describes the server without the password.
func (s Server) String() string {
	sec, port, _ := s.resolve()
	d := fmt.Sprintf("%s (%s)", net.JoinHostPort(s.Host, fmt.Sprint(port)), sec)
	if s.Login != "" {
		d += " as " + s.Login
	}
	return d
}

// GoString is String, so that %#v does not print the password either.
func (s Server) GoString() string { return "submit.Server{" + s.String() + "}" }

// resolve returns the effective security mode, port and timeout.
func (s Server) resolve() (security string, port int, timeout time.Duration) {
	security, port, timeout = s.Security, s.Port, s.Timeout
	if security == "" {
		security = SecurityStartTLS
		if port == 465 {
			security = SecurityTLS
		}
	}
	if port == 0 {
		switch security {
		case SecurityTLS:
			port = 465
		case SecurityNone:
			port = 25
		default:
			port = 587
		}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return security, port, timeout
}

// Send submits msg from the envelope sender from to the envelope
// recipients rcpts and returns when the server has accepted it: dial
// (respecting ctx), TLS, EHLO, AUTH, MAIL FROM (with SIZE when the server
// offers it and msg tells its length through a Len() int or Size() int64
// method), RCPT TO for each recipient, DATA streamed from msg, QUIT. msg
// should have CRLF line ends (bare LF is converted); it is sent as it is,
// so a Bcc header must already be removed.
//
// The error is an *Error; errors.Is(err, lbsync.ErrAuth) tells a rejected
// login, lbsync.IsTemporary(err) a failure worth retrying later. Any
// recipient refused fails the whole submission, and nothing is sent.
func Send(ctx context.Context, srv Server, from string, rcpts []string, msg io.Reader) error {
	s, err := dial(ctx, srv)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.send(ctx, from, rcpts, msg); err != nil {
		return err
	}
	s.quit()
	return nil
}

// TestLogin connects, secures the connection, authenticates and quits, to
// check the settings of an account. It returns the same errors as Send.
func TestLogin(ctx context.Context, srv Server) error {
	s, err := dial(ctx, srv)
	if err != nil {
		return err
	}
	defer s.close()
	s.quit()
	return nil
}
