package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// silentServer accepts connections on loopback and never says a word
// (it reads and discards what the client sends, a TLS hello included).
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(io.Discard, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// silentConfig writes a config whose IMAP (plain), POP3 (TLS) and SMTP
// (TLS) servers are silent, with timeouts of one second.
func silentConfig(t *testing.T, dir, addr string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	cfg := fmt.Sprintf(`[[account]]
name = "alice"
email = "alice@example.test"
mode = "imap"
password_cmd = "echo alice"
connect_timeout = "1s"
command_timeout = "1s"
[account.imap]
host = %[1]q
port = %[2]s
security = "none"
[account.smtp]
host = %[1]q
port = %[2]s
security = "tls"

[[account]]
name = "bob"
email = "bob@example.test"
mode = "pop3"
password_cmd = "echo bob"
connect_timeout = "1s"
[account.pop3]
host = %[1]q
port = %[2]s
security = "tls"
[account.smtp]
host = %[1]q
port = %[2]s
security = "tls"
`, host, port)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSilentServerCLI: sync, send and account test against a server that
// accepts connections and never answers end after the account's
// connect_timeout, saying what timed out (before: sync hung until
// killed, send 90 s, account test 53 s).
func TestSilentServerCLI(t *testing.T) {
	addr := silentServer(t)
	dir := t.TempDir()
	silentConfig(t, dir, addr)
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"sync imap", "", []string{"sync", "alice"}, exitFailure,
			[]string{"imap connect " + addr + " timed out: no greeting within 1s"}},
		{"sync pop3", "", []string{"sync", "bob"}, exitFailure,
			[]string{"pop3 " + addr + ": TLS handshake: TLS handshake not finished within 1s"}},
		{"send", "body\n", []string{"send", "alice", "--to", "bob@example.test", "--subject", "s"}, 0,
			[]string{"smtp tls: TLS handshake not finished within 1s", "queued in the Outbox"}},
		{"account test", "", []string{"account", "test", "alice"}, exitFailure,
			[]string{"imap connect " + addr + " timed out: no greeting within 1s", "TLS handshake not finished within 1s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := cli(t, dir, tc.stdin, tc.args...)
			t.Logf("exit %d:\n%s%s", code, out, errs)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", w, out, errs)
				}
			}
		})
	}
}
