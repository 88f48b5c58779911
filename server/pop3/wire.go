package pop3d

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// wireWriter turns a stored message, written to it in any chunks, into
// its form on the wire (RFC 1939 section 3 and 11):
//
//   - a LF not preceded by CR becomes CRLF; a CR not followed by LF is
//     passed on as it is;
//   - a message that does not end with a line end gets CRLF (only LF if
//     it ends with CR);
//   - with stuff set, a line beginning with "." gets another "." in front
//     and Close appends the terminating ".\r\n";
//   - with top >= 0 only the header, the empty line after it and top lines
//     of the body pass (the TOP command); the rest is read and dropped.
//
// N counts the octets of the message as sent, without stuffing and the
// terminator: the size STAT and LIST report. With out nil it only counts.
// The state is kept between writes, so a CRLF split across two writes is
// one line end.
type wireWriter struct {
	out   *bufio.Writer
	stuff bool
	top   int // body lines still to send; -1 for all

	// N is the message size so far, in octets, as defined above.
	N int64

	state   int   // wsBegin, wsData or wsCR
	lineLen int   // octets of the current line so far
	inBody  bool  // the empty line after the header was passed
	done    bool  // TOP limit reached: drop the rest
	err     error // first error of out
}

// States of wireWriter.
const (
	wsBegin = iota // at the beginning of a line
	wsData         // in a line, last octet not CR
	wsCR           // in a line, last octet CR
)

// newWireWriter returns a wireWriter onto out (nil to only count). top is
// the number of body lines for TOP, or -1 for the whole message.
func newWireWriter(out *bufio.Writer, stuff bool, top int) *wireWriter {
	return &wireWriter{out: out, stuff: stuff, top: top}
}

func (w *wireWriter) put(b []byte) {
	if w.out == nil || w.err != nil {
		return
	}
	_, w.err = w.out.Write(b)
}

func (w *wireWriter) putString(s string) {
	if w.out == nil || w.err != nil {
		return
	}
	_, w.err = w.out.WriteString(s)
}

// errTopDone stops the copy of a message once TOP has sent its lines.
var errTopDone = errors.New("pop3: TOP lines sent")

// Write converts p. It reports len(p) unless out failed, with errTopDone
// once the TOP limit is reached.
func (w *wireWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 && !w.done && w.err == nil {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		if len(seg) > 0 {
			if w.state == wsBegin && w.stuff && seg[0] == '.' {
				w.putString(".")
			}
			w.put(seg)
			w.N += int64(len(seg))
			w.lineLen += len(seg)
			w.state = wsData
			if seg[len(seg)-1] == '\r' {
				w.state = wsCR
			}
		}
		if i < 0 {
			break
		}
		w.endLine()
		p = p[i+1:]
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.done {
		return total, errTopDone
	}
	return total, nil
}

// endLine writes the line end for a LF read in the input and does the TOP
// accounting.
func (w *wireWriter) endLine() {
	empty := w.lineLen == 0 || (w.lineLen == 1 && w.state == wsCR)
	if w.state == wsCR {
		w.putString("\n")
		w.N++
	} else {
		w.putString("\r\n")
		w.N += 2
	}
	w.state, w.lineLen = wsBegin, 0
	if w.top < 0 {
		return
	}
	switch {
	case !w.inBody && empty:
		w.inBody = true
		w.done = w.top == 0
	case w.inBody:
		w.top--
		w.done = w.top == 0
	}
}

// Close ends the last line if it has no end and, when stuffing, writes
// the terminating ".\r\n". It does not close out.
func (w *wireWriter) Close() error {
	switch w.state {
	case wsData:
		w.putString("\r\n")
		w.N += 2
	case wsCR:
		w.putString("\n")
		w.N++
	}
	w.state = wsBegin
	if w.stuff {
		w.putString(".\r\n")
	}
	return w.err
}

// wireSize returns the size of a message as sent (see wireWriter).
func wireSize(r io.Reader) (int64, error) {
	w := newWireWriter(nil, false, -1)
	if _, err := io.Copy(w, r); err != nil {
		return 0, err
	}
	w.Close()
	return w.N, nil
}
