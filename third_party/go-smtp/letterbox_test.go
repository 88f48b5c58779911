package smtp

// Letterbox patch tests: the block-scanning dataReader and lineLimitReader
// against upstream's byte-at-a-time versions (copied below as refData and
// refLineLimit), on the same input, read with the same buffer sizes.

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// refDataRead is upstream v0.25.1's dataReader.Read.
func refDataRead(r *dataReader, b []byte) (n int, err error) {
	if r.limited {
		if r.n <= 0 {
			return 0, ErrDataTooLarge
		}
		if int64(len(b)) > r.n {
			b = b[0:r.n]
		}
	}
	const (
		stateBeginLine = iota
		stateDot
		stateDotCR
		stateCR
		stateData
		stateEOF
	)
	for n < len(b) && r.state != stateEOF {
		var c byte
		c, err = r.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			break
		}
		switch r.state {
		case stateBeginLine:
			if c == '.' {
				r.state = stateDot
				continue
			}
			if c == '\r' {
				r.state = stateCR
				break
			}
			r.state = stateData
		case stateDot:
			if c == '\r' {
				r.state = stateDotCR
				continue
			}
			r.state = stateData
		case stateDotCR:
			if c == '\n' {
				r.state = stateEOF
				continue
			}
			r.state = stateData
		case stateCR:
			if c == '\n' {
				r.state = stateBeginLine
				break
			}
			r.state = stateData
		case stateData:
			if c == '\r' {
				r.state = stateCR
			}
		}
		b[n] = c
		n++
	}
	if err == nil && r.state == stateEOF {
		err = io.EOF
	}
	if r.limited {
		r.n -= int64(n)
	}
	return
}

// refLineLimitRead is upstream v0.25.1's lineLimitReader.Read.
func refLineLimitRead(r *lineLimitReader, b []byte) (int, error) {
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
	for _, chr := range b[:n] {
		if chr == '\n' {
			r.curLineLength = 0
		}
		r.curLineLength++
		if r.curLineLength > r.LineLimit {
			return 0, ErrTooLongLine
		}
	}
	return n, nil
}

// chunkReader returns its data in reads of the given sizes (cycled), as
// a network connection hands out what has arrived.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := len(c.data)
	if len(c.sizes) > 0 {
		k = c.sizes[c.i%len(c.sizes)]
		c.i++
	}
	if k < 1 {
		k = 1
	}
	if k > len(b) {
		k = len(b)
	}
	if k > len(c.data) {
		k = len(c.data)
	}
	n := copy(b, c.data[:k])
	c.data = c.data[n:]
	return n, nil
}

// sizesOf turns fuzz bytes into read sizes of 1 to 256.
func sizesOf(seed []byte) []int {
	var s []int
	for _, x := range seed {
		s = append(s, int(x)+1)
	}
	return s
}

// compareData reads in through a new and an upstream dataReader, each
// over its own bufio.Reader of size bufSize fed in chunks of netSizes,
// with reads of readSizes bytes, and fails on the first difference in
// what a Read returns or in what is left unread.
func compareData(t *testing.T, in []byte, netSizes, readSizes []int, bufSize int, limit int64) {
	t.Helper()
	mk := func() *dataReader {
		r := &dataReader{r: bufio.NewReaderSize(&chunkReader{data: in, sizes: netSizes}, bufSize)}
		if limit > 0 {
			r.limited, r.n = true, limit
		}
		return r
	}
	got, want := mk(), mk()
	if len(readSizes) == 0 {
		readSizes = []int{4096}
	}
	var out []byte
	for i := 0; i < 10000; i++ {
		size := readSizes[i%len(readSizes)]
		gb, wb := make([]byte, size), make([]byte, size)
		gn, gerr := got.Read(gb)
		wn, werr := refDataRead(want, wb)
		if gn != wn || gerr != werr || !bytes.Equal(gb[:gn], wb[:wn]) {
			t.Fatalf("read %d of %d bytes after %q: got %d %q %v, want %d %q %v", i, size, out, gn, gb[:gn], gerr, wn, wb[:wn], werr)
		}
		out = append(out, gb[:gn]...)
		if gerr != nil {
			break
		}
	}
	gr, _ := io.ReadAll(got.r)
	wr, _ := io.ReadAll(want.r)
	if !bytes.Equal(gr, wr) {
		t.Fatalf("left unread: got %q, want %q", gr, wr)
	}
}

func TestDataReaderLikeUpstream(t *testing.T) {
	msgs := []string{
		"Subject: a\r\n\r\nbody\r\n.\r\n",
		"..dot stuffed\r\n.. \r\n...\r\n.\r\nafter",
		"bare\nLF\n.\nstill data\r\n.\r\n",
		"bare\rCR\r.\rX\r\n.\r\n",
		"\r\r\n.\r\nnot the end\r\n.\r\n",
		".\r\n",
		"\r\n.\r\n",
		".\rX\r\n.\r\n",
		"no end at all",
		"no end\r\n.",
		"no end\r\n.\r",
		"long line " + string(bytes.Repeat([]byte("x"), 20000)) + "\r\n.\r\n",
	}
	for _, m := range msgs {
		for _, net := range [][]int{nil, {1}, {2}, {3, 1}, {7}, {100}} {
			for _, rd := range [][]int{{1}, {2}, {5}, {4096}, {3, 17}} {
				for _, limit := range []int64{0, 1, 5, 30, 1 << 20} {
					compareData(t, []byte(m), net, rd, 16, limit)
					compareData(t, []byte(m), net, rd, 4096, limit)
				}
			}
		}
	}
}

func FuzzDataReaderLikeUpstream(f *testing.F) {
	f.Add([]byte("Subject: a\r\n\r\n..x\r\n.\r\n"), []byte{0}, []byte{255}, uint16(0))
	f.Add([]byte("a\r\n.\r"), []byte{1, 2}, []byte{0, 3}, uint16(4))
	f.Add([]byte("\r\r\n.\r\n\n.\n.\r\n"), []byte{2}, []byte{1}, uint16(0))
	f.Add([]byte(".\rX.\r\r\n.\r\n"), []byte{0, 0, 5}, []byte{7}, uint16(9))
	f.Fuzz(func(t *testing.T, in, netSeed, readSeed []byte, limit uint16) {
		compareData(t, in, sizesOf(netSeed), sizesOf(readSeed), 16, int64(limit))
	})
}

// compareLineLimit runs a new and an upstream lineLimitReader over the same
// chunked input and fails on the first difference.
func compareLineLimit(t *testing.T, in []byte, netSizes []int, limit, readSize int) {
	t.Helper()
	got := &lineLimitReader{R: &chunkReader{data: in, sizes: netSizes}, LineLimit: limit}
	want := &lineLimitReader{R: &chunkReader{data: in, sizes: netSizes}, LineLimit: limit}
	for i := 0; i < 10000; i++ {
		gb, wb := make([]byte, readSize), make([]byte, readSize)
		gn, gerr := got.Read(gb)
		wn, werr := refLineLimitRead(want, wb)
		if gn != wn || gerr != werr || !bytes.Equal(gb[:gn], wb[:wn]) {
			t.Fatalf("read %d: got %d %v, want %d %v", i, gn, gerr, wn, werr)
		}
		if (got.curLineLength > got.LineLimit) != (want.curLineLength > want.LineLimit) {
			t.Fatalf("read %d: over the limit: got %v, want %v", i, got.curLineLength > got.LineLimit, want.curLineLength > want.LineLimit)
		}
		if gerr != nil {
			return
		}
	}
}

func TestLineLimitReaderLikeUpstream(t *testing.T) {
	ins := []string{"", "\n", "abc\n", "abcd\nab\n", "abcde", "\n\n\nabcdef\n", "ab\r\ncd\r\nefgh\r\n"}
	for _, in := range ins {
		for _, limit := range []int{-1, 0, 1, 2, 3, 4, 5, 6} {
			for _, net := range [][]int{nil, {1}, {2}, {3}} {
				compareLineLimit(t, []byte(in), net, limit, 4)
				compareLineLimit(t, []byte(in), net, limit, 4096)
			}
		}
	}
}

func FuzzLineLimitReaderLikeUpstream(f *testing.F) {
	f.Add([]byte("abc\nde\n"), []byte{0, 1}, int8(3))
	f.Add([]byte("\n\n"), []byte{}, int8(1))
	f.Fuzz(func(t *testing.T, in, netSeed []byte, limit int8) {
		compareLineLimit(t, in, sizesOf(netSeed), int(limit), 64)
	})
}
