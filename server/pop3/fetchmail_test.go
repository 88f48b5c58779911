package pop3d

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// runFetchmail polls the server once with a hermetic fetchmail (HOME and
// FETCHMAILHOME in a temporary directory, so .fetchids starts empty),
// delivering each message through an MDA into a file of its own, and
// returns the delivered messages and fetchmail's transcript.
func runFetchmail(t *testing.T, fetchmail, addr, certFile, tlsOptions string, keep bool) ([][]byte, string) {
	t.Helper()
	home := t.TempDir()
	out := t.TempDir()
	host, port, _ := net.SplitHostPort(addr)
	local := "root"
	if u, err := user.Current(); err == nil {
		local = u.Username
	}
	keepOpt := "nokeep"
	if keep {
		keepOpt = "keep"
	}
	rc := fmt.Sprintf(`set no syslog
set no bouncemail
set invisible
poll %s with proto POP3 port %s timeout 30
  user "%s" there with password "%s" is "%s" here
  options %s sslcertck sslcertfile "%s" sslcommonname "localhost" fetchall %s norewrite
  mda "/bin/sh -c 'cat > $(mktemp %s/msg.XXXXXX)'"
`, host, port, alice, alicePW, local, tlsOptions, certFile, keepOpt, out)
	rcFile := filepath.Join(home, "fetchmailrc")
	if err := os.WriteFile(rcFile, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(fetchmail, "-f", rcFile, "--nodetach", "-v")
	cmd.Env = append(os.Environ(), "HOME="+home, "FETCHMAILHOME="+home, "LC_ALL=C")
	transcript, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fetchmail: %v\n%s", err, transcript)
	}
	files, err := filepath.Glob(filepath.Join(out, "msg.*"))
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	return got, string(transcript)
}

// fetchmail over POP3S and over STLS: with keep the server keeps every
// message, without keep it ends empty; what fetchmail delivers is what was
// stored (its MDA gets LF line ends).
func TestFetchmail(t *testing.T) {
	fetchmail := testpeer.Require(t, "fetchmail", "fetchmail")
	msgs := corpus(60, 11)
	var want []string
	for _, m := range msgs {
		want = append(want, string(bytes.ReplaceAll(m, []byte("\r\n"), []byte("\n"))))
	}
	sort.Strings(want)

	tests := []struct {
		name     string
		implicit bool
		tlsOpts  string
		keep     bool
		stls     bool // the transcript must show STLS
	}{
		{"pop3s keep", true, "ssl", true, false},
		{"stls keep", false, `sslproto "TLS1.2+"`, true, true},
		{"pop3s delete", true, "ssl", false, false},
		{"stls delete", false, `sslproto "TLS1.2+"`, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{}, true, msgs)
			addr := e.addr
			if tc.implicit {
				addr = e.tlsAddr
			}
			got, transcript := runFetchmail(t, fetchmail, addr, e.certFile, tc.tlsOpts, tc.keep)
			if tc.stls && !strings.Contains(transcript, "STLS") {
				t.Fatalf("fetchmail did not use STLS:\n%s", transcript)
			}
			if len(got) != len(msgs) {
				t.Fatalf("fetchmail delivered %d messages, want %d\n%s", len(got), len(msgs), transcript)
			}
			var gotS []string
			for _, g := range got {
				gotS = append(gotS, string(g))
			}
			sort.Strings(gotS)
			for i := range want {
				if gotS[i] != want[i] {
					t.Fatalf("delivered message differs:\n%.600q\nwant\n%.600q", gotS[i], want[i])
				}
			}
			e.waitIdle()
			left := e.storeUIDs()
			if tc.keep && len(left) != len(msgs) {
				t.Fatalf("keep: server has %d of %d messages", len(left), len(msgs))
			}
			if !tc.keep && len(left) != 0 {
				t.Fatalf("nokeep: server still has %d messages\n%s", len(left), transcript)
			}
		})
	}
}
