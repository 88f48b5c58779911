package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// FuzzMboxReader writes the input as an mbox file and walks it: every
// message must be readable, as long as its Size says, the same when read a
// byte at a time, fit in the input, and survive WriteMboxMessage and a
// second walk unchanged (but for CRLF and a final newline).
func FuzzMboxReader(f *testing.F) {
	f.Add([]byte(mboxrdSample))
	f.Add([]byte(strings.ReplaceAll(mboxrdSample, "\n", "\r\n")))
	f.Add([]byte("From - Sat Mar  1 10:00:00 2025\r\nX-Mozilla-Status: 0001\r\nSubject: tb\r\n\r\nbody\r\n\r\n" +
		"From - Sat Mar  1 10:00:01 2025\r\nSubject: tb2\r\n\r\n>From here\r\n"))
	f.Add([]byte("From MAILER-DAEMON Fri Jul  8 12:08:34 2011\nFrom: Author <author@example.com>\n" +
		"To: Recipient <recipient@example.com>\nSubject: Sample message 1\n\nThis is the body.\n>From (should be escaped).\n" +
		"There are 3 lines.\n\nFrom MAILER-DAEMON Fri Jul  8 12:08:34 2011\nFrom: Author <author@example.com>\n" +
		"Subject: Sample message 2\n\nThis is the second body.\n\n"))
	f.Add([]byte("From a@b Mon Jan  2 15:04:05 -0700 2006\nA: b\n\n>>>From x\n>\n>From\nFrom y\r\n\r\n\n" +
		"From c@d Mon Jan 2 15:04 2006\n"))
	f.Add([]byte("From \n\nFrom \r\n\r"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "f.mbox")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		bodies, err := fuzzWalk(path)
		if err != nil {
			if errors.Is(err, ErrInvalid) && !bytes.HasPrefix(data, []byte("From ")) {
				return
			}
			t.Fatal(err)
		}
		total := 0
		for _, b := range bodies {
			total += len(b) + len("From ")
		}
		if total > len(data) {
			t.Fatalf("%d messages of %d bytes with their From_ lines from %d bytes of input", len(bodies), total, len(data))
		}

		var out bytes.Buffer
		for _, b := range bodies {
			if err := WriteMboxMessage(&out, "a@b", time.Unix(0, 0), bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
		}
		path2 := filepath.Join(dir, "out.mbox")
		if err := os.WriteFile(path2, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		again, err := fuzzWalk(path2)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(bodies) {
			t.Fatalf("round trip: %d messages, want %d", len(again), len(bodies))
		}
		for i, b := range bodies {
			want := bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
			if len(want) > 0 && want[len(want)-1] != '\n' {
				want = append(want, '\n')
			}
			if !bytes.Equal(again[i], want) {
				t.Fatalf("round trip of message %d: got %q, want %q", i, again[i], want)
			}
		}
	})
}

// fuzzWalk walks the mbox file path and returns its messages, checking each
// reads the same whole and byte by byte, and as long as its Size.
func fuzzWalk(path string) ([][]byte, error) {
	var bodies [][]byte
	err := WalkSources(context.Background(), []string{path}, func(m SourceMessage) error {
		b, err := fuzzRead(m, false)
		if err != nil {
			return err
		}
		if int64(len(b)) != m.Size {
			return errors.New(m.Origin + ": Size differs from the bytes read")
		}
		slow, err := fuzzRead(m, true)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, slow) {
			return errors.New(m.Origin + ": reads differ with one-byte reads")
		}
		bodies = append(bodies, b)
		return nil
	})
	return bodies, err
}

func fuzzRead(m SourceMessage, oneByte bool) ([]byte, error) {
	rc, err := m.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var r io.Reader = rc
	if oneByte {
		r = iotest.OneByteReader(rc)
	}
	return io.ReadAll(r)
}
