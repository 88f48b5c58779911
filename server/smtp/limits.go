package smtpd

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
)

func sprintf(format string, v ...any) string { return fmt.Sprintf(format, v...) }
func sprint(v ...any) string                 { return fmt.Sprint(v...) }

// limitListener refuses a connection with 421 when its IP already has
// MaxConnsPerIP open, before go-smtp sees it.
type limitListener struct {
	net.Listener
	s *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := backend.HostOf(c.RemoteAddr())
		if !l.s.opts.LimitLoopback {
			if a := net.ParseIP(ip); a != nil && a.IsLoopback() {
				return c, nil
			}
		}
		l.s.mu.Lock()
		n := l.s.perIP[ip]
		if n >= l.s.opts.MaxConnsPerIP {
			l.s.mu.Unlock()
			l.s.log.Warn("smtp connection refused: too many from one address", "remote", ip, "open", n)
			go func() {
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				fmt.Fprintf(c, "421 4.7.0 Too many connections from your address, try again later\r\n")
				c.Close()
			}()
			continue
		}
		l.s.perIP[ip] = n + 1
		l.s.mu.Unlock()
		return &countedConn{Conn: c, s: l.s, ip: ip}, nil
	}
}

type countedConn struct {
	net.Conn
	s    *Server
	ip   string
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		if c.s.perIP[c.ip]--; c.s.perIP[c.ip] <= 0 {
			delete(c.s.perIP, c.ip)
		}
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

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
