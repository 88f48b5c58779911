package mailgen

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteMaildir(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Seed: 5, Count: 300}
	n, err := WriteMaildir(dir, opts)
	if err != nil || n != 300 {
		t.Fatalf("WriteMaildir = %d, %v", n, err)
	}
	for _, sub := range []string{"new", "tmp"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", sub, err)
		}
	}
	names, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil || len(names) != 300 {
		t.Fatalf("cur holds %d files, %v", len(names), err)
	}
	want := map[string]bool{}
	for _, m := range generate(t, opts) {
		want[string(m.Raw)] = true
	}
	seen, flagged := 0, 0
	for _, e := range names {
		_, flags, ok := strings.Cut(e.Name(), ":2,")
		if !ok || (flags != "" && flags != "S" && flags != "F" && flags != "FS") {
			t.Errorf("file name %q", e.Name())
		}
		if strings.Contains(flags, "S") {
			seen++
		}
		if strings.Contains(flags, "F") {
			flagged++
		}
		b, err := os.ReadFile(filepath.Join(dir, "cur", e.Name()))
		if err != nil || !want[string(b)] {
			t.Errorf("%s: not a generated message (%v)", e.Name(), err)
		}
	}
	if seen < 180 || seen > 240 || flagged == 0 || flagged > 40 {
		t.Errorf("%d seen and %d flagged of 300", seen, flagged)
	}
}

func TestWriteMbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mbox")
	opts := Options{Seed: 9, Count: 500}
	n, err := WriteMbox(path, opts)
	if err != nil || n != 500 {
		t.Fatalf("WriteMbox = %d, %v", n, err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got [][]byte
	var cur *bytes.Buffer
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte("From ")) {
			if _, err := time.Parse("Mon Jan _2 15:04:05 2006", string(line[bytes.IndexByte(line[5:], ' ')+6:])); err != nil {
				t.Errorf("From_ line %q: %v", line, err)
			}
			cur = new(bytes.Buffer)
			got = append(got, nil)
			continue
		}
		if isFromLine(line) {
			line = line[1:] // mboxrd unescaping
		}
		cur.Write(line)
		cur.WriteString("\n")
		got[len(got)-1] = cur.Bytes()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	msgs := generate(t, opts)
	if len(got) != len(msgs) {
		t.Fatalf("read %d messages back, want %d", len(got), len(msgs))
	}
	escaped := 0
	for i, m := range msgs {
		want := bytes.ReplaceAll(m.Raw, []byte("\r\n"), []byte("\n"))
		want = append(want, '\n') // the separating empty line
		if !bytes.Equal(got[i], want) {
			t.Fatalf("message %d differs after the mbox round trip", i)
		}
		if bytes.Contains(m.Raw, []byte("\nFrom ")) {
			escaped++
		}
	}
	if escaped == 0 {
		t.Error("no message has a From_ line to escape")
	}
}
