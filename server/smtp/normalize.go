package smtpd

import (
	"bufio"
	"bytes"
	"io"

	"github.com/emersion/go-smtp"
)

// errBareLF is returned when RejectBareLF is set and the data has a CR or
// LF that is not part of CRLF.
var errBareLF = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
	Message: "Message contains bare CR or LF; send CRLF line ends (RFC 5321 section 2.3.8)"}

// crlfReader turns every bare CR and bare LF into CRLF as it streams, so
// that no line end the server stores or relays can be read differently by
// the next hop (SMTP smuggling). With reject set it fails instead. Lines
// that are already clean (the normal case) pass through without a copy.
type crlfReader struct {
	r      *bufio.Reader
	reject bool
	pend   []byte // output not yet returned
	out    []byte // buffer for fixed lines
	heldCR bool   // the previous chunk ended in CR
	err    error
}

// crlfBufSize is the normaliser's read buffer; longer lines are read in
// pieces.
const crlfBufSize = 16 << 10

func newCRLFReader(r io.Reader, reject bool) *crlfReader {
	return &crlfReader{r: bufio.NewReaderSize(r, crlfBufSize), reject: reject}
}

// Read fills p with as many lines as are at hand (one line per call made
// every reader above it, the parser and the file writer, pay per line).
func (c *crlfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(c.pend) == 0 {
			// Read on only without waiting: when nothing is returned
			// yet, or more input is buffered.
			if c.err != nil || (n > 0 && c.r.Buffered() == 0) {
				break
			}
			if err := c.next(); err != nil {
				c.err = err
			}
			continue
		}
		k := copy(p[n:], c.pend)
		c.pend = c.pend[k:]
		n += k
	}
	if n == 0 && c.err != nil {
		return 0, c.err
	}
	return n, nil
}

// next reads a line (or a buffer-full piece of one) into pend.
func (c *crlfReader) next() error {
	line, err := c.r.ReadSlice('\n')
	partial := err == bufio.ErrBufferFull
	if partial {
		err = nil
	}
	if c.heldCR {
		c.heldCR = false
		if len(line) > 0 && line[0] == '\n' {
			c.out = append(c.out[:0], '\r', '\n')
			c.pend = c.out
			line = line[1:]
			return c.fix(line, partial, err, true)
		}
		if c.reject {
			return errBareLF
		}
		c.out = append(c.out[:0], '\r', '\n')
		return c.fix(line, partial, err, true)
	}
	return c.fix(line, partial, err, false)
}

// fix appends line, with bare CR/LF repaired, to pend (after what out
// already holds when keep is set).
func (c *crlfReader) fix(line []byte, partial bool, err error, keep bool) error {
	if !keep {
		c.out = c.out[:0]
		// Fast path: a clean line passes through as is.
		cr := bytes.IndexByte(line, '\r')
		if err == nil && !partial && len(line) >= 2 && cr == len(line)-2 {
			c.pend = line
			return nil
		}
		if cr < 0 && bytes.IndexByte(line, '\n') < 0 {
			c.pend = line
			return err
		}
	}
	for i := 0; i < len(line); i++ {
		switch b := line[i]; b {
		case '\r':
			if i+1 < len(line) && line[i+1] == '\n' {
				c.out = append(c.out, '\r', '\n')
				i++
				continue
			}
			if i == len(line)-1 && partial {
				c.heldCR = true
				continue
			}
			if c.reject {
				return errBareLF
			}
			c.out = append(c.out, '\r', '\n')
		case '\n':
			if c.reject {
				return errBareLF
			}
			c.out = append(c.out, '\r', '\n')
		default:
			c.out = append(c.out, b)
		}
	}
	c.pend = c.out
	if len(c.pend) == 0 && err == nil {
		return nil
	}
	return err
}
