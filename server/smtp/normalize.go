package smtpd

import (
	"bufio"
	"io"

	"github.com/emersion/go-smtp"
)

// errBareLF is returned when RejectBareLF is set and the data has a CR or
// LF that is not part of CRLF.
var errBareLF = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
	Message: "Message contains bare CR or LF; send CRLF line ends (RFC 5321 section 2.3.8)"}

// crlfReader turns every bare CR and bare LF into CRLF as it streams, so
// that no line end the server stores or relays can be read differently by
// the next hop (SMTP smuggling). With reject set it fails instead.
type crlfReader struct {
	r      *bufio.Reader
	reject bool
	pend   []byte // output not yet returned
	buf    [2]byte
}

func newCRLFReader(r io.Reader, reject bool) *crlfReader {
	return &crlfReader{r: bufio.NewReaderSize(r, 64<<10), reject: reject}
}

func (c *crlfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(c.pend) > 0 {
			k := copy(p[n:], c.pend)
			c.pend = c.pend[k:]
			n += k
			continue
		}
		b, err := c.r.ReadByte()
		if err != nil {
			if n > 0 && err == io.EOF {
				return n, nil
			}
			return n, err
		}
		switch b {
		case '\r':
			next, err := c.r.ReadByte()
			if err == nil && next == '\n' {
				c.buf = [2]byte{'\r', '\n'}
				c.pend = c.buf[:2]
				continue
			}
			if err == nil {
				c.r.UnreadByte()
			}
			if c.reject {
				return n, errBareLF
			}
			c.buf = [2]byte{'\r', '\n'}
			c.pend = c.buf[:2]
		case '\n':
			if c.reject {
				return n, errBareLF
			}
			c.buf = [2]byte{'\r', '\n'}
			c.pend = c.buf[:2]
		default:
			p[n] = b
			n++
		}
	}
	return n, nil
}
