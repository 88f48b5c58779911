package accounts

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// attempt probes one endpoint and returns it with the security that
// works. An endpoint whose security is unknown is tried with implicit
// TLS first and, if it answers in plain text, again as a plain port.
func (d *Discoverer) attempt(ctx context.Context, proto Protocol, ep Endpoint) (Endpoint, error) {
	switch ep.Security {
	case SecurityTLS:
		return ep, d.tryTLS(ctx, proto, ep)
	case SecurityStartTLS, SecurityNone:
		return d.tryPlain(ctx, proto, ep)
	}
	ep.Security = SecurityTLS
	err := d.tryTLS(ctx, proto, ep)
	var plainText tls.RecordHeaderError
	if errors.As(err, &plainText) {
		return d.tryPlain(ctx, proto, ep)
	}
	return ep, err
}

// tryTLS connects with implicit TLS and checks the greeting.
func (d *Discoverer) tryTLS(ctx context.Context, proto Protocol, ep Endpoint) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	conn, err := d.connect(ctx, ep)
	if err != nil {
		return err
	}
	defer conn.Close()
	tc := tls.Client(conn, d.tlsConfig(ep.Host))
	if err := tc.HandshakeContext(ctx); err != nil {
		return explainHandshake(err, ep)
	}
	pc := newProbeConn(tc)
	if _, err := pc.greeting(proto); err != nil {
		return err
	}
	pc.goodbye(proto)
	return nil
}

// tryPlain connects without TLS, checks the greeting and upgrades with
// STARTTLS (RFC 3501 §6.2.1), STLS (RFC 2595 §4) or STARTTLS (RFC 3207).
// Without the upgrade the endpoint is usable only with AllowPlain.
func (d *Discoverer) tryPlain(ctx context.Context, proto Protocol, ep Endpoint) (Endpoint, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	conn, err := d.connect(ctx, ep)
	if err != nil {
		return ep, err
	}
	defer conn.Close()
	pc := newProbeConn(conn)
	greeting, err := pc.greeting(proto)
	if err != nil {
		return ep, err
	}
	offered, err := pc.startTLS(proto, greeting)
	if err != nil {
		return ep, &stageError{"STARTTLS", err}
	}
	if !offered {
		if !d.AllowPlain {
			return ep, fmt.Errorf("answers in plain text and offers no STARTTLS, "+
				"so a password would travel unencrypted: %w", ErrNoTLS)
		}
		ep.Security = SecurityNone
		pc.goodbye(proto)
		return ep, nil
	}
	if pc.r.Buffered() > 0 { // data injected before the handshake (CVE-2011-0411)
		return ep, errors.New("server sent data before the TLS handshake")
	}
	tc := tls.Client(conn, d.tlsConfig(ep.Host))
	if err := tc.HandshakeContext(ctx); err != nil {
		return ep, explainHandshake(err, ep)
	}
	ep.Security = SecurityStartTLS
	newProbeConn(tc).goodbye(proto)
	return ep, nil
}

// connect dials ep; the connection's deadline follows ctx, including
// its cancellation.
func (d *Discoverer) connect(ctx context.Context, ep Endpoint) (net.Conn, error) {
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", ep.Addr())
	if err != nil {
		return nil, &stageError{"connect", err}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return &stopConn{Conn: conn, stop: stop}, nil
}

// stopConn unregisters the cancellation hook when closed.
type stopConn struct {
	net.Conn
	stop func() bool
}

func (c *stopConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

func (d *Discoverer) tlsConfig(host string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if d.TLS != nil {
		cfg = d.TLS.Clone()
	}
	cfg.ServerName = host
	return cfg
}

// explainHandshake returns a handshake error explained where possible,
// the plain-text case kept recognisable to attempt.
func explainHandshake(err error, ep Endpoint) error {
	if explained := ExplainTLS(err, ep.Addr()); explained != err {
		return explained
	}
	return &stageError{"TLS handshake", err}
}

// probeConn reads protocol lines of bounded length.
type probeConn struct {
	conn net.Conn
	r    *bufio.Reader
}

// maxProbeLine bounds one line read while probing.
const maxProbeLine = 4096

func newProbeConn(c net.Conn) *probeConn {
	return &probeConn{conn: c, r: bufio.NewReaderSize(c, maxProbeLine)}
}

// line reads one line without its CRLF.
func (pc *probeConn) line() (string, error) {
	b, err := pc.r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("line longer than %d bytes", maxProbeLine)
	case errors.Is(err, io.EOF):
		return "", errors.New("connection closed by the server")
	case err != nil:
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// send writes one command line.
func (pc *probeConn) send(cmd string) error {
	_, err := io.WriteString(pc.conn, cmd+"\r\n")
	return err
}

// goodbye ends the session politely, without waiting for the answer.
func (pc *probeConn) goodbye(proto Protocol) {
	switch proto {
	case IMAP:
		_ = pc.send("Z LOGOUT")
	default:
		_ = pc.send("QUIT")
	}
}
