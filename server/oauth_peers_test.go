package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// runPython runs a python3 script with the env given; the tokens go
// through the environment, not argv.
func runPython(t *testing.T, py string, env ...string) string {
	t.Helper()
	bin := testpeer.Require(t, "python3", "python3")
	cmd := exec.Command(bin, "-c", py)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	return string(out)
}

// TestPythonXOAUTH2 signs in with Python's imaplib and smtplib, as their
// documentation shows for XOAUTH2: a refused token first (imaplib and
// smtplib answer the error challenge by sending their message again),
// then a good one on the same connection.
func TestPythonXOAUTH2(t *testing.T) {
	for _, mode := range []string{"jwks", "introspection"} {
		t.Run(mode, func(t *testing.T) {
			e := newOAuthEnv(t, mode, nil)
			ca := filepath.Join(t.TempDir(), "server.pem")
			pem, err := os.ReadFile(e.s.CertFile)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(ca, pem, 0o600)
			env := []string{"CA=" + ca, "GOOD=" + e.token(t, testidp.Grant{}),
				"BAD=" + e.token(t, testidp.Grant{AccessTTL: -time.Second}),
				"IMAPS=" + port(e.s.Addr("imaps")), "SMTPS=" + port(e.s.Addr("smtps"))}
			out := runPython(t, `
import imaplib, smtplib, ssl, os
ctx = ssl.create_default_context(cafile=os.environ["CA"])
def xoauth2(tok):
    return "user=alice@a.test\x01auth=Bearer " + tok + "\x01\x01"

M = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["IMAPS"]), ssl_context=ctx)
try:
    M.authenticate("XOAUTH2", lambda challenge: xoauth2(os.environ["BAD"]).encode())
    print("imap: bad token accepted")
except imaplib.IMAP4.error as e:
    print("imap refused:", e)
typ, _ = M.authenticate("XOAUTH2", lambda challenge: xoauth2(os.environ["GOOD"]).encode())
print("imap auth:", typ)
M.select("INBOX", readonly=True)
typ, data = M.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
print("imap fetch:", data[0][1].decode().strip())
M.logout()

s = smtplib.SMTP_SSL("127.0.0.1", int(os.environ["SMTPS"]), context=ctx, timeout=20)
s.ehlo("client.test")
try:
    s.auth("XOAUTH2", lambda challenge=None: xoauth2(os.environ["BAD"]))
    print("smtp: bad token accepted")
except smtplib.SMTPAuthenticationError as e:
    print("smtp refused:", e.smtp_code)
code, _ = s.auth("XOAUTH2", lambda challenge=None: xoauth2(os.environ["GOOD"]))
print("smtp auth:", code)
s.sendmail("alice@a.test", ["bob@a.test"], b"Subject: from smtplib with a token\r\n\r\nhi\r\n")
s.quit()
`, env...)
			for _, want := range []string{"imap refused: [AUTHENTICATIONFAILED]", "imap auth: OK",
				"imap fetch: Subject: for the token holder", "smtp refused: 535", "smtp auth: 235"} {
				if !strings.Contains(out, want) {
					t.Fatalf("python output lacks %q:\n%s", want, out)
				}
			}
			got := inbox(t, e.s, "bob@a.test")
			if len(got) != 1 || !strings.Contains(got[0], "from smtplib with a token") {
				t.Fatalf("bob's inbox: %q", got)
			}
			e.noTokenLogged(t)
		})
	}
}
