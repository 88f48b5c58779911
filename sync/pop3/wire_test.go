package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// refDecode is the obvious line-by-line reading of a multi-line response
// (RFC 1939 section 3), the model dotReader must agree with. ok is false
// when the terminating line is missing.
func refDecode(in []byte) (out, rest []byte, ok bool) {
	out = []byte{}
	for {
		i := bytes.IndexByte(in, '\n')
		if i < 0 {
			return out, nil, false
		}
		line := in[:i]
		in = in[i+1:]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if string(line) == "." {
			return out, in, true
		}
		line = bytes.TrimPrefix(line, []byte("."))
		out = append(append(out, line...), '\r', '\n')
	}
}

// readAllChunks reads r with buffers of size chunk.
func readAllChunks(r io.Reader, chunk int) ([]byte, error) {
	var out []byte
	buf := make([]byte, chunk)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// decodeWays decodes in with several source and buffer shapes and checks
// they agree; it returns the body, what is left after it, and the error.
func decodeWays(t testing.TB, in []byte) ([]byte, []byte, error) {
	t.Helper()
	type way struct {
		name  string
		src   func(io.Reader) io.Reader
		chunk int
	}
	ways := []way{
		{"whole", func(r io.Reader) io.Reader { return r }, 32 << 10},
		{"one-byte source", iotest.OneByteReader, 7},
		{"half source", iotest.HalfReader, 1},
		{"small reads", iotest.DataErrReader, 3},
	}
	var first []byte
	var firstRest []byte
	var firstErr error
	for i, w := range ways {
		br := bufio.NewReaderSize(w.src(bytes.NewReader(in)), 16)
		d := newDotReader(br, nil)
		got, err := readAllChunks(d, w.chunk)
		rest, _ := io.ReadAll(br)
		if i == 0 {
			first, firstRest, firstErr = got, rest, err
			continue
		}
		if !bytes.Equal(got, first) || (err == nil) != (firstErr == nil) || (err == nil && !bytes.Equal(rest, firstRest)) {
			t.Fatalf("%s: got %q, %v (rest %q); whole: %q, %v (rest %q)", w.name, got, err, rest, first, firstErr, firstRest)
		}
	}
	return first, firstRest, firstErr
}

func TestDotReader(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	tests := []struct {
		name, in, want, rest string
		err                  error
	}{
		{"plain", "hello\r\nworld\r\n.\r\n", "hello\r\nworld\r\n", "", nil},
		{"empty body", ".\r\n+OK next\r\n", "", "+OK next\r\n", nil},
		{"stuffed dot line", "..\r\n.\r\n", ".\r\n", "", nil},
		{"stuffed text", "...x\r\n.y\r\n.\r\n", "..x\r\ny\r\n", "", nil},
		{"dot space is not the end", ". \r\n.\r\n", " \r\n", "", nil},
		{"bare LF", "a\nb\n\n.\n", "a\r\nb\r\n\r\n", "", nil},
		{"mixed line ends", "a\r\nb\n.\r\n", "a\r\nb\r\n", "", nil},
		{"lone CR kept", "a\rb\r\n.\r\n", "a\rb\r\n", "", nil},
		{"dot CR X", ".\rX\r\n.\r\n", "\rX\r\n", "", nil},
		{"empty lines", "\r\n\r\n.\r\n", "\r\n\r\n", "", nil},
		{"long line", long + "\r\n." + long + "\r\n.\r\n", long + "\r\n" + long + "\r\n", "", nil},
		{"long bare LF line", long + "\n.\r\n", long + "\r\n", "", nil},
		{"next reply stays", "a\r\n.\r\n-ERR no\r\n", "a\r\n", "-ERR no\r\n", nil},
		{"cut mid line", "abc", "abc", "", io.ErrUnexpectedEOF},
		{"cut after line", "abc\r\n", "abc\r\n", "", io.ErrUnexpectedEOF},
		{"cut after dot", "abc\r\n.", "abc\r\n", "", io.ErrUnexpectedEOF},
		{"cut after dot CR", "abc\r\n.\r", "abc\r\n", "", io.ErrUnexpectedEOF},
		{"nothing", "", "", "", io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, rest, err := decodeWays(t, []byte(tc.in))
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %q, want %q", clip(string(got)), clip(tc.want))
			}
			if tc.err == nil && string(rest) != tc.rest {
				t.Fatalf("rest %q, want %q", rest, tc.rest)
			}
		})
	}
}

// FuzzReadMultiline checks dotReader against refDecode on any input, with
// every source and buffer shape, and that stuffing any text and reading
// it back gives the text with CRLF line ends.
func FuzzReadMultiline(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\n", "..\r\n.\r\n", ".\n", "a\nb\r\n.\n", ".\r.\r\n.\r\n", "x", "\r\r\n.\r\n", "..\n.x\n.\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, rest, err := decodeWays(t, in)
		want, wantRest, ok := refDecode(in)
		if ok != (err == nil) {
			t.Fatalf("err %v, reference ok %v", err, ok)
		}
		if ok && (!bytes.Equal(got, want) || !bytes.Equal(rest, wantRest)) {
			t.Fatalf("got %q rest %q, reference %q rest %q", got, rest, want, wantRest)
		}
		if !ok && !bytes.HasPrefix(want, got) && !bytes.HasPrefix(got, want) {
			t.Fatalf("truncated: got %q, reference %q", got, want)
		}
		// Round trip: stuff the input as a server would.
		text := in
		if len(text) > 0 && text[len(text)-1] != '\n' {
			text = append(append([]byte(nil), text...), '\n')
		}
		var wire []byte
		for _, line := range bytes.SplitAfter(text, []byte("\n")) {
			if len(line) > 0 && line[0] == '.' {
				wire = append(wire, '.')
			}
			wire = append(wire, line...)
		}
		wire = append(wire, ".\r\n"...)
		back, _, err := decodeWays(t, wire)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		var norm []byte
		for _, line := range bytes.SplitAfter(text, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
			norm = append(append(norm, line...), '\r', '\n')
		}
		if !bytes.Equal(back, norm) {
			t.Fatalf("round trip of %q: %q, want %q", text, back, norm)
		}
	})
}

func TestParseReply(t *testing.T) {
	tests := []struct {
		line string
		want reply
		err  bool
	}{
		{"+OK", reply{ok: true}, false},
		{"+OK 2 320", reply{ok: true, text: "2 320"}, false},
		{"+ok lenient", reply{ok: true, text: "lenient"}, false},
		{"-ERR", reply{}, false},
		{"-ERR [IN-USE] Do you have another POP session running?", reply{code: "IN-USE", text: "Do you have another POP session running?"}, false},
		{"-ERR [SYS/TEMP] try later", reply{code: "SYS/TEMP", text: "try later"}, false},
		{"-ERR [auth] bad", reply{code: "AUTH", text: "bad"}, false},
		{"-ERR [not a code] x", reply{text: "[not a code] x"}, false},
		{"-ERR [] x", reply{text: "[] x"}, false},
		{"-ERR [unclosed", reply{text: "[unclosed"}, false},
		{"+ ", reply{cont: true}, false},
		{"+ Y2hhbGxlbmdl", reply{cont: true, text: "Y2hhbGxlbmdl"}, false},
		{"+OKAY", reply{}, true},
		{"* OK imap", reply{}, true},
		{"", reply{}, true},
	}
	for _, tc := range tests {
		got, err := parseReply(tc.line)
		if (err != nil) != tc.err {
			t.Errorf("%q: err %v", tc.line, err)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

// FuzzResponse: parseReply never panics, classifies consistently, and a
// reply rendered again parses to the same.
func FuzzResponse(f *testing.F) {
	for _, s := range []string{"+OK", "-ERR [IN-USE] busy", "-ERR [SYS/TEMP/X] y", "+ abc", "+OK [", "-ERR [A/]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := parseReply(line)
		if err != nil {
			if !errors.Is(err, lbsync.ErrProtocol) {
				t.Fatalf("error %v is not lbsync.ErrProtocol", err)
			}
			return
		}
		if r.ok && r.cont {
			t.Fatal("ok and continuation")
		}
		if r.code != "" && (!validCode(r.code) || r.code != strings.ToUpper(r.code)) {
			t.Fatalf("bad code %q", r.code)
		}
		if r.cont {
			return
		}
		again := "-ERR"
		if r.ok {
			again = "+OK"
		}
		if r.code != "" {
			again += " [" + r.code + "]"
		}
		if r.text != "" {
			again += " " + r.text
		}
		r2, err := parseReply(again)
		if err != nil || r2 != r {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", line, r, again, r2, err)
		}
		se := &ServerError{Cmd: "RETR", Code: r.code, Text: r.text}
		if errors.Is(se, lbsync.ErrTemporary) == errors.Is(se, lbsync.ErrPermanent) {
			t.Fatalf("%v is both or neither temporary and permanent", se)
		}
	})
}
