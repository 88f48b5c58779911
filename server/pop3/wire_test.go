package pop3d

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// wire runs a message through a stuffing wireWriter, in one write or one
// octet at a time, and returns the output and the counted size.
func wire(t testing.TB, in []byte, top int, bytewise bool) ([]byte, int64) {
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	w := newWireWriter(bw, true, top)
	var err error
	if bytewise {
		for i := range in {
			if _, err = w.Write(in[i : i+1]); err != nil {
				break
			}
		}
	} else {
		_, err = w.Write(in)
	}
	if err != nil && !errors.Is(err, errTopDone) {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	bw.Flush()
	return out.Bytes(), w.N
}

func TestWireWriter(t *testing.T) {
	tests := []struct {
		name string
		in   string
		top  int
		want string // on the wire, terminator included
	}{
		{"crlf kept", "a\r\nb\r\n", -1, "a\r\nb\r\n.\r\n"},
		{"lf converted", "a\nb\n", -1, "a\r\nb\r\n.\r\n"},
		{"mixed", "a\r\nb\nc\r\n", -1, "a\r\nb\r\nc\r\n.\r\n"},
		{"no final line end", "a\nb", -1, "a\r\nb\r\n.\r\n"},
		{"final lone cr", "a\r", -1, "a\r\n.\r\n"},
		{"lone cr inside", "a\rb\n", -1, "a\rb\r\n.\r\n"},
		{"cr cr lf", "a\r\r\n", -1, "a\r\r\n.\r\n"},
		{"dots stuffed", ".a\n..b\n.\nc.\n", -1, "..a\r\n...b\r\n..\r\nc.\r\n.\r\n"},
		{"dot first line", ".", -1, "..\r\n.\r\n"},
		{"dot after lone cr not stuffed", "x\r.y\n", -1, "x\r.y\r\n.\r\n"},
		{"empty", "", -1, ".\r\n"},
		{"blank lines", "\n\n", -1, "\r\n\r\n.\r\n"},
		{"top 0", "H: 1\nI: 2\n\nb1\nb2\n", 0, "H: 1\r\nI: 2\r\n\r\n.\r\n"},
		{"top 1", "H: 1\r\n\r\nb1\r\nb2\r\n", 1, "H: 1\r\n\r\nb1\r\n.\r\n"},
		{"top more than body", "H: 1\n\nb1", 5, "H: 1\r\n\r\nb1\r\n.\r\n"},
		{"top header only", "H: 1\n", 0, "H: 1\r\n.\r\n"},
		{"top header without end", "H: 1", 0, "H: 1\r\n.\r\n"},
		{"top stuffed body", "H: 1\n\n.x\ny\n", 1, "H: 1\r\n\r\n..x\r\n.\r\n"},
		{"top cr line is blank", "H: 1\r\n\r\n\r\nb\r\n", 1, "H: 1\r\n\r\n\r\n.\r\n"},
		{"top cr cr line not blank", "H: 1\n\r\r\nb\n\nc\n", 0, "H: 1\r\n\r\r\nb\r\n\r\n.\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, bytewise := range []bool{false, true} {
				got, n := wire(t, []byte(tc.in), tc.top, bytewise)
				if string(got) != tc.want {
					t.Fatalf("bytewise=%v: got %q, want %q", bytewise, got, tc.want)
				}
				if want := int64(len(unstuff(t, got))); n != want {
					t.Fatalf("bytewise=%v: counted %d, %d octets sent", bytewise, n, want)
				}
			}
			if tc.top < 0 {
				n, err := wireSize(strings.NewReader(tc.in))
				if err != nil {
					t.Fatal(err)
				}
				if want := int64(len(unstuff(t, []byte(tc.want)))); n != want {
					t.Fatalf("wireSize %d, want %d", n, want)
				}
			}
		})
	}
}

// unstuff decodes a dot-stuffed multi-line body (RFC 1939 section 3): the
// terminator must be the end and only the end.
func unstuff(t testing.TB, b []byte) []byte {
	t.Helper()
	var out []byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			t.Fatalf("unterminated line %q", b)
		}
		line := b[:i]
		b = b[i+2:]
		if string(line) == "." {
			if len(b) > 0 {
				t.Fatalf("terminator before the end; %q follows", b)
			}
			return out
		}
		out = append(out, bytes.TrimPrefix(line, []byte("."))...)
		out = append(out, "\r\n"...)
	}
	t.Fatal("no terminator")
	return nil
}

// normalize is the reference of what a message looks like on the wire
// before stuffing.
func normalize(b []byte) []byte {
	var out []byte
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	switch {
	case len(out) == 0 || out[len(out)-1] == '\n':
	case out[len(out)-1] == '\r':
		out = append(out, '\n')
	default:
		out = append(out, "\r\n"...)
	}
	return out
}

// FuzzWire checks, for any stored message, that what is sent decodes to
// the normalised message, whatever the chunking, that the terminator
// appears only at the end, that every LF goes with a CR, and that the
// counted size is what the client receives.
func FuzzWire(f *testing.F) {
	for _, s := range []string{msgOne, msgTwo, msgThree, ".\r\n", "\r", "\n", "a\r\r\n.", "..\n.\r\n\r.\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, n := wire(t, in, -1, false)
		got2, n2 := wire(t, in, -1, true)
		if !bytes.Equal(got, got2) || n != n2 {
			t.Fatalf("chunking changes output: %q vs %q", got, got2)
		}
		for i, c := range got {
			if c == '\n' && (i == 0 || got[i-1] != '\r') {
				t.Fatalf("bare LF at %d in %q", i, got)
			}
		}
		body := unstuff(t, got)
		if want := normalize(in); !bytes.Equal(body, want) {
			t.Fatalf("decoded %q, want %q", body, want)
		}
		if n != int64(len(body)) {
			t.Fatalf("counted %d, sent %d", n, len(body))
		}
		size, err := wireSize(bytes.NewReader(in))
		if err != nil || size != n {
			t.Fatalf("wireSize %d, %v; want %d", size, err, n)
		}
		top, _ := wire(t, in, 0, false)
		if !bytes.HasPrefix(append(body, ".\r\n"...), unstuff(t, top)) {
			t.Fatalf("TOP 0 %q is not a prefix of the message", top)
		}
	})
}

// A failing connection stops the copy with its error.
func TestWireWriterError(t *testing.T) {
	bw := bufio.NewWriterSize(failWriter{}, 16)
	w := newWireWriter(bw, true, -1)
	_, err := io.Copy(w, strings.NewReader(strings.Repeat("line\n", 100)))
	if err == nil || errors.Is(err, errTopDone) {
		t.Fatalf("copy to a failing writer: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }
