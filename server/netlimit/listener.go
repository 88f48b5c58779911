package netlimit

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// Listen wraps ln so that its connections are counted by p and its
// Limiter. With tlsConfig set, the listener is an implicit-TLS one
// (RFC 8314): Accept returns *tls.Conn values whose handshake has
// finished, each within the Limiter's HandshakeTimeout of its accept;
// the others are closed. Closing the returned listener closes ln and
// every connection still in its handshake.
func (p *Protocol) Listen(ln net.Listener, tlsConfig *tls.Config) net.Listener {
	if tlsConfig == nil {
		return &plainListener{Listener: ln, p: p}
	}
	return &tlsListener{Listener: ln, p: p, cfg: tlsConfig,
		ready: make(chan net.Conn), done: make(chan struct{}), shaking: map[*Conn]struct{}{}}
}

// plainListener counts connections as they are accepted.
type plainListener struct {
	net.Listener
	p *Protocol
}

func (l *plainListener) Accept() (net.Conn, error) {
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if c := l.p.admit(raw, false); c != nil {
			return c, nil
		}
	}
}

// tlsListener accepts in its own goroutine and runs each handshake in
// another, so that slow handshakes never hold up the accept loop.
type tlsListener struct {
	net.Listener
	p     *Protocol
	cfg   *tls.Config
	start sync.Once
	ready chan net.Conn // connections whose handshake is done

	mu      sync.Mutex
	done    chan struct{} // closed when accepting has ended
	err     error         // why
	shaking map[*Conn]struct{}
}

func (l *tlsListener) Accept() (net.Conn, error) {
	l.start.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, l.err
	}
}

func (l *tlsListener) acceptLoop() {
	var delay time.Duration
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of descriptors or a connection reset before accept:
				// back off as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				l.p.lim.log.Warn("accept failed; retrying", "addr", l.Addr().String(), "err", err, "delay", delay)
				select {
				case <-time.After(delay):
					continue
				case <-l.done:
					return
				}
			}
			l.stop(err)
			return
		}
		delay = 0
		c := l.p.admit(raw, true)
		if c == nil {
			continue
		}
		if !l.track(c, true) {
			c.Close()
			return
		}
		go l.handshake(c)
	}
}

// handshake runs the TLS handshake of c within the deadline and hands the
// connection to Accept.
func (l *tlsListener) handshake(c *Conn) {
	tc := tls.Server(c, l.cfg)
	c.SetDeadline(time.Now().Add(l.p.lim.opts.HandshakeTimeout))
	err := tc.Handshake()
	l.track(c, false)
	if err != nil {
		l.p.lim.log.Debug("TLS handshake failed", "proto", l.p.opts.Name, "remote", c.ip, "err", err)
		tc.Close()
		return
	}
	c.SetDeadline(time.Time{})
	select {
	case l.ready <- tc:
	case <-l.done:
		tc.Close()
	}
}

// track adds c to, or removes it from, the connections in their
// handshake; adding fails once the listener is closed.
func (l *tlsListener) track(c *Conn, add bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !add {
		delete(l.shaking, c)
		return true
	}
	select {
	case <-l.done:
		return false
	default:
	}
	l.shaking[c] = struct{}{}
	return true
}

// stop ends accepting with err and closes the connections in their
// handshake.
func (l *tlsListener) stop(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return
	default:
	}
	l.err = err
	close(l.done)
	for c := range l.shaking {
		c.Conn.Close() // the handshake fails and closes c
	}
}

// Close closes the listener and the connections in their handshake.
func (l *tlsListener) Close() error {
	err := l.Listener.Close()
	l.stop(net.ErrClosed)
	return err
}
