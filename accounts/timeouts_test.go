package accounts

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

const timeoutConfig = `
[[account]]
name = "work"
email = "ann@example.com"
mode = "imap"
connect_timeout = "10s"
command_timeout = "2m"
max_message_size = 52428800
poll_interval = "90s"
imap = { host = "imap.example.com" }
smtp = { host = "smtp.example.com" }
`

// TestTimeoutKeys: connect_timeout, command_timeout, max_message_size
// and poll_interval are read from config.toml, saved back, and reach the
// settings of all three clients.
func TestTimeoutKeys(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, timeoutConfig))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Accounts[0]
	if a.ConnectTimeout != 10*time.Second || a.CommandTimeout != 2*time.Minute || a.MaxMessageSize != 50<<20 || a.PollInterval != 90*time.Second {
		t.Fatalf("read %v %v %v %v", a.ConnectTimeout, a.CommandTimeout, a.MaxMessageSize, a.PollInterval)
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	again, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if b := again.Accounts[0]; b.ConnectTimeout != a.ConnectTimeout || b.CommandTimeout != a.CommandTimeout ||
		b.MaxMessageSize != a.MaxMessageSize || b.PollInterval != a.PollInterval {
		t.Fatalf("saved and read back: %+v", b)
	}
	ic := a.imapConfig("h:993", SecurityTLS, nil, nil, credential{password: "pw"})
	pc := a.pop3Config("h:995", SecurityTLS, nil, nil, credential{password: "pw"})
	sc := a.smtpServer(a.SMTP, nil, nil, credential{password: "pw"})
	if ic.ConnectTimeout != 10*time.Second || ic.CommandTimeout != 2*time.Minute || ic.MaxLiteral != 50<<20 ||
		pc.ConnectTimeout != 10*time.Second || pc.Timeout != 2*time.Minute || pc.MaxMessage != 50<<20 ||
		sc.ConnectTimeout != 10*time.Second || sc.Timeout != 2*time.Minute {
		t.Errorf("not passed down: imap %v/%v/%d pop3 %v/%v/%d smtp %v/%v", ic.ConnectTimeout, ic.CommandTimeout, ic.MaxLiteral,
			pc.ConnectTimeout, pc.Timeout, pc.MaxMessage, sc.ConnectTimeout, sc.Timeout)
	}
}

func TestTimeoutKeysValidate(t *testing.T) {
	const base = `
[[account]]
name = "work"
email = "ann@example.com"
mode = "imap"
%s
imap = { host = "imap.example.com" }
smtp = { host = "smtp.example.com" }
`
	for _, tc := range []struct{ line, want string }{
		{`connect_timeout = "10ms"`, "connect_timeout 10ms: want between 1s and 1h0m0s"},
		{`command_timeout = "2h"`, "command_timeout 2h0m0s: want between"},
		{`poll_interval = "1s"`, "poll_interval 1s: want between"},
		{`max_message_size = 1000`, "max_message_size 1000: want at least"},
		{`connect_timeout = "soon"`, "soon"},
	} {
		_, err := LoadConfig(writeConfig(t, fmt.Sprintf(base, tc.line)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.line, err, tc.want)
		}
	}
}

// TestLoginSilent: the login test of account setup gives up on a silent
// server after the account's connect_timeout, for each protocol, and
// says what timed out.
func TestLoginSilent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	var p int
	for _, c := range port {
		p = p*10 + int(c-'0')
	}
	srv := ServerConfig{Host: host, Port: p, Security: SecurityTLS}
	for _, mode := range []Mode{ModeIMAP, ModePOP3} {
		acct := AccountConfig{Name: "t", Email: "t@example.test", Mode: mode, IMAP: srv, POP3: srv, SMTP: srv, ConnectTimeout: time.Second}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := TestLogin(ctx, acct, "pw", nil)
		late := ctx.Err() != nil
		cancel()
		if err == nil || strings.Count(err.Error(), "TLS handshake not finished within 1s") != 2 || !lbsync.IsTemporary(err) {
			t.Errorf("%s: %v", mode, err)
		}
		if late {
			t.Errorf("%s: ran until the test's deadline", mode)
		}
	}
}
