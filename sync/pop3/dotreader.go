package pop3

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// dotReader reads the body of a multi-line response (RFC 1939 section 3)
// as a stream, whatever the length of its lines:
//
//   - a line that is "." alone ends the response (".\r\n", or ".\n" from a
//     server with bare LF line ends); it is consumed and not returned;
//   - a line beginning with "." otherwise had a "." prepended by the
//     server (byte-stuffing), which is removed: ".." becomes ".";
//   - line ends come out as CRLF: a bare LF becomes CRLF, a CR not
//     followed by LF is passed on as it is.
//
// The connection ending before the terminating line is
// io.ErrUnexpectedEOF, never a short message that looks complete. Errors
// are sticky: once Read returned one, it returns it again without
// touching the connection, so a consumer may read again after the end.
type dotReader struct {
	br *bufio.Reader
	// bol is set at the beginning of a line.
	bol bool
	// prevCR is set when the last octet returned was a CR.
	prevCR bool
	// lfPending is set when the CR of a bare LF turned CRLF was returned
	// but the LF not yet.
	lfPending bool
	err       error
	// wire counts the octets consumed from the connection.
	wire int64
	// limit, when set, fails the response once wire passes max:
	// the server is hostile or broken (the bounds are on the wire, where
	// they cost nothing to count).
	limit *wireLimit
	// onErr, when set, is told about a connection failure (not io.EOF).
	onErr func(error) error
}

func newDotReader(br *bufio.Reader, onErr func(error) error) *dotReader {
	return &dotReader{br: br, bol: true, onErr: onErr}
}

// Read returns the unstuffed body, then io.EOF after the terminating line.
func (d *dotReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n := 0
	for n < len(p) && d.err == nil {
		if d.lfPending {
			p[n] = '\n'
			n++
			d.lfPending, d.prevCR, d.bol = false, false, true
			continue
		}
		if d.bol && !d.startLine() {
			break
		}
		// Copy the rest of the line, or what fits, from the buffer.
		if _, err := d.br.Peek(1); err != nil {
			d.fail(err)
			break
		}
		buf, _ := d.br.Peek(d.br.Buffered())
		if room := len(p) - n; len(buf) > room {
			buf = buf[:room]
		}
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			c := copy(p[n:], buf)
			n += c
			d.consume(c)
			d.prevCR = buf[c-1] == '\r'
			continue
		}
		crBefore := d.prevCR
		if i > 0 {
			crBefore = buf[i-1] == '\r'
		}
		if crBefore {
			c := copy(p[n:], buf[:i+1])
			n += c
			d.consume(c)
			d.prevCR, d.bol = false, true
			continue
		}
		// A bare LF: the text before it, then CR now and LF next. The
		// CR fits: buf was cut to the room left and holds the LF.
		c := copy(p[n:], buf[:i])
		n += c
		d.consume(i + 1)
		p[n] = '\r'
		n++
		d.lfPending = true
	}
	if n > 0 {
		return n, nil
	}
	return 0, d.err
}

// startLine looks at the beginning of a line: it ends the response on the
// terminating line, removes a stuffing dot, and reports whether there is
// line content to copy.
func (d *dotReader) startLine() bool {
	b, err := d.br.Peek(1)
	if err != nil {
		d.fail(err)
		return false
	}
	d.bol = false
	if b[0] != '.' {
		return true
	}
	b, err = d.br.Peek(2)
	if err != nil {
		d.fail(err)
		return false
	}
	switch b[1] {
	case '\n':
		d.consume(2)
		d.err = io.EOF
		return false
	case '\r':
		b, err = d.br.Peek(3)
		if err != nil {
			d.fail(err)
			return false
		}
		if b[2] == '\n' {
			d.consume(3)
			d.err = io.EOF
			return false
		}
	}
	d.consume(1) // the stuffing dot
	return true
}

func (d *dotReader) consume(n int) {
	d.br.Discard(n)
	d.wire += int64(n)
	if d.limit != nil && d.wire > d.limit.max {
		d.overLimit()
	}
}

// overLimit fails the response that passed its bound (out of consume,
// which stays small enough to inline).
func (d *dotReader) overLimit() {
	if d.err == nil {
		d.fail(fmt.Errorf("%s longer than %s: hostile or broken server%s: %w", d.limit.what, size(d.limit.max), d.limit.hint, lbsync.ErrProtocol))
	}
}

// wireLimit bounds a multi-line response.
type wireLimit struct {
	max int64
	// what names the response ("message"), hint the setting that moves
	// the bound, if any (" (max_message_size)").
	what, hint string
}

// size formats a byte bound: "1 MiB", "100 MiB", "512 KiB", "300 bytes".
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// fail records a read error; the connection ending before the
// terminating line is io.ErrUnexpectedEOF.
func (d *dotReader) fail(err error) {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if d.onErr != nil {
		err = d.onErr(err)
	}
	d.err = err
}

// Close reads and discards the rest of the response, so that the
// connection is ready for the next reply.
func (d *dotReader) Close() error {
	if d.err == nil {
		var buf [4096]byte
		for d.err == nil {
			d.Read(buf[:])
		}
	}
	if d.err == io.EOF {
		return nil
	}
	return d.err
}

// done reports whether the response was read to its end.
func (d *dotReader) done() bool { return d.err == io.EOF }
