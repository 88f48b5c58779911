package mailgen

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
)

// flagSalt seeds the flag draws of WriteMaildir apart from the messages, so
// a Maildir holds exactly the messages New(opts) yields.
const flagSalt = 0x5eed_f1a9

// WriteMaildir writes the corpus of opts into the Maildir dir, creating
// dir/cur, dir/new and dir/tmp. Each message goes into cur/ under a unique
// name derived from its date and index, "<unix>.Q<n>.mailgen:2,<flags>",
// with flag S (seen) on about 70% and F (flagged) on about 5%; the file's
// modification time is the message date. It returns the number of messages
// written.
//
// Files are written directly into cur/, without the tmp/ step of a
// delivery: WriteMaildir prepares fixtures, it does not deliver mail.
func WriteMaildir(dir string, opts Options) (n int, err error) {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return 0, fmt.Errorf("mailgen: maildir %s: %w", dir, err)
		}
	}
	flags := rand.New(rand.NewSource(opts.Seed ^ flagSalt))
	g := New(opts)
	for {
		m, ok := g.Next()
		if !ok {
			return n, nil
		}
		f := ""
		if flags.Intn(100) < 5 {
			f += "F"
		}
		if flags.Intn(100) < 70 {
			f += "S"
		}
		name := fmt.Sprintf("%d.Q%d.mailgen:2,%s", m.Date.Unix(), n, f)
		path := filepath.Join(dir, "cur", name)
		if err := os.WriteFile(path, m.Raw, 0o600); err != nil {
			return n, fmt.Errorf("mailgen: maildir message %s: %w", path, err)
		}
		if err := os.Chtimes(path, m.Date, m.Date); err != nil {
			return n, fmt.Errorf("mailgen: maildir message %s: %w", path, err)
		}
		n++
	}
}

// WriteMbox writes the corpus of opts to the mbox file path in the mboxrd
// format: each message starts with "From addr Mon Jan  2 15:04:05 2006"
// (the envelope sender and the date in UTC), has LF line ends, gets a ">"
// before every line matching ^>*From  and ends with an empty line. It
// returns the number of messages written.
func WriteMbox(path string, opts Options) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("mailgen: mbox %s: %w", path, err)
	}
	n, err := writeMbox(f, opts)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("mailgen: mbox %s: %w", path, cerr)
	}
	return n, err
}

// writeMbox writes the corpus of opts to f, buffered.
func writeMbox(f *os.File, opts Options) (n int, err error) {
	w := bufio.NewWriterSize(f, 1<<20)
	g := New(opts)
	for {
		m, ok := g.Next()
		if !ok {
			break
		}
		fmt.Fprintf(w, "From %s %s\n", m.From, m.Date.UTC().Format("Mon Jan _2 15:04:05 2006"))
		raw := m.Raw
		for len(raw) > 0 {
			line := raw
			if i := bytes.IndexByte(raw, '\n'); i >= 0 {
				line, raw = raw[:i+1], raw[i+1:]
			} else {
				raw = nil
			}
			if isFromLine(line) {
				w.WriteByte('>')
			}
			if l := len(line); l >= 2 && line[l-2] == '\r' && line[l-1] == '\n' {
				w.Write(line[:l-2])
				w.WriteByte('\n')
			} else {
				w.Write(line)
			}
		}
		if len(m.Raw) > 0 && m.Raw[len(m.Raw)-1] != '\n' {
			w.WriteByte('\n')
		}
		w.WriteByte('\n')
		n++
	}
	if err := w.Flush(); err != nil {
		return n, fmt.Errorf("mailgen: mbox %s: %w", f.Name(), err)
	}
	return n, nil
}

// isFromLine reports whether line matches ^>*From (with the space), the
// lines mboxrd quotes.
func isFromLine(line []byte) bool {
	line = bytes.TrimLeft(line, ">")
	return bytes.HasPrefix(line, []byte("From "))
}
