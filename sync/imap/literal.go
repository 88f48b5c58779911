package imapsync

import (
	"bytes"
	"fmt"
	"io"
	"os"
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

// readLiteral reads a literal of size octets from r into memory when it
// fits in *budget (which it then shrinks) and bodyMemMax, into a
// temporary file otherwise. A literal cut short is an error.
func readLiteral(r io.Reader, size int64, budget *int64) (*literal, error) {
	if size <= bodyMemMax && size <= *budget {
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		*budget -= size
		return &literal{mem: b, n: size}, nil
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

// Release frees the literal's temporary file, if any.
func (l *literal) Release() {
	if l != nil && l.file != nil {
		l.file.Close()
		l.file = nil
	}
}

// releaseAll releases the literals of headers.
func releaseAll(hs []header) {
	for _, h := range hs {
		h.data.Release()
	}
}
