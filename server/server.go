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
	"github.com/letterbox-mail/letterbox/server/queue"
	smtpd "github.com/letterbox-mail/letterbox/server/smtp"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
	"github.com/letterbox-mail/letterbox/store"
)

// service is what each protocol server offers.
type service interface {
	Serve(l net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
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
	// checks (tests).
	InboundResolver delivery.Resolver
	// QueueBackoff and QueuePoll override the queue's retry schedule and
	// polling interval (tests).
	QueueBackoff func(n int) time.Duration
	QueuePoll    time.Duration

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
	// The server lives long enough to index full text when deliveries
	// pause (store.Options.DeferText); searches catch up first.
	be, err := backend.New(cfg.Data, backend.Options{Domains: cfg.Domains, MaxFailures: cfg.Limits.MaxAuthFailures, Logger: log,
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
// the background. If one listener cannot be opened, none is kept.
func (s *Server) Start(ctx context.Context) (err error) {
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
		Inbound: delivery.Inbound{Off: cfg.Inbound.SkipAuth, DMARCReject: cfg.Inbound.DMARCReject, Resolver: s.InboundResolver}})

	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	smtpOpts := func(mode smtpd.Mode) smtpd.Options {
		return smtpd.Options{Mode: mode, Hostname: cfg.Hostname, TLSConfig: s.tls, AllowInsecureAuth: cfg.Dev,
			MaxMessageBytes: cfg.Limits.MaxMessageBytes, MaxRecipients: cfg.Limits.MaxRecipients,
			MaxConnsPerIP: cfg.Limits.MaxConnsPerIP, MaxMessagesPerHour: cfg.Limits.MessagesPerHour,
			RejectBareLF: cfg.Limits.RejectBareLF, Logger: s.log.With("proto", "smtp")}
	}
	mx := smtpd.New(s.Backend, dl, smtpOpts(smtpd.ModeMX))
	sub := smtpd.New(s.Backend, dl, smtpOpts(smtpd.ModeSubmission))
	s.services = append(s.services, mx, sub)
	if err := s.listen("smtp", cfg.Listen.SMTP, false, mx); err != nil {
		return err
	}
	if err := s.listen("submission", cfg.Listen.Submission, false, sub); err != nil {
		return err
	}
	if err := s.listen("smtps", cfg.Listen.SMTPS, true, sub); err != nil {
		return err
	}
	if err := s.startMailboxes(); err != nil {
		return err
	}
	qctx, cancel := context.WithCancel(context.Background())
	s.cancelQ, s.qDone = cancel, make(chan struct{})
	go func() {
		defer close(s.qDone)
		q.Run(qctx)
	}()
	return nil
}

// listen opens addr (when not empty) and serves svc on it.
func (s *Server) listen(name, addr string, implicitTLS bool, svc service) error {
	if addr == "" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s on %s: %w", name, addr, err)
	}
	s.mu.Lock()
	s.addrs[name] = l.Addr()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	if implicitTLS {
		l = tls.NewListener(l, s.tls)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := svc.Serve(l); err != nil && !errors.Is(err, net.ErrClosed) && !s.closing.Load() {
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
