package netlimit

import (
	"net"
	"sync/atomic"
	"time"
)

// Conn is a connection a Limiter counted. It is uncounted when closed (or
// evicted). Reads honour the idle timeout set with SetIdle as well as the
// caller's own read deadline, whichever comes first.
type Conn struct {
	net.Conn
	proto *Protocol
	ip    string
	perIP bool // counted in proto.perIP

	idle atomic.Int64 // idle timeout in nanoseconds; 0 for none
	rdl  atomic.Int64 // the caller's read deadline in Unix nanoseconds; 0 for none

	// Guarded by proto.lim.mu.
	released   bool
	pip        *pendingIP // non-nil while not logged in
	prev, next *Conn
}

// Read reads with the idle timeout: it fails with a timeout when no data
// comes for that long.
func (c *Conn) Read(b []byte) (int, error) {
	if d := c.idle.Load(); d > 0 {
		c.Conn.SetReadDeadline(c.readDeadline(time.Duration(d)))
	}
	return c.Conn.Read(b)
}

// readDeadline is the earlier of now+idle and the caller's deadline.
func (c *Conn) readDeadline(idle time.Duration) time.Time {
	t := time.Now().Add(idle)
	if r := c.rdl.Load(); r != 0 && r < t.UnixNano() {
		return time.Unix(0, r)
	}
	return t
}

// SetReadDeadline sets the caller's read deadline; the idle timeout may
// end a read earlier.
func (c *Conn) SetReadDeadline(t time.Time) error {
	var r int64
	if !t.IsZero() {
		r = t.UnixNano()
	}
	c.rdl.Store(r)
	if d := c.idle.Load(); d > 0 {
		t = c.readDeadline(time.Duration(d))
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline sets the read (as SetReadDeadline) and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// SetIdle sets the idle timeout (none when d <= 0). It applies to a read
// in progress too.
func (c *Conn) SetIdle(d time.Duration) {
	c.idle.Store(int64(max(d, 0)))
	var t time.Time
	if r := c.rdl.Load(); r != 0 {
		t = time.Unix(0, r)
	}
	if d > 0 {
		t = c.readDeadline(d)
	}
	c.Conn.SetReadDeadline(t)
}

// LoggedIn marks the connection as logged in: it is no longer evicted to
// make room under the global cap.
func (c *Conn) LoggedIn() {
	l := c.proto.lim
	l.mu.Lock()
	l.popPendingLocked(c)
	l.mu.Unlock()
}

// Close uncounts the connection and closes it.
func (c *Conn) Close() error {
	l := c.proto.lim
	l.mu.Lock()
	l.releaseLocked(c)
	l.mu.Unlock()
	return c.Conn.Close()
}

// CloseWrite half-closes the connection when the underlying one can.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// NetConn returns the wrapped connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// From finds the *Conn under nc, looking through wrappers that have a
// NetConn method (such as *tls.Conn); nil when there is none.
func From(nc net.Conn) *Conn {
	for range 8 {
		switch v := nc.(type) {
		case *Conn:
			return v
		case interface{ NetConn() net.Conn }:
			nc = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// LoggedIn marks the connection under nc as logged in, if netlimit
// counted it.
func LoggedIn(nc net.Conn) {
	if c := From(nc); c != nil {
		c.LoggedIn()
	}
}

// SetIdle sets the idle timeout of the connection under nc, if netlimit
// counted it, and reports whether it did.
func SetIdle(nc net.Conn, d time.Duration) bool {
	c := From(nc)
	if c == nil {
		return false
	}
	c.SetIdle(d)
	return true
}
