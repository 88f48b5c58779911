package smtpd

import (
	"net"
	"sync"
	"time"
)

// corkConn holds go-smtp's replies until the session reads again, and
// then writes them at once. go-smtp writes and flushes every reply by
// itself; a client that pipelines (RFC 2920: smtp-source, Postfix) sends
// MAIL, RCPT and DATA together and so got three writes, three wakeups, for
// what is one answer. The replies are written in order and never later
// than the session's next read or the connection's close, so a client
// that waits for a reply before it sends on (every client without
// PIPELINING, and every client at EHLO, DATA's 354 and the end of the
// data) gets it as before: go-smtp always reads next after such a reply.
//
// Under STARTTLS the TLS records of the handshake and the session go
// through it the same way (the handshake reads after each flight).
type corkConn struct {
	net.Conn
	mu  sync.Mutex // guards buf: Close may come from another goroutine
	buf []byte     // replies held; a few hundred bytes (a 4 KiB bufio.Writer per connection was garbage)
}

// corkMax bounds what is held; a longer write goes out at once.
const corkMax = 4096

// corkFlushTimeout bounds writing out what is held when the connection
// is closed.
const corkFlushTimeout = 5 * time.Second

func newCorkConn(c net.Conn) *corkConn {
	return &corkConn{Conn: c}
}

// Write holds b until the next Read (or until corkMax bytes are held).
func (c *corkConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf)+len(b) > corkMax {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if len(b) > corkMax {
			return c.Conn.Write(b)
		}
	}
	c.buf = append(c.buf, b...)
	return len(b), nil
}

// Read writes out what is held, then reads.
func (c *corkConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	err := c.flushLocked()
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *corkConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// Close writes out what is held (the last reply, such as QUIT's 221)
// and closes the connection.
func (c *corkConn) Close() error {
	c.mu.Lock()
	if len(c.buf) > 0 {
		c.Conn.SetWriteDeadline(time.Now().Add(corkFlushTimeout))
		c.flushLocked()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// NetConn returns the wrapped connection (netlimit looks through it).
func (c *corkConn) NetConn() net.Conn { return c.Conn }
