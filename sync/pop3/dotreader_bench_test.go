package pop3

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// BenchmarkDotReader reads a 10 MB message of 76-octet lines through the
// dot reader, without and with the message bound (wireLimit), to show
// what the bound costs per octet.
func BenchmarkDotReader(b *testing.B) {
	line := strings.Repeat("x", 74) + "\r\n"
	body := []byte(strings.Repeat(line, 10<<20/len(line)) + ".\r\n")
	for _, bc := range []struct {
		name  string
		limit *wireLimit
	}{{"unbounded", nil}, {"bounded", &wireLimit{max: 100 << 20, what: "message"}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			buf := make([]byte, 32<<10)
			for b.Loop() {
				d := newDotReader(bufio.NewReaderSize(bytes.NewReader(body), 64<<10), nil)
				d.limit = bc.limit
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{d}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
