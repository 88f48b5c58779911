package smtpd

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// refCRLF is the obvious byte-at-a-time normalisation.
func refCRLF(in []byte) []byte {
	var out []byte
	for i := 0; i < len(in); i++ {
		switch in[i] {
		case '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(in) && in[i+1] == '\n' {
				i++
			}
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, in[i])
		}
	}
	return out
}

func TestCRLFReader(t *testing.T) {
	tests := []string{
		"", "a", "a\r\n", "a\nb\n", "a\rb", "\r", "\n", "\r\r\n\n", "x\r\n.\r\n", "hi\n.\nMAIL FROM:<e@a>\r\n",
		strings.Repeat("y", 70000) + "\r\n" + strings.Repeat("z", 65535) + "\r\n\r",
	}
	for _, in := range tests {
		want := refCRLF([]byte(in))
		for name, r := range map[string]io.Reader{"whole": strings.NewReader(in), "bytewise": iotest.OneByteReader(strings.NewReader(in))} {
			got, err := io.ReadAll(newCRLFReader(r, false))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s %.40q: got %.40q, %v; want %.40q", name, in, got, err, want)
			}
		}
		_, err := io.ReadAll(newCRLFReader(strings.NewReader(in), true))
		clean := bytes.Equal(want, []byte(in))
		if clean != (err == nil) || (err != nil && !errors.Is(err, errBareLF)) {
			t.Errorf("reject %.40q: %v (clean=%v)", in, err, clean)
		}
	}
}

func FuzzCRLFReader(f *testing.F) {
	for _, s := range []string{"a\r\nb", "a\nb\r", "\r\r\n", ".\n.\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := io.ReadAll(newCRLFReader(iotest.HalfReader(bytes.NewReader(in)), false))
		if err != nil || !bytes.Equal(got, refCRLF(in)) {
			t.Fatalf("%q: got %q, %v", in, got, err)
		}
	})
}

// TestCRLFReaderBatchesWithoutWaiting: one Read returns every line already
// at hand, and never waits for more input once it has something.
func TestCRLFReaderBatchesWithoutWaiting(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("one\r\ntwo\nthree\r\n")) // then the writer stays open
	c := newCRLFReader(pr, false)
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		got <- string(buf[:n])
	}()
	select {
	case s := <-got:
		if s != "one\r\ntwo\r\nthree\r\n" {
			t.Errorf("first Read = %q, want the three lines", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read waited for input beyond what was at hand")
	}
}
