package submit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	// The charset tables for RFC 2047 names in other charsets: registered
	// here, where the addresses are read, not left to other packages.
	_ "github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// maxHeaderBytes bounds the header read from a queued message.
const maxHeaderBytes = 1 << 20

// ErrNoRecipients means a queued message names no recipient in To, Cc or
// Bcc, or has no From; it cannot be sent.
var ErrNoRecipients = errors.New("message has no sender or no recipients")

// envelope is what sending a queued message needs from its header.
type envelope struct {
	from      string
	rcpts     []string
	messageID string
	subject   string
	// header is the header as sent: the original fields, byte for byte,
	// without Bcc, then the empty line.
	header []byte
	// bodyOffset is where the body starts in the raw message.
	bodyOffset int64
}

// readEnvelope reads the header of a raw message: the sender (first From
// address), the recipients (To, Cc and Bcc, without duplicates), and the
// header to send.
func readEnvelope(r io.Reader) (*envelope, error) {
	cr := &countingReader{r: io.LimitReader(r, maxHeaderBytes)}
	br := bufio.NewReader(cr)
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	env, err := envelopeOf(h)
	if err != nil {
		return nil, err
	}
	env.bodyOffset = cr.n - int64(br.Buffered())
	stripped := h.Copy()
	stripped.Del("Bcc")
	var b bytes.Buffer
	if err := textproto.WriteHeader(&b, stripped); err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	env.header = b.Bytes()
	return env, nil
}

// envelopeOf extracts sender and recipients from a header.
func envelopeOf(th textproto.Header) (*envelope, error) {
	h := mail.Header{}
	h.Header.Header = th
	env := &envelope{}
	from, err := h.AddressList("From")
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if len(from) == 0 {
		return nil, fmt.Errorf("no From: %w", ErrNoRecipients)
	}
	env.from = from[0].Address
	seen := map[string]bool{}
	for _, key := range []string{"To", "Cc", "Bcc"} {
		list, err := h.AddressList(key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.ToLower(key), err)
		}
		for _, a := range list {
			if k := strings.ToLower(a.Address); !seen[k] {
				seen[k] = true
				env.rcpts = append(env.rcpts, a.Address)
			}
		}
	}
	if len(env.rcpts) == 0 {
		return nil, fmt.Errorf("no To, Cc or Bcc: %w", ErrNoRecipients)
	}
	env.messageID, _ = h.MessageID()
	env.subject, _ = h.Subject()
	return env, nil
}

// sized is a reader that knows its length, for SIZE (RFC 1870).
type sized struct {
	io.Reader
	n int64
}

func (s *sized) Size() int64 { return s.n }

// sizeOf returns the length of r if it tells it, else 0 (unknown).
func sizeOf(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case interface{ Size() int64 }:
		return v.Size()
	}
	return 0
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readErrReader remembers a read error, to tell a failing source from a
// failing connection.
type readErrReader struct {
	r   io.Reader
	err error
}

func (e *readErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// deadlineConn gives every write a deadline, so that a stalled server
// cannot block the message upload forever (go-smtp times out replies but
// not the DATA writes), and bounds what the server sends between two of
// our writes: a reply (greeting, EHLO's list, the TLS handshake) is never
// near maxReply, so more is a hostile or broken server, which would
// otherwise grow a line or a multi-line reply without end
// (net/textproto, which reads the greeting, bounds neither; go-smtp
// bounds a line, not a reply). One goroutine uses it at a time.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
	// unanswered counts the octets read since our last write.
	unanswered int64
}

// maxReply bounds the octets the server may send between two of our
// writes.
const maxReply = 1 << 20

func (d *deadlineConn) Write(p []byte) (int, error) {
	d.unanswered = 0
	d.Conn.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.Conn.Write(p)
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	if d.unanswered > maxReply {
		return 0, errReplyTooLong
	}
	n, err := d.Conn.Read(p)
	d.unanswered += int64(n)
	return n, err
}

// errReplyTooLong is what a deadlineConn reads past maxReply.
var errReplyTooLong = fmt.Errorf("server reply longer than 1 MiB: hostile or broken server: %w", lbsync.ErrProtocol)

// greetedConn reads from r (a canned greeting, then the connection's
// data) instead of the connection.
type greetedConn struct {
	net.Conn
	r io.Reader
}

func (g *greetedConn) Read(p []byte) (int, error) { return g.r.Read(p) }
