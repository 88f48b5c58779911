package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Security says how the connection is protected.
type Security string

// The connection security settings, as in the account configuration.
const (
	// SecurityTLS is implicit TLS from the first octet (POP3S, port 995,
	// RFC 8314).
	SecurityTLS Security = "tls"
	// SecurityStartTLS is a plain connection upgraded with STLS (RFC
	// 2595) before logging in; a server without STLS is refused.
	SecurityStartTLS Security = "starttls"
	// SecurityNone is a plain connection: the password goes in clear.
	// Only for loopback and tests.
	SecurityNone Security = "none"
)

// Default values of Config.
const (
	// DefaultTimeout is Config.Timeout when zero.
	DefaultTimeout = time.Minute
	// DefaultWindow is Config.Window when zero.
	DefaultWindow = 32
	// DefaultMaxMessage is Config.MaxMessage when zero, as the IMAP
	// client's largest literal.
	DefaultMaxMessage = 100 << 20
)

// Config says where and how to connect and log in.
type Config struct {
	// Addr is the server's "host:port".
	Addr string
	// Security is SecurityTLS when empty.
	Security Security
	// TLS configures TLS; nil trusts the system roots for the host of
	// Addr. A config without ServerName gets the host of Addr.
	TLS *tls.Config
	// Dial opens the TCP connection; a net.Dialer when nil. Tests inject
	// proxies and failures here.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Login and Password are the credentials.
	Login, Password string
	// OAuth2, when set, signs in with a bearer token instead of the
	// password: AUTH OAUTHBEARER, or XOAUTH2 when the server lists only
	// that in CAPA SASL (RFC 5034, RFC 7628). A refused token is
	// refreshed and tried once more (lbsync.OAuthRetry).
	OAuth2 lbsync.TokenSource
	// Timeout bounds each wait for the server once connected (a read or
	// a write that makes no progress: an inactivity bound, so a long
	// download that flows never times out); DefaultTimeout when zero,
	// none when negative. The context's deadline applies as well.
	Timeout time.Duration
	// ConnectTimeout bounds each step of setting up the connection: the
	// TCP connect, the TLS handshake (and STLS's), the greeting;
	// lbsync.DefaultConnectTimeout when zero, none when negative.
	ConnectTimeout time.Duration
	// MaxMessage bounds one message (RETR, TOP) in octets on the wire:
	// a server sending more is hostile or broken, and the download fails
	// with a Protocol error instead of filling the disk.
	// DefaultMaxMessage when zero, none when negative.
	MaxMessage int64
	// Window is how many RETR or DELE commands are sent ahead of their
	// replies when the server offers PIPELINING (RFC 2449 section 6.6);
	// DefaultWindow when zero. 1 turns pipelining off.
	Window int
}

// Client is one POP3 session in the TRANSACTION state (RFC 1939 section
// 5): Dial connects and logs in; then any of the commands; then Quit to
// apply deletions, or Close to leave the mailbox as it was. A Client is
// not safe for concurrent use. A failed connection makes every later
// call fail with the same error; close the Client and dial again.
type Client struct {
	cfg    Config
	token  func() (string, error) // the first OAuth2 token (fetched while connecting)
	raw    *timedConn
	conn   net.Conn // raw, or TLS over raw
	br     *bufio.Reader
	bw     *bufio.Writer
	tls    bool
	caps   Capabilities
	open   *dotReader // multi-line response not yet read to its end
	broken error
	closed bool
}

// Dial connects to cfg.Addr, reads the greeting, learns the capabilities,
// starts TLS as cfg.Security asks and logs in (RFC 1939 section 4). The
// APOP timestamp of the greeting is ignored: APOP is not used.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Security == "" {
		cfg.Security = SecurityTLS
	}
	switch cfg.Security {
	case SecurityTLS, SecurityStartTLS, SecurityNone:
	default:
		return nil, permanent("pop3 %s: unknown security %q", cfg.Addr, cfg.Security)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxMessage == 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if err := checkArg("login", cfg.Login); err != nil {
		return nil, err
	}
	if err := checkArg("password", cfg.Password); err != nil {
		return nil, err
	}
	connectTO := lbsync.Timeouts{Connect: cfg.ConnectTimeout}.ConnectOr()
	raw, err := dialTCP(ctx, cfg, connectTO)
	if err != nil {
		return nil, fmt.Errorf("pop3 %s: connect: %w", cfg.Addr, classifyNet(err))
	}
	tc := &timedConn{Conn: raw}
	c := &Client{cfg: cfg, raw: tc, conn: tc}
	if cfg.OAuth2 != nil {
		// The first token is looked up (or refreshed) while the session
		// starts; a failed start stops waiting for it.
		c.token = prefetch(ctx, cfg.OAuth2.Token)
	}
	tc.begin(ctx)
	if err := c.start(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("pop3 %s: %w", cfg.Addr, err)
	}
	return c, nil
}

// dialTCP opens the TCP connection within the connect timeout.
func dialTCP(ctx context.Context, cfg Config, timeout time.Duration) (net.Conn, error) {
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	dctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	raw, err := dial(dctx, "tcp", cfg.Addr)
	if err != nil && ctx.Err() == nil && dctx.Err() != nil {
		return nil, lbsync.Timeout("no TCP connection within", timeout)
	}
	return raw, err
}

// start runs the AUTHORIZATION state: the connect timeout bounds the TLS
// handshake and the greeting, the command timeout what follows.
func (c *Client) start(ctx context.Context) error {
	connectTO := lbsync.Timeouts{Connect: c.cfg.ConnectTimeout}.ConnectOr()
	if c.cfg.Security == SecurityTLS {
		if err := c.handshake(ctx); err != nil {
			return err
		}
	} else {
		c.setConn(c.raw)
	}
	c.raw.phase("no greeting within", connectTO)
	if _, err := c.readReply("greeting"); err != nil {
		return err
	}
	c.raw.phase("server silent for", c.cfg.Timeout)
	if err := c.capa(ctx); err != nil {
		return err
	}
	if c.cfg.Security == SecurityStartTLS {
		if err := c.stls(ctx); err != nil {
			return err
		}
	}
	return c.login(ctx)
}

func (c *Client) setConn(conn net.Conn) {
	c.conn = conn
	c.br = bufio.NewReaderSize(conn, 64<<10)
	c.bw = bufio.NewWriterSize(conn, 4<<10)
}

func (c *Client) tlsConfig() *tls.Config {
	cfg := c.cfg.TLS
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		host, _, err := net.SplitHostPort(c.cfg.Addr)
		if err != nil {
			host = c.cfg.Addr
		}
		cfg.ServerName = host
	}
	return cfg
}

// handshake starts TLS on the raw connection, within the connect
// timeout.
func (c *Client) handshake(ctx context.Context) error {
	c.raw.phase("TLS handshake not finished within", lbsync.Timeouts{Connect: c.cfg.ConnectTimeout}.ConnectOr())
	defer c.raw.phase("server silent for", c.cfg.Timeout)
	tc := tls.Client(c.raw, c.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", classifyNet(err))
	}
	c.setConn(tc)
	c.tls = true
	return nil
}

// stls upgrades the connection (RFC 2595 section 4) and learns the
// capabilities again, as the RFC requires.
func (c *Client) stls(ctx context.Context) error {
	if c.caps != nil && !c.caps.Has("STLS") {
		return withKind(lbsync.Permanent, fmt.Errorf("STLS: %w", ErrNoTLS))
	}
	if _, err := c.cmd(ctx, "STLS"); err != nil {
		var se *ServerError
		if errors.As(err, &se) {
			return withKind(lbsync.Permanent, fmt.Errorf("%w (%v)", ErrNoTLS, err))
		}
		return err
	}
	// Anything after the +OK line came in clear text and could have been
	// injected by a man in the middle.
	if c.br.Buffered() > 0 {
		return c.fail(fmt.Errorf("STLS: data pipelined after +OK: %w", lbsync.ErrProtocol))
	}
	if err := c.handshake(ctx); err != nil {
		return c.fail(err)
	}
	c.caps = nil
	return c.capa(ctx)
}

// Capabilities maps each capability name (upper case) the server listed
// in reply to CAPA (RFC 2449 section 5) to its arguments.
type Capabilities map[string][]string

// Has reports whether the capability is listed.
func (caps Capabilities) Has(name string) bool {
	_, ok := caps[strings.ToUpper(name)]
	return ok
}

// SASL reports whether mechanism is listed in the SASL capability (RFC
// 5034 section 6).
func (caps Capabilities) SASL(mechanism string) bool {
	for _, m := range caps["SASL"] {
		if strings.EqualFold(m, mechanism) {
			return true
		}
	}
	return false
}

// Capabilities returns what the server listed after login, or nil when it
// does not know CAPA.
func (c *Client) Capabilities() Capabilities { return c.caps }

// capa asks for the capabilities (RFC 2449 section 5). A server without
// CAPA (an RFC 1939 server) answers -ERR and leaves caps nil.
func (c *Client) capa(ctx context.Context) error {
	lines, err := c.listing(ctx, "CAPA")
	var se *ServerError
	if errors.As(err, &se) {
		c.caps = nil
		return nil
	}
	if err != nil {
		return err
	}
	caps := Capabilities{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 0 {
			caps[strings.ToUpper(f[0])] = f[1:]
		}
	}
	c.caps = caps
	return nil
}

// pipelining reports how many commands may be sent ahead.
func (c *Client) pipelining() int {
	if c.caps.Has("PIPELINING") {
		return c.cfg.Window
	}
	return 1
}

// Close ends the session without QUIT: the server must not delete the
// messages marked with DELE (RFC 1939 section 6). It is safe to call more
// than once.
func (c *Client) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.broken != nil { // already closed by fail
		return nil
	}
	c.broken = ErrClosed
	return c.conn.Close()
}

// fail marks the connection broken after an I/O or protocol error and
// returns err, classified.
func (c *Client) fail(err error) error {
	// A read interrupted by the context fails with a timeout; say why.
	if ctxErr := c.raw.err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	err = classifyNet(err)
	if c.broken == nil {
		c.broken = err
		c.conn.Close()
	}
	return err
}
