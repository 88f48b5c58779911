package smtpd

import (
	"bufio"
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
	mu sync.Mutex // guards bw: Close may come from another goroutine
	bw *bufio.Writer
}

// corkFlushTimeout bounds writing out what is held when the connection
// is closed.
const corkFlushTimeout = 5 * time.Second

func newCorkConn(c net.Conn) *corkConn {
	return &corkConn{Conn: c, bw: bufio.NewWriterSize(c, 4096)}
}

// Write holds b until the next Read (or until 4 KiB are held).
func (c *corkConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bw.Write(b)
}

// Read writes out what is held, then reads.
func (c *corkConn) Read(b []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *corkConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bw.Buffered() == 0 {
		return nil
	}
	return c.bw.Flush()
}

// Close writes out what is held (the last reply, such as QUIT's 221)
// and closes the connection.
func (c *corkConn) Close() error {
	c.mu.Lock()
	if c.bw.Buffered() > 0 {
		c.Conn.SetWriteDeadline(time.Now().Add(corkFlushTimeout))
		c.bw.Flush()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// NetConn returns the wrapped connection (netlimit looks through it).
func (c *corkConn) NetConn() net.Conn { return c.Conn }
