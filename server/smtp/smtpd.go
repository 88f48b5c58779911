// Package smtpd is the server's SMTP front end, on go-smtp: the MX
// listener (port 25: mail for local users only, no authentication, never a
// relay) and the submission listeners (587 with STARTTLS, 465 with
// implicit TLS: authentication required, the envelope sender must belong
// to the user, any recipient).
//
// It checks the envelope and enforces the limits (message size, recipients,
// messages per user per hour, bare CR/LF); what happens to an accepted
// message is the Deliverer's business: it must make the message durable
// for every recipient, or for none, before Data returns.
//
// Connections: the daemon serves it on server/netlimit listeners, which
// cap connections per IP and in all, and bound the handshake of implicit
// TLS (port 465). On top of go-smtp's per-command timeouts (ReadTimeout,
// WriteTimeout), a submission client must authenticate without staying
// silent LoginIdleTimeout, and a STARTTLS handshake (RFC 3207) must finish
// within HandshakeTimeout. Sessions run on a context derived from the
// server's base context, which Close cancels. Serve returns
// ErrServerClosed after Close or Shutdown, as net/http does.
//
// It must not import the other protocol packages. It declares the small
// interfaces it needs (Backend, Deliverer) so tests can hand it fakes, and
// takes only error values, HostOf, the OAuth2 mechanism names and
// ListenerTags from server/backend, and the connection marks of
// server/netlimit. AUTH offers PLAIN and LOGIN (unless a listener has
// password logins off) and, when the backend can check tokens,
// OAUTHBEARER and XOAUTH2 (oauth.go).
package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/letterbox-mail/letterbox/server/backend"
)

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("smtp: server closed")

// Backend is what smtpd needs to know about users and domains.
type Backend interface {
	// Authenticate checks a login and returns the canonical address.
	Authenticate(ctx context.Context, username, password string, remote net.Addr) (string, error)
	// IsLocalDomain reports whether mail for the domain is delivered here.
	IsLocalDomain(domain string) bool
	// UserExists reports whether the address is a local user.
	UserExists(addr string) bool
}

// Envelope is an accepted message's envelope and trace data.
type Envelope struct {
	// From is the reverse path ("" for a bounce).
	From string
	// To are the recipients, in the order given, without duplicates.
	To []string
	// User is the authenticated user ("" on the MX listener).
	User string
	// Helo is the name the client introduced itself with.
	Helo string
	// Remote is the client's address.
	Remote net.Addr
	// TLS reports whether the session was encrypted.
	TLS bool
	// ID identifies the session in logs and in the Received field.
	ID string
	// UTF8 reports that MAIL FROM carried SMTPUTF8 (RFC 6531).
	UTF8 bool
}

// Deliverer takes accepted messages.
type Deliverer interface {
	// Deliver makes body durable for every recipient of env, or for none,
	// and returns only then. A returned *smtp.SMTPError is passed to the
	// client as is; any other error is reported as a temporary failure.
	Deliver(ctx context.Context, env Envelope, body io.Reader) error
}

// Mode selects what a listener is for.
type Mode int

const (
	// ModeMX accepts mail for local users from anyone, without AUTH.
	ModeMX Mode = iota
	// ModeSubmission requires AUTH (after TLS, unless AllowInsecureAuth).
	ModeSubmission
)

// Options configure a Server. Zero values pick the defaults shown.
type Options struct {
	Mode Mode
	// Hostname is announced in the greeting and in Received fields.
	Hostname string
	// TLSConfig enables STARTTLS (and is what an implicit-TLS listener
	// should be wrapped with).
	TLSConfig *tls.Config
	// AllowInsecureAuth allows AUTH without TLS (dev mode on loopback).
	AllowInsecureAuth bool
	// MaxMessageBytes is advertised with SIZE; 25 MiB.
	MaxMessageBytes int64
	// MaxRecipients per message; 100.
	MaxRecipients int
	// MaxMessagesPerHour a submission user may send; 500.
	MaxMessagesPerHour int
	// RejectBareLF refuses messages with a CR or LF outside CRLF instead
	// of normalising them (SMTP smuggling defence either way).
	RejectBareLF bool
	// LoginIdleTimeout is how long a submission client may send nothing
	// before it has authenticated; 30 s. It applies on netlimit
	// listeners.
	LoginIdleTimeout time.Duration
	// HandshakeTimeout bounds a STARTTLS handshake; 30 s.
	HandshakeTimeout time.Duration
	// ReadTimeout and WriteTimeout per command; 5 (RFC 5321 section
	// 4.5.3.2.7) and 1 minutes. ReadTimeout is also the idle timeout of
	// the MX port and of authenticated sessions.
	ReadTimeout, WriteTimeout time.Duration
	Logger                    *slog.Logger
}

func (o *Options) defaults() {
	if o.Hostname == "" {
		o.Hostname = "localhost"
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 25 << 20
	}
	if o.MaxRecipients <= 0 {
		o.MaxRecipients = 100
	}
	if o.LoginIdleTimeout <= 0 {
		o.LoginIdleTimeout = 30 * time.Second
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 30 * time.Second
	}
	if o.MaxMessagesPerHour <= 0 {
		o.MaxMessagesPerHour = 500
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 5 * time.Minute
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server is one SMTP service (one Mode). It may serve several listeners,
// e.g. 587 plain and 465 wrapped in TLS.
type Server struct {
	be   Backend
	dl   Deliverer
	opts Options
	log  *slog.Logger
	srv  *smtp.Server
	rate *rateLimiter

	// ctx is the base context of sessions; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool

	ids  atomic.Uint64
	tags backend.ListenerTags[ListenerOptions] // ServeListener's options
	// bufs holds the DATA normaliser's read buffers (*bufio.Reader): one
	// per message was most of the garbage a busy MX made.
	bufs sync.Pool
}

// New returns a Server; call Serve with each listener.
func New(be Backend, dl Deliverer, opts Options) *Server {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{be: be, dl: dl, opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel,
		rate: newRateLimiter(opts.MaxMessagesPerHour, time.Hour)}
	s.bufs.New = func() any { return bufio.NewReaderSize(nil, crlfBufSize) }
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = opts.Hostname
	srv.TLSConfig = opts.TLSConfig
	srv.AllowInsecureAuth = opts.AllowInsecureAuth
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = opts.MaxRecipients
	// Any line of a message the size limit allows is accepted and
	// stored unchanged, as Postfix does (the margin covers go-smtp's
	// read-ahead, so the size limit answers first). go-smtp has one
	// limit for command and data lines, so a command line may be as
	// long; the connection caps bound what that costs.
	srv.MaxLineLength = int(opts.MaxMessageBytes) + 64<<10
	srv.EnableSMTPUTF8 = true // RFC 6531; see session.Mail
	srv.ReadTimeout = opts.ReadTimeout
	srv.WriteTimeout = opts.WriteTimeout
	if opts.Mode == ModeSubmission {
		// AUTH lines carry bearer tokens of a few kilobytes (oauth.go).
		srv.MaxLineLength = maxAuthLine
	}
	srv.ErrorLog = slogPrinter{opts.Logger}
	s.srv = srv
	return s
}

// Serve accepts connections on l until Close or Shutdown, and returns
// ErrServerClosed then. For implicit TLS (port 465) pass a netlimit
// listener with TLS, or tls.NewListener(l, opts.TLSConfig).
func (s *Server) Serve(l net.Listener) error {
	if s.closed.Load() {
		l.Close()
		return ErrServerClosed
	}
	err := s.srv.Serve(&listener{Listener: l, s: s})
	if err == nil || errors.Is(err, smtp.ErrServerClosed) || s.closed.Load() {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting and waits for sessions to end or ctx to expire;
// then it cancels what sessions still do (Close closes them).
func (s *Server) Shutdown(ctx context.Context) error {
	s.closed.Store(true)
	defer s.cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Close closes the listeners and every connection at once, and cancels
// what sessions do.
func (s *Server) Close() error {
	s.closed.Store(true)
	s.cancel()
	err := s.srv.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.l.Warn("smtp", "detail", sprintf(format, v...))
}
func (p slogPrinter) Println(v ...any) { p.l.Warn("smtp", "detail", sprint(v...)) }
