package smtpd

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/letterbox-mail/letterbox/server/netlimit"
)

func sprintf(format string, v ...any) string { return fmt.Sprintf(format, v...) }
func sprint(v ...any) string                 { return fmt.Sprint(v...) }

// listener prepares each accepted connection for go-smtp: a submission
// client gets LoginIdleTimeout until it authenticates, and a plain
// connection is watched for its STARTTLS handshake. (The caps on
// connections are the netlimit listener's, below.)
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.s.opts.Mode == ModeSubmission {
		netlimit.SetIdle(c, l.s.opts.LoginIdleTimeout)
	}
	if _, ok := c.(*tls.Conn); ok {
		return c, nil // go-smtp recognises implicit TLS by the type
	}
	return &startTLSConn{Conn: newCorkConn(c), timeout: l.s.opts.HandshakeTimeout}, nil
}

// startTLSConn bounds the STARTTLS handshake. After the greeting, the only
// 220 reply of an SMTP session is STARTTLS's "220 Ready to start TLS"
// (RFC 3207 section 4), the last thing sent in clear: when it is written,
// the reads and writes of the handshake get HandshakeTimeout in all
// (go-smtp sets its own deadlines again for the first command after it).
// From then on everything written is a TLS record; a reply in clear text
// means go-smtp gave up on the handshake and would go on unencrypted, so
// the connection is closed instead.
type startTLSConn struct {
	net.Conn
	timeout time.Duration
	// Only go-smtp's goroutine writes.
	greeted bool // the 220 greeting was written
	started bool // the STARTTLS 220 was written
}

func (c *startTLSConn) Write(b []byte) (int, error) {
	switch {
	case c.started && len(b) > 0 && '0' <= b[0] && b[0] <= '9':
		c.Conn.Close()
		return 0, net.ErrClosed
	case bytes.HasPrefix(b, []byte("220 ")):
		if c.greeted {
			c.started = true
			c.Conn.SetDeadline(time.Now().Add(c.timeout))
		}
		c.greeted = true
	}
	return c.Conn.Write(b)
}

// NetConn returns the wrapped connection (netlimit looks through it).
func (c *startTLSConn) NetConn() net.Conn { return c.Conn }

// rateLimiter counts events per key in a sliding window.
type rateLimiter struct {
	max    int
	window time.Duration
	mu     sync.Mutex
	events map[string][]time.Time
}

func newRateLimiter(max int, window time.Duration) *rateLimiter {
	return &rateLimiter{max: max, window: window, events: map[string][]time.Time{}}
}

// allow reports whether key may have n more events now, without
// recording them.
func (r *rateLimiter) allow(key string, n int, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.prune(key, now))+n <= r.max
}

// add records n events for key.
func (r *rateLimiter) add(key string, n int, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.prune(key, now)
	for range n {
		ev = append(ev, now)
	}
	r.events[key] = ev
}

func (r *rateLimiter) prune(key string, now time.Time) []time.Time {
	ev := r.events[key]
	i := 0
	for i < len(ev) && now.Sub(ev[i]) >= r.window {
		i++
	}
	ev = ev[i:]
	if len(ev) == 0 {
		delete(r.events, key)
	}
	return ev
}
