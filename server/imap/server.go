package imapd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/store"
)

// Backend is what the IMAP server needs of the server's shared state.
// server/backend.Backend implements it.
type Backend interface {
	// Authenticate checks a login from remote and returns the user's
	// canonical address. Any error refuses the login: backend.ErrAuthFailed
	// and backend.ErrNoUser as a wrong password, anything else
	// (backend.ErrThrottled, a cancelled ctx) as a temporary refusal.
	Authenticate(ctx context.Context, username, password string, remote net.Addr) (string, error)
	// Store returns the user's open store, shared by all sessions; the
	// server never closes it.
	Store(ctx context.Context, user string) (*store.Store, error)
}

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("imap: server closed")

// Defaults of Options.
const (
	// DefaultAppendLimit is the APPENDLIMIT when Options.AppendLimit is
	// zero.
	DefaultAppendLimit = 50 << 20
	// DefaultLoginIdleTimeout is go-imap's own timeout before login.
	DefaultLoginIdleTimeout = 30 * time.Second
	// DefaultIdleTimeout is the least RFC 9051 section 5.4 allows after
	// login.
	DefaultIdleTimeout = 30 * time.Minute
	// minIDLETimeout is the least an IDLE command is given, whatever
	// IdleTimeout says: RFC 2177 clients renew IDLE every 29 minutes.
	minIDLETimeout = 30 * time.Minute
)

// Options configure a Server.
type Options struct {
	// TLSConfig enables STARTTLS (RFC 9051 section 6.2.1). For implicit
	// TLS, wrap the listener given to Serve with tls.NewListener instead
	// (or as well).
	TLSConfig *tls.Config
	// InsecureAuth allows LOGIN and AUTHENTICATE without TLS. Only for
	// development and loopback listeners; otherwise the server announces
	// LOGINDISABLED until STARTTLS.
	InsecureAuth bool
	// Logger receives connection and command logs; nothing when nil.
	// Passwords are never logged.
	Logger *slog.Logger
	// AppendLimit is the largest message APPEND accepts (RFC 7889), in
	// bytes; DefaultAppendLimit when zero.
	AppendLimit uint32
	// LoginIdleTimeout and IdleTimeout are how long a client may send
	// nothing before and after login; DefaultLoginIdleTimeout and
	// DefaultIdleTimeout when zero. An IDLE command is given at least 30
	// minutes (RFC 2177 clients renew it every 29). They apply to
	// connections from a netlimit listener; on others only go-imap's own
	// timeouts do (30 s before login, 35 minutes after).
	LoginIdleTimeout, IdleTimeout time.Duration
	// Location is the time zone of SEARCH dates (SINCE, BEFORE, ON and
	// their SENT variants compare calendar days); time.Local when nil.
	Location *time.Location
	// Limits bound the mailboxes a user may make (names.go).
	Limits MailboxLimits
}

// Server is an IMAP server over the users' stores. Create it with New,
// run it with Serve on one or more listeners, stop it with Shutdown or
// Close.
type Server struct {
	be   Backend
	opts Options
	log  *slog.Logger
	imap *imapserver.Server
	// copyBufs are the *[]byte buffers BODY[] is copied through
	// (writeWholeMessage): io.Copy allocated 32 KiB per message.
	copyBufs sync.Pool

	// ctx is the base context of every command; Close cancels it, and
	// so does Shutdown when its grace period ends.
	ctx    context.Context
	cancel context.CancelFunc

	connID atomic.Uint64
	hub    hub // live state of logged-in users
	tags   backend.ListenerTags[ListenerOptions]

	closeOnce sync.Once

	mu        sync.Mutex
	sessions  map[*session]struct{}
	listeners []net.Listener
	closed    bool
	idle      chan struct{} // closed when sessions becomes empty after closing
}

// New returns a server for the backend's users.
func New(be Backend, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AppendLimit == 0 {
		opts.AppendLimit = DefaultAppendLimit
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	opts.Limits = opts.Limits.withDefaults()
	if opts.LoginIdleTimeout <= 0 {
		opts.LoginIdleTimeout = DefaultLoginIdleTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{be: be, opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, sessions: map[*session]struct{}{}}
	s.hub.users = map[string]*userState{}
	s.hub.log = s.log
	s.imap = imapserver.New(&imapserver.Options{
		NewSession:   s.newSession,
		Caps:         capabilities(),
		Logger:       libLogger{s.log},
		TLSConfig:    opts.TLSConfig,
		InsecureAuth: opts.InsecureAuth,
	})
	return s
}

// capabilities are the advertised capabilities beyond what imapserver adds
// by itself (LITERAL-, SASL-IR, STARTTLS, AUTH=PLAIN, LOGINDISABLED,
// IDLE, UNSELECT, ENABLE and APPENDLIMIT=n from the session).
func capabilities() imap.CapSet {
	return imap.CapSet{
		imap.CapIMAP4rev1:        {},
		imap.CapIMAP4rev2:        {},
		imap.CapNamespace:        {},
		imap.CapUIDPlus:          {},
		imap.CapESearch:          {},
		imap.CapSearchRes:        {},
		imap.CapMove:             {},
		imap.CapStatusSize:       {},
		imap.CapBinary:           {},
		imap.CapChildren:         {},
		imap.CapListExtended:     {},
		imap.CapListStatus:       {},
		imap.CapSpecialUse:       {},
		imap.CapCreateSpecialUse: {},
		imap.CapLiteralPlus:      {},
	}
}

// Serve accepts connections on l until Close or Shutdown, and returns
// ErrServerClosed then (at once, closing l, if the server is closed
// already). The server closes l when it stops.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		l.Close()
		return ErrServerClosed
	}
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	s.log.Info("imap listening", "addr", l.Addr().String())
	err := s.imap.Serve(l)
	s.mu.Lock()
	closed = s.closed
	s.mu.Unlock()
	if closed || err == nil {
		return ErrServerClosed
	}
	return fmt.Errorf("imap serve %s: %w", l.Addr(), err)
}

// Close closes the listeners and every connection at once, and cancels
// the commands in progress.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	return s.closeLib()
}

// closeLib closes imapserver's listeners and connections, once.
func (s *Server) closeLib() error {
	var err error
	s.closeOnce.Do(func() {
		if cerr := s.imap.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = fmt.Errorf("imap close: %w", cerr)
		}
	})
	return err
}

// Shutdown stops accepting connections, says BYE (RFC 9051 section
// 7.1.5) to every client, and waits until their sessions have ended or ctx
// is done; then it cancels the commands still running and closes what is
// left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for _, l := range s.listeners {
		l.Close() // imapserver's accept loop ends; errors do not matter here
	}
	list := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		list = append(list, sess)
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
		if len(s.sessions) == 0 {
			close(s.idle)
		}
	}
	idle := s.idle
	s.mu.Unlock()
	for _, sess := range list {
		sess.conn.Bye("Server shutting down")
	}
	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.cancel()
	if cerr := s.closeLib(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func (s *Server) addSession(sess *session) {
	s.mu.Lock()
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
}

func (s *Server) removeSession(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	if s.idle != nil && len(s.sessions) == 0 {
		select {
		case <-s.idle:
		default:
			close(s.idle)
		}
	}
	s.mu.Unlock()
}

// libLogger passes imapserver's own messages (failed reads, panics) to
// slog.
type libLogger struct{ log *slog.Logger }

func (l libLogger) Printf(format string, args ...any) {
	l.log.Warn("imapserver: " + fmt.Sprintf(format, args...))
}
