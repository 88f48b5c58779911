package mime

// Buffers reused within one call and between calls, so that parsing a
// mailbox does not allocate a fresh text buffer and a fresh bufio.Reader per
// part (issue 17: they were most of the 1.5 GB mime.Parse allocated in a
// sync of 19,000 messages). The pool holds no message data between calls
// that matters: a buffer's content is dead once the call that used it
// returns, and every use starts by resetting it.

import (
	"bufio"
	"io"
	"sync"
)

// Caps of what goes back into the pool, so that one huge message does not
// pin memory for the life of the process.
const (
	mimePoolMaxBuf     = 1 << 20 // bytes of one text buffer kept
	mimePoolMaxReaders = 16      // bufio.Readers kept (nesting levels in use at once)
)

// mimeScratch is the reusable memory of one Parse, Render or SavePart.
// It is used by one goroutine at a time.
type mimeScratch struct {
	readers []*bufio.Reader // free readers of mimeBufSize
	text    []byte          // raw text of the part being read
	conv    []byte          // the same text converted to UTF-8
}

// mimeScratchPool holds mimeScratch values between calls. A sync.Pool is
// the one piece of package-level state: it only caches memory, the values
// it hands out are reset before use, and it is safe for concurrent use.
var mimeScratchPool = sync.Pool{New: func() any { return new(mimeScratch) }}

func mimeGetScratch() *mimeScratch { return mimeScratchPool.Get().(*mimeScratch) }

// mimePutScratch returns s to the pool, dropping buffers over the caps.
func mimePutScratch(s *mimeScratch) {
	if cap(s.text) > mimePoolMaxBuf {
		s.text = nil
	}
	if cap(s.conv) > mimePoolMaxBuf {
		s.conv = nil
	}
	if len(s.readers) > mimePoolMaxReaders {
		clear(s.readers[mimePoolMaxReaders:])
		s.readers = s.readers[:mimePoolMaxReaders]
	}
	mimeScratchPool.Put(s)
}

// reader returns a bufio.Reader of mimeBufSize reading r.
func (s *mimeScratch) reader(r io.Reader) *bufio.Reader {
	if n := len(s.readers); n > 0 {
		br := s.readers[n-1]
		s.readers[n-1] = nil
		s.readers = s.readers[:n-1]
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, mimeBufSize)
}

// release takes back a reader that is no longer used; it drops the
// reference to the reader it wrapped.
func (s *mimeScratch) release(br *bufio.Reader) {
	br.Reset(nil)
	s.readers = append(s.readers, br)
}

// mimeReadAll reads r to its end into buf[:0], growing it as needed, and
// returns the bytes read. Unlike io.ReadAll it keeps the memory of buf.
func mimeReadAll(buf []byte, r io.Reader) ([]byte, error) {
	buf = buf[:0]
	if cap(buf) == 0 {
		buf = make([]byte, 0, 4096)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow by append's policy
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
