package pop3

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// maxStatusLine bounds a status line or a line of a listing (CAPA, LIST,
// UIDL). RFC 2449 section 4 allows 512 octets; we accept far more from
// lenient servers but never an unbounded line.
const maxStatusLine = 64 << 10

// timedConn gives every read and write the deadline of the operation in
// progress: the sooner of its context's deadline and now + the timeout
// of the current phase (the connect timeout while the connection is set
// up, the command timeout after). A read or write that runs out of that
// time fails with an lbsync.TimeoutError saying what did not happen
// ("no greeting within 30s", "server silent for 60s"). Cancelling the
// context interrupts a blocked read or write.
type timedConn struct {
	net.Conn
	timeout time.Duration
	// wait says what the timeout waits for, in the words of
	// lbsync.TimeoutError.Wait.
	wait string

	mu   sync.Mutex
	ctx  context.Context
	stop func() bool
}

// phase sets the timeout and its description for the reads and writes
// that follow; a timeout <= 0 means none.
func (c *timedConn) phase(wait string, timeout time.Duration) {
	c.mu.Lock()
	c.wait, c.timeout = wait, max(timeout, 0)
	c.mu.Unlock()
}

// timedOut turns a deadline of the current phase (not the context's)
// into a TimeoutError.
func (c *timedConn) timedOut(err error) error {
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timeout <= 0 || (c.ctx != nil && c.ctx.Err() != nil) {
		return err
	}
	if d, ok := c.ctxDeadline(); ok && !d.After(time.Now()) {
		return err // the context's deadline, not ours
	}
	return lbsync.Timeout(c.wait, c.timeout)
}

// ctxDeadline returns the current context's deadline (mu held).
func (c *timedConn) ctxDeadline() (time.Time, bool) {
	if c.ctx == nil {
		return time.Time{}, false
	}
	return c.ctx.Deadline()
}

// begin makes ctx the context of the operations that follow.
func (c *timedConn) begin(ctx context.Context) {
	c.mu.Lock()
	if c.stop != nil {
		c.stop()
	}
	c.ctx = ctx
	c.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.ctx == ctx { // not replaced by a later operation meanwhile
			c.Conn.SetDeadline(time.Unix(1, 0))
		}
	})
	c.mu.Lock()
	c.stop = stop
	c.mu.Unlock()
}

// err returns the error of the current operation's context, if any.
func (c *timedConn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return nil
	}
	return c.ctx.Err()
}

// arm sets the deadline for the next read or write.
func (c *timedConn) arm() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var dl time.Time
	if c.timeout > 0 {
		dl = time.Now().Add(c.timeout)
	}
	if d, ok := ctx.Deadline(); ok && (dl.IsZero() || d.Before(dl)) {
		dl = d
	}
	return c.Conn.SetDeadline(dl)
}

func (c *timedConn) Read(p []byte) (int, error) {
	if err := c.arm(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	return n, c.timedOut(err)
}

func (c *timedConn) Write(p []byte) (int, error) {
	if err := c.arm(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	return n, c.timedOut(err)
}

// Close also releases the context watch.
func (c *timedConn) Close() error {
	c.mu.Lock()
	if c.stop != nil {
		c.stop()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// readLine reads one line of at most max octets and returns it without
// its CRLF or bare LF. The result is only valid until the next read.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull && len(long) <= max {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if len(line) > max {
		return nil, fmt.Errorf("line longer than %d octets: %w", max, lbsync.ErrProtocol)
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// reply is a parsed status line (RFC 1939 section 3).
type reply struct {
	ok bool
	// cont is a SASL continuation, "+ " and a base64 challenge (RFC 5034
	// section 4); only valid in reply to AUTH.
	cont bool
	// code is the response code (RFC 2449 section 8) without brackets,
	// upper case, or "".
	code string
	text string
}

// parseReply parses a status line: "+OK text", "-ERR text" or "+ text".
// The status indicators are upper case in RFC 1939; other cases are
// accepted. A response code is the bracketed first word of the text.
func parseReply(line string) (reply, error) {
	var r reply
	var rest string
	switch {
	case hasWord(line, "+OK"):
		r.ok, rest = true, line[3:]
	case hasWord(line, "-ERR"):
		rest = line[4:]
	case line == "+" || strings.HasPrefix(line, "+ "):
		r.cont, rest = true, line[1:]
	default:
		return r, fmt.Errorf("status line %q: %w", clip(line), lbsync.ErrProtocol)
	}
	rest = strings.TrimLeft(rest, " ")
	if !r.cont && strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i > 1 && validCode(rest[1:i]) {
			r.code, rest = strings.ToUpper(rest[1:i]), strings.TrimLeft(rest[i+1:], " ")
		}
	}
	r.text = rest
	return r, nil
}

// hasWord reports whether line is word, or word followed by a space,
// ignoring case.
func hasWord(line, word string) bool {
	if len(line) < len(word) || !strings.EqualFold(line[:len(word)], word) {
		return false
	}
	return len(line) == len(word) || line[len(word)] == ' '
}

// validCode checks a response code: resp-level *("/" resp-level), each
// level letters, digits and "-" (RFC 2449 section 8; digits for lenience).
func validCode(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, level := range strings.Split(s, "/") {
		if level == "" {
			return false
		}
		for _, c := range []byte(level) {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// clip shortens a line for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// checkArg refuses a command argument that would break the command line:
// CR, LF or NUL (RFC 1939 section 3: commands are terminated by CRLF).
func checkArg(what, s string) error {
	if strings.ContainsAny(s, "\r\n\x00") {
		return permanent("%s contains a line break or NUL", what)
	}
	return nil
}
