package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// runCLI runs the letterbox command line in-process with a hermetic --data.
func runCLI(t *testing.T, data string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"--data", data}, args...)
	code = run(context.Background(), all, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func decodeLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		rows = append(rows, m)
	}
	return rows
}

func TestStoreCLI(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	st := filepath.Join(tmp, "store")

	// A Maildir++ tree: INBOX at the top and a .Work.Reports folder.
	tree := filepath.Join(tmp, "Maildir")
	if _, err := mailgen.WriteMaildir(tree, mailgen.Options{Seed: 3, Count: 60}); err != nil {
		t.Fatal(err)
	}
	if _, err := mailgen.WriteMaildir(filepath.Join(tree, ".Work.Reports"), mailgen.Options{Seed: 4, Count: 15}); err != nil {
		t.Fatal(err)
	}
	mbox := filepath.Join(tmp, "Archive.mbox")
	if _, err := mailgen.WriteMbox(mbox, mailgen.Options{Seed: 5, Count: 25}); err != nil {
		t.Fatal(err)
	}

	code, out, errs := runCLI(t, data, "store", "import", "--store", st, tree, mbox)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	// Not a terminal: one summary line, no progress bar.
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "imported 100 messages") {
		t.Fatalf("import summary = %q", out)
	}
	if strings.Contains(errs, "\r") {
		t.Fatalf("progress bar drawn on a non-terminal: %q", errs)
	}

	code, out, _ = runCLI(t, data, "store", "ls", "--store", st, "--mailboxes", "--json")
	if code != 0 {
		t.Fatalf("ls --mailboxes exit %d", code)
	}
	boxes := map[string]float64{}
	for _, r := range decodeLines(t, out) {
		boxes[r["name"].(string)] = r["total"].(float64)
	}
	if boxes["INBOX"] != 60 || boxes["Work/Reports"] != 15 || boxes["Archive"] != 25 {
		t.Fatalf("mailboxes = %v", boxes)
	}

	// Paging: two pages of 40 and 20 that do not overlap, newest first.
	code, out, _ = runCLI(t, data, "store", "ls", "--store", st, "--json", "--limit", "40")
	p1 := decodeLines(t, out)
	_, out, _ = runCLI(t, data, "store", "ls", "--store", st, "--json", "--limit", "40", "--offset", "40")
	p2 := decodeLines(t, out)
	if code != 0 || len(p1) != 40 || len(p2) != 20 {
		t.Fatalf("pages: %d, %d rows (exit %d)", len(p1), len(p2), code)
	}
	for _, f := range []string{"id", "mailbox", "uid", "date", "from", "to", "subject", "flags", "size", "message_id"} {
		if _, ok := p1[0][f]; !ok {
			t.Errorf("--json row lacks %q: %v", f, p1[0])
		}
	}
	all := append(p1, p2...)
	seen := map[float64]bool{}
	for i, r := range all {
		if seen[r["id"].(float64)] {
			t.Fatalf("id %v on both pages", r["id"])
		}
		seen[r["id"].(float64)] = true
		if i > 0 && r["date"].(string) > all[i-1]["date"].(string) {
			t.Fatalf("not newest first at row %d", i)
		}
	}

	// show: rendered and raw; raw is byte-identical to the stored file.
	id := strconv.FormatInt(int64(p1[0]["id"].(float64)), 10)
	code, out, errs = runCLI(t, data, "store", "show", "--store", st, id)
	if code != 0 || !strings.Contains(out, "Subject:") {
		t.Fatalf("show: exit %d, %q %s", code, out, errs)
	}
	code, raw, _ := runCLI(t, data, "store", "show", "--store", st, "--raw", id)
	if code != 0 || !strings.Contains(raw, "Message-ID:") && !strings.Contains(raw, "Message-Id:") {
		t.Fatalf("show --raw: exit %d, %.200q", code, raw)
	}
	if code, _, errs = runCLI(t, data, "store", "show", "--store", st, "999999"); code != exitNotFound {
		t.Fatalf("show of a missing id: exit %d (%s), want %d", code, errs, exitNotFound)
	}

	// search: a subject word of the newest message finds it.
	word := ""
	for _, w := range strings.Fields(p1[0]["subject"].(string)) {
		if len(w) > 3 && !strings.ContainsAny(w, ":?!\"()") {
			word = w
			break
		}
	}
	if word != "" {
		code, out, errs = runCLI(t, data, "store", "search", "--store", st, "--json", "--all", "subject:"+word)
		if code != 0 {
			t.Fatalf("search: exit %d: %s", code, errs)
		}
		found := false
		for _, r := range decodeLines(t, out) {
			found = found || r["id"].(float64) == p1[0]["id"].(float64)
		}
		if !found {
			t.Fatalf("search subject:%s did not find message %s", word, id)
		}
	}
	code, _, errs = runCLI(t, data, "store", "search", "--store", st, "from:alice (unclosed")
	if code != exitUsage || !strings.Contains(errs, "^") {
		t.Fatalf("bad query: exit %d, stderr %q; want usage error with a caret", code, errs)
	}

	// check: clean; then lose a file behind the store's back.
	if code, out, errs = runCLI(t, data, "store", "check", "--store", st); code != 0 {
		t.Fatalf("check: exit %d %s %s", code, out, errs)
	}
	s, err := store.Open(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Get(context.Background(), int64(p2[0]["id"].(float64)))
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Open reconciles what changed behind its back by directory mtime, so
	// restore the mtime to make the loss invisible to it: only check finds it.
	lost := filepath.Join(st, m.File)
	fi, err := os.Stat(filepath.Dir(lost))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(lost); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Dir(lost), fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if code, _, _ = runCLI(t, data, "store", "check", "--store", st); code != exitFailure {
		t.Fatalf("check after losing a file: exit %d, want %d", code, exitFailure)
	}
	if code, _, errs = runCLI(t, data, "store", "check", "--store", st, "--repair"); code != 0 {
		t.Fatalf("check --repair: exit %d %s", code, errs)
	}
	if code, _, errs = runCLI(t, data, "store", "check", "--store", st); code != 0 {
		t.Fatalf("check after repair: exit %d %s", code, errs)
	}

	// export both formats and import them back: same count, same bytes.
	for _, format := range []string{"mbox", "maildir"} {
		dest := filepath.Join(tmp, "export-"+format)
		if code, _, errs = runCLI(t, data, "store", "export", "--store", st, "--mailbox", "Archive", "--format", format, dest); code != 0 {
			t.Fatalf("export %s: exit %d %s", format, code, errs)
		}
		st2 := filepath.Join(tmp, "store-"+format)
		if code, out, errs = runCLI(t, data, "store", "import", "--store", st2, dest); code != 0 || !strings.HasPrefix(out, "imported 25 messages") {
			t.Fatalf("re-import %s: exit %d %q %s", format, code, out, errs)
		}
	}

	// Default store under --data.
	if code, out, errs = runCLI(t, data, "store", "import", tree); code != 0 || !strings.HasPrefix(out, "imported 75") {
		t.Fatalf("import into default store: exit %d %q %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "store", "index.db")); err != nil {
		t.Fatalf("default store not under --data: %v", err)
	}
}

func TestCLIUsage(t *testing.T) {
	data := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string // in stdout or stderr
	}{
		{[]string{"--help"}, exitOK, "Usage:"},
		{[]string{"--help"}, exitOK, "Exit codes"},
		{[]string{"help"}, exitOK, "Mail client:"},
		{[]string{"help", "store", "ls"}, exitOK, "--offset"},
		{[]string{"help", "store", "frob"}, exitUsage, "unknown command"},
		{[]string{"help", "nonsense"}, exitUsage, "unknown command"},
		{[]string{}, exitUsage, "Usage:"},
		{[]string{"nonsense"}, exitUsage, "unknown command"},
		{[]string{"snyc"}, exitUsage, "did you mean sync?"},
		{[]string{"store"}, exitUsage, "missing subcommand"},
		{[]string{"store", "frobnicate"}, exitUsage, "unknown subcommand"},
		{[]string{"store", "import", "--help"}, exitOK, "--store"},
		{[]string{"store", "ls", "--help"}, exitOK, "--offset"},
		{[]string{"store", "search", "--help"}, exitOK, "--json"},
		{[]string{"store", "show", "--help"}, exitOK, "--raw"},
		{[]string{"store", "check", "--help"}, exitOK, "--repair"},
		{[]string{"store", "export", "--help"}, exitOK, "--format"},
		{[]string{"store", "import"}, exitUsage, "want SRC"},
		{[]string{"store", "import", "/nonexistent/maildir"}, exitNotFound, "no such file"},
		{[]string{"store", "search"}, exitUsage, "missing QUERY"},
		{[]string{"store", "ls", "--bogus"}, exitUsage, "bogus"},
		{[]string{"store", "show", "abc"}, exitUsage, ""},
		{[]string{"store", "export", "--mailbox", "INBOX", "--format", "zip", "/tmp/x"}, exitUsage, "format"},
		{[]string{"store", "ls", "--offset", "-1"}, exitUsage, "--offset"},
		{[]string{"version"}, exitOK, "letterbox dev"},
		{[]string{"--version"}, exitOK, "dev"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, data, c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("letterbox %v: exit %d, output %q %q; want exit %d containing %q", c.args, code, out, errs, c.code, c.want)
		}
	}
}

// TestStoreCheckDuplicates: store check lists messages stored twice, in
// text and JSON, and stays "NOT clean" (exit 1) with --repair too, since
// it reports duplicates and does not remove them.
func TestStoreCheckDuplicates(t *testing.T) {
	tmp := t.TempDir()
	st := filepath.Join(tmp, "st")
	ctx := context.Background()
	s, err := store.Open(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := "Message-ID: <twice@example.test>\r\nSubject: twice\r\n\r\nbody\r\n"
	for i := 0; i < 2; i++ {
		if _, err := s.Append(ctx, store.Inbox, strings.NewReader(msg), store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	for _, args := range [][]string{{}, {"--repair"}} {
		code, out, _ := runCLI(t, tmp, append([]string{"store", "check", "--store", st}, args...)...)
		if code != exitFailure || !strings.Contains(out, "duplicate:") || !strings.Contains(out, "twice@example.test") || !strings.Contains(out, "NOT clean") {
			t.Fatalf("store check %v: exit %d\n%s", args, code, out)
		}
	}
	code, out, _ := runCLI(t, tmp, "store", "check", "--store", st, "--json")
	rows := decodeLines(t, out)
	if code != exitFailure || len(rows) != 1 || rows[0]["clean"] != false {
		t.Fatalf("store check --json: exit %d\n%s", code, out)
	}
	if d, _ := rows[0]["duplicates"].([]any); len(d) != 1 {
		t.Fatalf("store check --json: duplicates %v", rows[0]["duplicates"])
	}
}
