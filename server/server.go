package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/delivery"
	imapd "github.com/letterbox-mail/letterbox/server/imap"
	"github.com/letterbox-mail/letterbox/server/netlimit"
	pop3d "github.com/letterbox-mail/letterbox/server/pop3"
	"github.com/letterbox-mail/letterbox/server/queue"
	smtpd "github.com/letterbox-mail/letterbox/server/smtp"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
	"github.com/letterbox-mail/letterbox/store"
)

// service is what each protocol server offers, in the shape of net/http's
// Server: Serve returns its package's ErrServerClosed after Shutdown or
// Close, and Close cancels the base context of what sessions do.
type service interface {
	Serve(l net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

// serverClosed reports whether err is how a service's Serve says it was
// closed.
func serverClosed(err error) bool {
	return errors.Is(err, smtpd.ErrServerClosed) || errors.Is(err, imapd.ErrServerClosed) ||
		errors.Is(err, pop3d.ErrServerClosed) || errors.Is(err, net.ErrClosed)
}

// Server is the running daemon.
type Server struct {
	cfg     *Config
	log     *slog.Logger
	Backend *backend.Backend
	Queue   *queue.Queue
	tls     *tls.Config
	// CertFile is the certificate in use (generated in dev mode).
	CertFile string
	// CertCreated reports that the certificate was generated just now.
	CertCreated bool

	// Resolver and RemotePort override MX lookups and the remote SMTP
	// port, for tests with two servers on loopback.
	Resolver   queue.Resolver
	RemotePort string
	// InboundResolver overrides the DNS of the SPF, DKIM and DMARC
	// checks, and InboundLoopback makes them check clients on loopback
	// too (tests).
	InboundResolver delivery.Resolver
	InboundLoopback bool
	// QueueBackoff and QueuePoll override the queue's retry schedule and
	// polling interval (tests).
	QueueBackoff func(n int) time.Duration
	QueuePoll    time.Duration

	// lim counts the connections of every listener (server/netlimit).
	lim *netlimit.Limiter

	closing   atomic.Bool
	mu        sync.Mutex
	addrs     map[string]net.Addr
	services  []service
	listeners []net.Listener
	wg        sync.WaitGroup
	cancelQ   context.CancelFunc
	qDone     chan struct{}
}

// New prepares a server from a finished Config; Start opens it.
func New(cfg *Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, addrs: map[string]net.Addr{}}
	if cfg.TLS.Cert != "" {
		cert, err := tlsutil.Load(cfg.TLS.Cert, cfg.TLS.Key)
		if err != nil {
			return nil, err
		}
		s.tls, s.CertFile = tlsutil.Config(cert), cfg.TLS.Cert
	} else {
		certFile := filepath.Join(cfg.Data, "tls", "cert.pem")
		cert, created, err := tlsutil.LoadOrCreate(certFile, filepath.Join(cfg.Data, "tls", "key.pem"),
			[]string{cfg.Hostname, "localhost", "127.0.0.1", "::1"})
		if err != nil {
			return nil, err
		}
		s.tls, s.CertFile, s.CertCreated = tlsutil.Config(cert), certFile, created
	}
	oauth, err := cfg.oauthOptions()
	if err != nil {
		return nil, err
	}
	if oauth != nil {
		log.Info("oauth2 logins", "mode", oauth.Mode, "issuer", oauth.Issuer, "audience", oauth.Audience,
			"introspection_url", oauth.IntrospectionURL)
		if oauth.Mode == backend.ModeIntrospection && oauth.Audience == "" {
			log.Warn("oauth2: introspection without an audience takes a token the issuer gave any of its clients; set [oauth2] audience")
		}
	}
	// The server lives long enough to index full text when deliveries
	// pause (store.Options.DeferText); searches catch up first.
	be, err := backend.New(cfg.Data, backend.Options{Domains: cfg.Domains, Logger: log, OAuth: oauth,
		MaxFailures: cfg.Limits.MaxAuthFailures, FailureWindow: cfg.Limits.AuthFailureWindow.Duration,
		MaxDelay:     cfg.Limits.AuthMaxDelay.Duration,
		StoreOptions: &store.Options{DeferText: true}})
	if err != nil {
		return nil, err
	}
	s.Backend = be
	return s, nil
}

// Addr returns the bound address of a listener by its config name
// ("smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s").
func (s *Server) Addr(name string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[name]
}

// Start opens the queue and every configured listener and serves them in
// the background. ctx bounds the start only: once Start has returned,
// Shutdown and Close stop the server. If ctx ends or anything cannot be
// opened, Start closes all it and New opened (listeners, stores) and
// returns the error; the Server cannot be used again.
func (s *Server) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	cfg := s.cfg
	// The queue bounces into local INBOXes through the deliverer, and the
	// deliverer queues remote mail: dl is set once the queue exists.
	var dl *delivery.Deliverer
	qopts := queue.Options{Hostname: cfg.Hostname, RetryWindow: cfg.Queue.RetryWindow.Duration, Logger: s.log,
		Resolver: s.Resolver, Port: s.RemotePort, Backoff: s.QueueBackoff, PollInterval: s.QueuePoll,
		IsLocal: func(addr string) bool { return s.Backend.UserExists(addr) },
		LocalDeliver: func(ctx context.Context, addr string, r io.Reader) error {
			return dl.DeliverLocal(ctx, addr, r)
		}}
	if cfg.DKIM.KeyFile != "" {
		sign, err := dkimSigner(cfg.DKIM.Domain, cfg.DKIM.Selector, cfg.DKIM.KeyFile)
		if err != nil {
			return err
		}
		qopts.Sign = sign
	}
	q, err := queue.Open(filepath.Join(cfg.Data, "queue"), qopts)
	if err != nil {
		return err
	}
	s.Queue = q
	dl = delivery.New(s.Backend, q, delivery.Options{Hostname: cfg.Hostname, Logger: s.log,
		Inbound: delivery.Inbound{Off: cfg.Inbound.SkipAuth, DMARCReject: cfg.Inbound.DMARCReject,
			Resolver: s.InboundResolver, CheckLoopback: s.InboundLoopback}})

	s.lim = s.newLimiter()
	lim := cfg.Limits
	proto := func(name, refusal string, perIP int) *netlimit.Protocol {
		return s.lim.Protocol(netlimit.ProtocolOptions{Name: name, MaxConnsPerIP: perIP,
			ExemptLoopback: *lim.ExemptLoopback, Refusal: refusal})
	}
	smtpOpts := func(mode smtpd.Mode) smtpd.Options {
		return smtpd.Options{Mode: mode, Hostname: cfg.Hostname, TLSConfig: s.tls, AllowInsecureAuth: cfg.Dev,
			MaxMessageBytes: lim.MaxMessageBytes, MaxRecipients: lim.MaxRecipients,
			MaxMessagesPerHour: lim.MessagesPerHour, RejectBareLF: lim.RejectBareLF,
			LoginIdleTimeout: lim.LoginIdleTimeout.Duration, HandshakeTimeout: lim.HandshakeTimeout.Duration,
			ReadTimeout: lim.SMTPIdleTimeout.Duration, Logger: s.log.With("proto", "smtp")}
	}
	const smtpRefusal = "421 4.7.0 %s\r\n" // RFC 5321 section 3.8
	mx := smtpd.New(s.Backend, dl, smtpOpts(smtpd.ModeMX))
	sub := smtpd.New(s.Backend, dl, smtpOpts(smtpd.ModeSubmission))
	s.services = append(s.services, mx, sub)
	mxProto := proto("smtp", smtpRefusal, lim.MaxConnsPerIP)
	subProto := proto("submission", smtpRefusal, lim.MaxConnsPerIP)
	if err := s.listen(ctx, "smtp", cfg.Listen.SMTP, mxProto, false, mx); err != nil {
		return err
	}
	if err := s.listen(ctx, "submission", cfg.Listen.Submission, subProto, false, sub); err != nil {
		return err
	}
	if err := s.listen(ctx, "smtps", cfg.Listen.SMTPS, subProto, true, sub); err != nil {
		return err
	}
	if err := s.startMailboxes(ctx, proto); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	qctx, cancel := context.WithCancel(context.Background())
	s.cancelQ, s.qDone = cancel, make(chan struct{})
	go func() {
		defer close(s.qDone)
		q.Run(qctx)
	}()
	return nil
}

// newLimiter is the global connection count: limits.max_connections, but
// never above the cap the open-file limit allows.
func (s *Server) newLimiter() *netlimit.Limiter {
	l := s.cfg.Limits
	maxConns := netlimit.DefaultMaxConns()
	if l.MaxConnections > maxConns {
		s.log.Warn("limits.max_connections is above what the open-file limit allows; using the lower value",
			"max_connections", l.MaxConnections, "allowed", maxConns)
	} else if l.MaxConnections > 0 {
		maxConns = l.MaxConnections
	}
	s.log.Info("connection limits", "max_connections", maxConns, "handshake_timeout", l.HandshakeTimeout.Duration,
		"exempt_loopback", *l.ExemptLoopback)
	return netlimit.New(netlimit.Options{MaxConns: maxConns, HandshakeTimeout: l.HandshakeTimeout.Duration,
		Logger: s.log.With("part", "netlimit")})
}

// listen opens addr (when not empty) and serves svc on it, through proto's
// connection limits (and, for implicit TLS, its handshake deadline).
func (s *Server) listen(ctx context.Context, name, addr string, proto *netlimit.Protocol, implicitTLS bool, svc service) error {
	if addr == "" {
		return nil
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s on %s: %w", name, addr, err)
	}
	s.mu.Lock()
	s.addrs[name] = l.Addr()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	var cfg *tls.Config
	if implicitTLS {
		cfg = s.tls
	}
	wl := proto.Listen(l, cfg)
	serve := s.serveFunc(name, svc)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := serve(wl); err != nil && !serverClosed(err) && !s.closing.Load() {
			s.log.Error("serve", "listener", name, "err", err)
		}
	}()
	s.log.Info("listening", "listener", name, "addr", l.Addr().String(), "tls", implicitTLS)
	return nil
}

// Shutdown stops accepting, lets sessions finish until ctx expires (then
// closes them), stops the queue worker after its current attempts, and
// closes the stores. Nothing acknowledged is lost: every reply was sent
// after its data was durable.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	var errs []error
	var emu sync.Mutex
	var wg sync.WaitGroup
	for _, svc := range s.services {
		wg.Add(1)
		go func(svc service) {
			defer wg.Done()
			if err := svc.Shutdown(ctx); err != nil {
				svc.Close()
				if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
					emu.Lock()
					errs = append(errs, err)
					emu.Unlock()
				}
			}
		}(svc)
	}
	wg.Wait()
	// Listeners no service took (a Start that failed half-way).
	s.mu.Lock()
	for _, l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	return errors.Join(append(errs, s.finish())...)
}

// Close stops everything at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	for _, svc := range s.services {
		svc.Close()
	}
	s.mu.Lock()
	for _, l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	return s.finish()
}

func (s *Server) finish() error {
	if s.cancelQ != nil {
		s.cancelQ()
		select {
		case <-s.qDone:
		case <-time.After(time.Minute):
		}
	}
	s.wg.Wait()
	return s.Backend.Close()
}
