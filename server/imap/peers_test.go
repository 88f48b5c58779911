package imapd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// fill appends n generated messages to mailbox through the store and
// returns their raw bytes by UID.
func (e *testEnv) fill(mailbox string, seed int64, n int) map[uint32][]byte {
	e.t.Helper()
	g := mailgen.New(mailgen.Options{Seed: seed, Count: n})
	var items []store.AppendItem
	var raws [][]byte
	for {
		m, ok := g.Next()
		if !ok {
			break
		}
		raw := m.Raw
		raws = append(raws, raw)
		items = append(items, store.AppendItem{
			Open:         func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
			InternalDate: m.Date,
		})
	}
	res, err := e.st.AppendMany(context.Background(), mailbox, items)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make(map[uint32][]byte, n)
	for i, r := range res {
		if r.Err != nil {
			e.t.Fatal(r.Err)
		}
		out[r.UID] = raws[i]
	}
	return out
}

const pythonFetch = `
import base64, imaplib, json, ssl, sys
host, port, cafile, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
m.login(user, password)
typ, _ = m.select("INBOX", readonly=True)
assert typ == "OK", typ
typ, data = m.uid("SEARCH", None, "ALL")
out = {}
for uid in data[0].split():
    typ, d = m.uid("FETCH", uid, "(BODY.PEEK[])")
    assert typ == "OK", typ
    out[uid.decode()] = base64.b64encode(d[0][1]).decode()
m.logout()
print(json.dumps(out))
`

// TestPythonIMAPS: Python's imaplib logs in over implicit TLS, trusting
// the self-signed certificate, and fetches messages that were delivered
// through the store, byte for byte.
func TestPythonIMAPS(t *testing.T) {
	python := testpeer.Require(t, "python3", "python3")
	e := newEnv(t, Options{})
	want := e.fill("INBOX", 7, 30)
	dir := t.TempDir()
	ca := filepath.Join(dir, "cert.pem")
	script := filepath.Join(dir, "fetch.py")
	if err := os.WriteFile(ca, e.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(pythonFetch), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(e.tlsAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, script, host, port, ca, testUser, testPass).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("python: %v\n%s", err, stderr)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output: %v\n%s", err, out)
	}
	if len(got) != len(want) {
		t.Fatalf("python fetched %d messages, want %d", len(got), len(want))
	}
	for uid, raw := range want {
		b, err := base64.StdEncoding.DecodeString(got[fmt.Sprint(uid)])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, raw) {
			t.Fatalf("UID %d differs: %d bytes fetched, %d stored", uid, len(b), len(raw))
		}
	}
}

// TestMbsync runs a full two-way sync of a 2,000 message account into a
// local Maildir with mbsync (isync), over IMAPS with the test certificate;
// then flags and deletes a message locally and syncs back; then checks
// that a third sync changes nothing.
func TestMbsync(t *testing.T) {
	mbsync := testpeer.Require(t, "mbsync", "isync")
	if testing.Short() {
		t.Skip("slow: 2,000 messages")
	}
	e := newEnv(t, Options{})
	const n = 2000
	e.fill("INBOX", 11, n-100)
	e.fill("Archive", 12, 100)
	dir := t.TempDir()
	ca := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(ca, e.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, "Mail")
	if err := os.MkdirAll(local, 0o700); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(e.tlsAddr)
	rc := filepath.Join(dir, "mbsyncrc")
	conf := fmt.Sprintf(`IMAPAccount test
Host %s
Port %s
User %s
Pass %s
SSLType IMAPS
CertificateFile %s
PipelineDepth 50

IMAPStore remote
Account test

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel test
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
Sync All
SyncState *
`, host, port, testUser, testPass, ca, local, local)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, mbsync, "-c", rc, "-V", "test")
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("mbsync: %v\n%s", err, tail(out))
		}
		return string(out)
	}
	files := func(mailbox string) []string {
		t.Helper()
		var out []string
		for _, sub := range []string{"cur", "new"} {
			ents, err := os.ReadDir(filepath.Join(local, mailbox, sub))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				out = append(out, filepath.Join(local, mailbox, sub, e.Name()))
			}
		}
		slices.Sort(out)
		return out
	}

	run()
	inbox := files("INBOX")
	if len(inbox) != n-100 || len(files("Archive")) != 100 {
		t.Fatalf("first sync: %d INBOX, %d Archive files", len(inbox), len(files("Archive")))
	}
	// The local copies are the stored messages, byte for byte but for the
	// line ends (mbsync writes Maildir files with LF) and the X-TUID
	// header field mbsync adds to track messages.
	ctx := context.Background()
	stored, err := e.st.Fetch(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string][]byte{}
	for _, m := range stored {
		b, err := os.ReadFile(filepath.Join(e.st.Root(), m.File))
		if err != nil {
			t.Fatal(err)
		}
		byID[m.MessageID] = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	}
	for _, f := range inbox[:50] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = xTUID.ReplaceAll(b, nil)
		if !slices.ContainsFunc(stored, func(m store.Message) bool { return bytes.Equal(byID[m.MessageID], b) }) {
			t.Fatalf("local %s matches no stored message", f)
		}
	}

	// Locally: flag one message, delete another.
	flagFile, delFile := inbox[10], inbox[20]
	flagged := messageID(t, flagFile)
	deleted := messageID(t, delFile)
	base, info, _ := strings.Cut(filepath.Base(flagFile), ":2,")
	newInfo := []rune(info + "F")
	slices.Sort(newInfo)
	if err := os.Rename(flagFile, filepath.Join(local, "INBOX", "cur", base+":2,"+string(newInfo))); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(delFile); err != nil {
		t.Fatal(err)
	}
	run()
	stored, err = e.st.Fetch(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != n-101 {
		t.Fatalf("after sync back: %d messages in INBOX, want %d", len(stored), n-101)
	}
	for _, m := range stored {
		switch m.MessageID {
		case deleted:
			t.Fatalf("deleted message %s still in the store", deleted)
		case flagged:
			if !m.HasFlag(store.FlagFlagged) {
				t.Fatalf("flagged message has flags %v", m.Flags)
			}
		default:
			if m.HasFlag(store.FlagFlagged) || m.HasFlag(store.FlagDeleted) {
				t.Fatalf("message %d has flags %v", m.UID, m.Flags)
			}
		}
	}

	// Nothing changed since: the next sync writes nothing.
	before, _ := e.st.Mailbox(ctx, "INBOX")
	out := run()
	if strings.Contains(out, "Warning") || strings.Contains(out, "Error") {
		t.Fatalf("third sync complained:\n%s", tail([]byte(out)))
	}
	after, _ := e.st.Mailbox(ctx, "INBOX")
	if after.HighestModSeq != before.HighestModSeq || after.Total != before.Total {
		t.Fatalf("third sync changed the store: %+v -> %+v\n%s", before, after, tail([]byte(out)))
	}
	if len(files("INBOX")) != n-101 {
		t.Fatalf("third sync: %d local files", len(files("INBOX")))
	}
}

var xTUID = regexp.MustCompile(`(?m)^X-TUID: [^\n]*\n`)

// messageID returns the Message-ID (without brackets) of a message file.
func messageID(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Message-ID") {
			return strings.Trim(strings.TrimSpace(v), "<>")
		}
	}
	t.Fatalf("%s has no Message-ID", path)
	return ""
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
