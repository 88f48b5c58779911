package smtp

import (
	"bytes"
	"errors"
	"io"
)

var ErrTooLongLine = errors.New("smtp: too long a line in input stream")

// lineLimitReader reads from the underlying Reader but restricts
// line length of lines in input stream to a certain length.
//
// If line length exceeds the limit - Read returns ErrTooLongLine
type lineLimitReader struct {
	R         io.Reader
	LineLimit int

	curLineLength int
}

func (r *lineLimitReader) Read(b []byte) (int, error) {
	if r.curLineLength > r.LineLimit && r.LineLimit > 0 {
		return 0, ErrTooLongLine
	}

	n, err := r.R.Read(b)
	if err != nil {
		return n, err
	}

	if r.LineLimit == 0 {
		return n, nil
	}

	// Letterbox patch: the lines are measured with bytes.IndexByte, not
	// one byte at a time. As before, a line's length counts the LF that
	// ended the line before it, and the read fails as soon as a line is
	// longer than the limit.
	if n == 0 {
		return n, nil
	}
	p := b[:n]
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			r.curLineLength += len(p)
			break
		}
		r.curLineLength += i
		if r.curLineLength > r.LineLimit {
			return 0, ErrTooLongLine
		}
		r.curLineLength = 1
		if r.curLineLength > r.LineLimit {
			return 0, ErrTooLongLine
		}
		p = p[i+1:]
	}
	if r.curLineLength > r.LineLimit {
		return 0, ErrTooLongLine
	}

	return n, nil
}
