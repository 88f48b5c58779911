package imapd

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// pythonHostile drives Python's imaplib as a careless or hostile client
// would: literals over the 4,096-byte limit outside APPEND (imaplib sends
// a synchronizing literal and must be told NO before it sends the data,
// not left waiting for a continuation) and bad mailbox names, plain and as
// literals. After each refusal the same connection must go on working.
const pythonHostile = `
import imaplib, ssl, sys
host, port, cafile, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx, timeout=20)

def refused(code, fn, *args):
    try:
        typ, data = fn(*args)
    except m.error as e:
        text = str(e)
    else:
        text = "%s %s" % (typ, data)
        if typ == "OK":
            sys.exit("accepted: %r %r" % (fn.__name__, args))
    if "[" + code + "]" not in text or "SERVERBUG" in text:
        sys.exit("%r %r: %s, want [%s]" % (fn.__name__, args, text, code))
    typ, _ = m.noop()
    assert typ == "OK", typ
    print("refused", code, text[:80])

def with_literal(data, name, *args):
    def run():
        m.literal = data
        return m._simple_command(name, *args)
    run.__name__ = name + " with a literal"
    return run

# Before login: a user name too long for a literal.
refused("TOOBIG", with_literal(b"u" * 5000, "LOGIN"))
m.login(user, password)
m.select("INBOX")
refused("TOOBIG", with_literal(b"y" * 5000, "SEARCH", "TEXT"))
refused("TOOBIG", with_literal(b"y" * 5000, "SEARCH", "CHARSET", "UTF-8", "TEXT"))
refused("TOOBIG", with_literal(b"n" * 5000, "CREATE"))
for name in ['"a\x01b"', '"a&b"', '"&Jjo"', '"a*b"', '"a//b"', '"' + "x" * 300 + '"', '"' + "d/" * 40 + 'd"']:
    refused("CANNOT", m.create, name)
    refused("CANNOT", m.rename, "Archive", name)
for name in [b"a\x00b", b"a&b", "caf\xe9".encode("latin-1")]:
    refused("CANNOT", with_literal(name, "CREATE"))
refused("NONEXISTENT", m.select, '"' + "x" * 300 + '"')
refused("CANNOT", m.status, '"a&b"', "(MESSAGES)")
typ, data = m.list()
assert typ == "OK", (typ, data)
typ, _ = m.create("Projects/2026")
assert typ == "OK", typ
m.logout()
print("done")
`

// TestPythonHostile runs pythonHostile over IMAPS (items 6 and 7 of the
// hostile-input audit, with a real client library's literal handling).
func TestPythonHostile(t *testing.T) {
	python := testpeer.Require(t, "python3", "python3")
	e := newEnv(t, Options{})
	dir := t.TempDir()
	ca := filepath.Join(dir, "cert.pem")
	script := filepath.Join(dir, "hostile.py")
	if err := os.WriteFile(ca, e.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(pythonHostile), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(e.tlsAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, script, host, port, ca, testUser, testPass).CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "done") {
		t.Fatalf("python: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "refused "); n != 23 {
		t.Fatalf("%d refusals, want 23:\n%s", n, out)
	}
}
