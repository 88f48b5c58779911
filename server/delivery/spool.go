package delivery

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// spoolMem is how much of a message the spool keeps in memory; the rest
// goes to a temporary file. Most mail is far smaller.
const spoolMem = 1 << 20

// spool holds one message while it is checked and copied to each
// recipient: the client's data is read once, and every copy (each with
// its own trace fields in front) is read from here.
type spool struct {
	buf  *bytes.Buffer
	f    *os.File // the part past spoolMem, if any
	size int64
	pool *sync.Pool
}

// spoolPools hold what reading a message into a spool needs, for reuse
// (a new 16 KiB reader per message was the largest garbage of a busy MX).
type spoolPools struct {
	bufs    sync.Pool // *bytes.Buffer, the spool's memory
	readers sync.Pool // *bufio.Reader of spoolReadSize, over the client's data
}

// spoolReadSize is the read buffer over the client's data.
const spoolReadSize = 16 << 10

func newSpoolPools() *spoolPools {
	p := &spoolPools{}
	p.bufs.New = func() any { return new(bytes.Buffer) }
	p.readers.New = func() any { return bufio.NewReaderSize(nil, spoolReadSize) }
	return p
}

// newSpool reads r into a spool, dropping the header fields
// Authentication-Results that claim authservID (RFC 8601 section 5: a
// receiver must not let a sender forge its own results). Large messages
// go to a file in dir.
func newSpool(r io.Reader, dir, authservID string, pools *spoolPools) (*spool, error) {
	sp := &spool{buf: pools.bufs.Get().(*bytes.Buffer), pool: &pools.bufs}
	sp.buf.Reset()
	w := &spoolWriter{sp: sp, dir: dir}
	br := pools.readers.Get().(*bufio.Reader)
	br.Reset(r)
	err := stripAuthResults(w, br, authservID)
	br.Reset(nil)
	pools.readers.Put(br)
	if err != nil {
		sp.Close()
		return nil, err
	}
	return sp, nil
}

// Reader returns a new reader of the whole message.
func (sp *spool) Reader() io.Reader {
	mem := bytes.NewReader(sp.buf.Bytes())
	if sp.f == nil {
		return mem
	}
	return io.MultiReader(mem, io.NewSectionReader(sp.f, 0, sp.size-int64(sp.buf.Len())))
}

// Close removes the file and gives the buffer back.
func (sp *spool) Close() {
	if sp.f != nil {
		sp.f.Close()
		sp.f = nil
	}
	if sp.buf != nil && sp.buf.Cap() <= spoolMem*2 {
		sp.pool.Put(sp.buf)
	}
	sp.buf = nil
}

type spoolWriter struct {
	sp  *spool
	dir string
}

func (w *spoolWriter) Write(p []byte) (int, error) {
	sp := w.sp
	n := len(p)
	if sp.f == nil {
		k := min(len(p), spoolMem-sp.buf.Len())
		sp.buf.Write(p[:k])
		sp.size += int64(k)
		p = p[k:]
		if len(p) == 0 {
			return n, nil
		}
		f, err := os.CreateTemp(w.dir, "spool-*")
		if err != nil {
			return 0, fmt.Errorf("spool: %w", err)
		}
		// Unlinked at once: nothing needs the name, and a crash leaves
		// nothing behind.
		os.Remove(f.Name())
		sp.f = f
	}
	k, err := sp.f.Write(p)
	sp.size += int64(k)
	if err != nil {
		return 0, fmt.Errorf("spool: %w", err)
	}
	return n, nil
}

// maxHeldField bounds an Authentication-Results field held while deciding
// whether to drop it; a longer one is dropped.
const maxHeldField = 64 << 10

// stripAuthResults copies a message from br to w without the header
// fields Authentication-Results whose authserv-id is authservID. It
// streams: only such a field is held in memory, and the body is copied
// as is.
func stripAuthResults(w io.Writer, br *bufio.Reader, authservID string) error {
	var held []byte // an Authentication-Results field being read
	holding, tooLong := false, false
	flush := func() error {
		if holding && !tooLong && !strings.EqualFold(authservIDOf(held), authservID) {
			if _, err := w.Write(held); err != nil {
				return err
			}
		}
		held, holding, tooLong = held[:0], false, false
		return nil
	}
	atLineStart := true
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			switch {
			case !atLineStart:
				// The rest of a line longer than the buffer.
			case line[0] == ' ' || line[0] == '\t':
				// A continuation of the field before.
			default:
				if ferr := flush(); ferr != nil {
					return ferr
				}
				if isBlank(line) || bytes.IndexByte(line, ':') < 0 {
					// End of the header: the rest is copied as is.
					if _, werr := w.Write(line); werr != nil {
						return werr
					}
					_, cerr := io.Copy(w, br)
					return cerr
				}
				holding = hasFieldName(line, "Authentication-Results")
			}
			if holding {
				if len(held)+len(line) > maxHeldField {
					tooLong = true
				} else if !tooLong {
					held = append(held, line...)
				}
			} else if _, werr := w.Write(line); werr != nil {
				return werr
			}
			atLineStart = line[len(line)-1] == '\n'
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return err
		}
	}
}

func isBlank(line []byte) bool {
	return len(bytes.TrimRight(line, "\r\n")) == 0
}

// hasFieldName reports whether a header line starts the named field.
func hasFieldName(line []byte, name string) bool {
	i := bytes.IndexByte(line, ':')
	return i >= 0 && strings.EqualFold(strings.TrimRight(string(line[:i]), " \t"), name)
}

// authservIDOf returns the authserv-id of an Authentication-Results field
// (RFC 8601 section 2.2): the first token of its value, after comments
// and folding white space.
func authservIDOf(field []byte) string {
	v := string(field[bytes.IndexByte(field, ':')+1:])
	depth := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0, c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			end := strings.IndexAny(v[i:], "; \t\r\n(")
			if end < 0 {
				return v[i:]
			}
			return v[i : i+end]
		}
	}
	return ""
}
