package pop3d

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/netlimit"
	"github.com/letterbox-mail/letterbox/store"
)

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("pop3: server closed")

// Backend is what pop3d needs from the server's backend.
type Backend interface {
	// Authenticate checks a login from remote and returns the user's
	// canonical address. Failures are counted (and throttled) by the
	// backend; it returns backend.ErrAuthFailed or backend.ErrThrottled.
	Authenticate(ctx context.Context, username, password string, remote net.Addr) (string, error)
	// Store returns the user's open store, shared with other sessions;
	// pop3d never closes it.
	Store(ctx context.Context, user string) (*store.Store, error)
}

// Options configure a Server. Zero values select the defaults shown.
type Options struct {
	// Hostname is announced in the greeting; os.Hostname when empty.
	Hostname string
	// TLSConfig enables STLS (RFC 2595) and is used by ServeTLS.
	TLSConfig *tls.Config
	// AllowInsecureAuth permits USER/PASS and AUTH without TLS. Only for
	// development on loopback.
	AllowInsecureAuth bool
	// IdleTimeout closes a logged-in session that sends nothing, or a
	// session that reads nothing of a reply, for this long;
	// DefaultIdleTimeout, the minimum of RFC 1939 section 3, when zero.
	IdleTimeout time.Duration
	// LoginIdleTimeout is how long a session may send nothing before it
	// has logged in; DefaultLoginIdleTimeout when zero.
	LoginIdleTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake after STLS and on
	// ServeTLS; DefaultHandshakeTimeout when zero. (On a netlimit
	// listener with TLS, the listener bounds the handshake.)
	HandshakeTimeout time.Duration
	// MaxLineLength is the longest command line accepted, in octets
	// including the CRLF; 512 when zero.
	MaxLineLength int
	// Logger receives connection, login and command records; discarded
	// when nil.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultIdleTimeout      = 10 * time.Minute
	DefaultLoginIdleTimeout = 30 * time.Second
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultMaxLineLength    = 512
)

// Server serves POP3 on any number of listeners. Its methods are safe for
// concurrent use.
type Server struct {
	be    Backend
	opts  Options
	log   *slog.Logger
	sizes *sizeCache

	// ctx is cancelled by Close, aborting store calls of live sessions;
	// Shutdown lets them finish.
	ctx    context.Context
	cancel context.CancelFunc
	nextID atomic.Uint64
	tags   backend.ListenerTags[ListenerOptions] // ServeListener's options

	mu        sync.Mutex
	closing   bool
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	locks     map[string]*session // user -> session holding the mailbox
}

// New returns a Server for be. Call Serve to start it.
func New(be Backend, opts Options) *Server {
	if opts.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		opts.Hostname = h
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.LoginIdleTimeout <= 0 {
		opts.LoginIdleTimeout = DefaultLoginIdleTimeout
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.MaxLineLength <= 0 {
		opts.MaxLineLength = DefaultMaxLineLength
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		be: be, opts: opts, log: opts.Logger, sizes: newSizeCache(),
		ctx: ctx, cancel: cancel,
		listeners: map[net.Listener]struct{}{},
		sessions:  map[*session]struct{}{},
		locks:     map[string]*session{},
	}
}

// Serve accepts connections on l and serves each in its own goroutine.
// Connections that are *tls.Conn (from tls.NewListener) count as TLS from
// the start. Serve closes l when it returns; after Close or Shutdown it
// returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	if !s.track(l, true) {
		l.Close()
		return ErrServerClosed
	}
	defer s.track(l, false)
	defer l.Close()
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if !retryable(err) {
				return fmt.Errorf("pop3: accept on %s: %w", l.Addr(), err)
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("pop3 accept failed; retrying", "addr", l.Addr().String(), "err", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		ss := s.newSession(c)
		if ss == nil {
			c.Close()
			return ErrServerClosed
		}
		go ss.serve()
	}
}

// ServeTLS serves POP3S (implicit TLS, RFC 8314 section 3.3) on l with
// Options.TLSConfig, each handshake bounded by HandshakeTimeout. It is
// for a listener without connection limits; the daemon hands Serve a
// netlimit listener with TLS instead.
func (s *Server) ServeTLS(l net.Listener) error {
	if s.opts.TLSConfig == nil {
		l.Close()
		return errors.New("pop3: ServeTLS without Options.TLSConfig")
	}
	lim := netlimit.New(netlimit.Options{MaxConns: math.MaxInt, HandshakeTimeout: s.opts.HandshakeTimeout, Logger: s.log})
	return s.Serve(lim.Protocol(netlimit.ProtocolOptions{Name: "pop3s"}).Listen(l, s.opts.TLSConfig))
}

// retryable reports accept errors that pass: timeouts, a connection reset
// before it was accepted, running out of file descriptors.
func retryable(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EMFILE) ||
		errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

func (s *Server) track(l net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.listeners, l)
		return true
	}
	if s.closing {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// stop marks the server closing, closes its listeners and returns the
// live sessions.
func (s *Server) stop() ([]*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	var errs []error
	for l := range s.listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("pop3: close listener %s: %w", l.Addr(), err))
		}
		delete(s.listeners, l)
	}
	list := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		list = append(list, ss)
	}
	return list, errors.Join(errs...)
}

// Close stops the listeners and closes every connection at once. Pending
// deletions of open sessions are not applied.
func (s *Server) Close() error {
	list, err := s.stop()
	s.cancel()
	for _, ss := range list {
		ss.closeConn()
	}
	return err
}

// Shutdown stops the listeners, lets commands in progress finish (a QUIT
// applies its deletions), closes idle sessions with "-ERR [SYS/TEMP]", and
// returns when no session is left, or with ctx's error when ctx ends
// first (the remaining sessions are then left to Close).
func (s *Server) Shutdown(ctx context.Context) error {
	_, err := s.stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		list := make([]*session, 0, len(s.sessions))
		for ss := range s.sessions {
			list = append(list, ss)
		}
		s.mu.Unlock()
		if len(list) == 0 {
			return err
		}
		for _, ss := range list {
			ss.wakeIfIdle()
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-tick.C:
		}
	}
}

// newSession registers a session for c, or returns nil when the server is
// closing.
func (s *Server) newSession(c net.Conn) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil
	}
	id := "pop3-" + strconv.FormatUint(s.nextID.Add(1), 10)
	ss := newSession(s, c, id)
	s.sessions[ss] = struct{}{}
	return ss
}

func (s *Server) endSession(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ss)
	if ss.user != "" && s.locks[ss.user] == ss {
		delete(s.locks, ss.user)
	}
}

// lockMailbox gives ss the mailbox of user, unless another session holds
// it.
func (s *Server) lockMailbox(user string, ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.locks[user]; ok && h != ss {
		return false
	}
	s.locks[user] = ss
	return true
}

func (s *Server) unlockMailbox(user string, ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks[user] == ss {
		delete(s.locks, user)
	}
}

// sessionCount returns the number of live sessions.
func (s *Server) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}
