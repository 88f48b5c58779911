package imapsync

import (
	"bytes"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync"
)

// Fetched messages are held in memory only up to a budget: a FETCH of
// small messages, planned from their RFC822.SIZE, could otherwise be
// made to hold any amount by a server that announces bigger literals
// than it said (each literal is bounded by Config.MaxLiteral, not the
// batch). A literal past the budget, or over bodyMemMax, goes to an
// unlinked temporary file, which the store then reads like any source.

// literal is one fetched literal: in memory, or in a temporary file.
type literal struct {
	mem  []byte
	file *os.File
	n    int64
	pool *litPool // takes mem back on Release
}

// litPool keeps the buffers of released literals for the next ones. A
// full sync reads its whole mailbox through literals (half a gigabyte
// for 19,000 messages); allocated anew each time, they were a sixth of
// the sync's allocations, and under the sync command's memory limit
// every allocation brings the next collection closer. Buffers are kept by
// size class (eight per doubling, so at most an eighth is wasted), up to
// poolMax octets in all: what three chunks in flight need.
type litPool struct {
	mu    sync.Mutex
	free  map[int][][]byte // by class size
	bytes int
}

const (
	poolMin = 4 << 10
	poolMax = 3 * batchMem
)

// poolClass is the capacity of the buffers that hold n octets.
func poolClass(n int) int {
	if n <= poolMin {
		return poolMin
	}
	step := 1 << max(0, bits.Len(uint(n-1))-4) // 8 classes per doubling
	return (n + step - 1) / step * step
}

// get returns a buffer of length n.
func (p *litPool) get(n int) []byte {
	if p == nil || n > bodyMemMax {
		return make([]byte, n)
	}
	c := poolClass(n)
	p.mu.Lock()
	if l := p.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		p.bytes -= cap(b)
		p.mu.Unlock()
		return b[:n]
	}
	p.mu.Unlock()
	return make([]byte, n, c)
}

// put keeps b for a later get, unless the pool is full.
func (p *litPool) put(b []byte) {
	c := cap(b)
	if p == nil || c != poolClass(c) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+c > poolMax {
		return
	}
	if p.free == nil {
		p.free = map[int][][]byte{}
	}
	p.free[c] = append(p.free[c], b[:0])
	p.bytes += c
}

// emptyPlaceholder stands for a message of zero octets on the server: the
// store refuses an empty message (store.ErrEmptyMessage), and a message
// the server has must be in the store, or the local count differs from
// the server's and sync would fetch it again every time. It is a header
// block of one field, which marks it, and no body: the user sees an
// empty message.
const emptyPlaceholder = "X-Letterbox-Empty: the message on the server is empty (0 bytes)\r\n\r\n"

// placeholder returns the literal of an empty server message.
func placeholder() *literal {
	return &literal{mem: []byte(emptyPlaceholder), n: int64(len(emptyPlaceholder))}
}

// readLiteral reads a literal of size octets from r into memory (a buffer
// of pool) when it fits in *budget (which it then shrinks) and
// bodyMemMax, into a temporary file otherwise. A literal cut short is an
// error.
func readLiteral(r io.Reader, size int64, budget *int64, pool *litPool) (*literal, error) {
	if size <= bodyMemMax && size <= *budget {
		b := pool.get(int(size))
		if _, err := io.ReadFull(r, b); err != nil {
			pool.put(b)
			return nil, err
		}
		*budget -= size
		return &literal{mem: b, n: size, pool: pool}, nil
	}
	f, err := os.CreateTemp("", "letterbox-fetch-*")
	if err != nil {
		return nil, fmt.Errorf("spill a %d-byte message: %w", size, err)
	}
	os.Remove(f.Name()) // unlinked: gone with the descriptor, even after a crash
	n, err := io.Copy(f, io.LimitReader(r, size))
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &literal{file: f, n: size}, nil
}

// Len returns the literal's size.
func (l *literal) Len() int64 { return l.n }

// Open returns a reader of the whole literal (AppendItem.Open).
func (l *literal) Open() (io.ReadCloser, error) {
	if l.file != nil {
		return io.NopCloser(io.NewSectionReader(l.file, 0, l.n)), nil
	}
	return io.NopCloser(bytes.NewReader(l.mem)), nil
}

// Prefix returns the first n octets at most (enough for a header block).
func (l *literal) Prefix(n int) []byte {
	if l.file == nil {
		return l.mem[:min(int64(n), l.n)]
	}
	b := make([]byte, min(int64(n), l.n))
	k, _ := l.file.ReadAt(b, 0)
	return b[:k]
}

// Release frees the literal's temporary file, if any, and gives its
// buffer back to its pool: nothing may read the literal afterwards.
func (l *literal) Release() {
	if l == nil {
		return
	}
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
	if l.pool != nil && l.mem != nil {
		l.pool.put(l.mem)
		l.mem, l.pool = nil, nil
	}
}

// releaseAll releases the literals of headers.
func releaseAll(hs []header) {
	for _, h := range hs {
		h.data.Release()
	}
}
