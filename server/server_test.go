package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/store"
)

// testServer starts a dev-mode server for domain with every listener on
// 127.0.0.1:0 and the given users (password = local part + "-pw").
func testServer(t *testing.T, domain string, users []string, tweak func(*Server)) *Server {
	t.Helper()
	lo := "127.0.0.1:0"
	cfg := &Config{Dev: true, Hostname: "mx." + domain, Domains: []string{domain}, Data: t.TempDir(),
		Listen: Listen{SMTP: lo, Submission: lo, SMTPS: lo, IMAP: lo, IMAPS: lo, POP3: lo, POP3S: lo}}
	cfg.Limits.MaxMessageBytes = 1 << 20
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("server", domain)
	}
	s, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		local, _, _ := strings.Cut(u, "@")
		if err := s.Backend.Users.Add(u, local+"-pw"); err != nil {
			t.Fatal(err)
		}
	}
	if tweak != nil {
		tweak(s)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// inbox returns the raw messages in a user's INBOX.
func inbox(t *testing.T, s *Server, user string) []string {
	t.Helper()
	ctx := context.Background()
	st, err := s.Backend.Store(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Fetch(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		f, err := st.OpenRaw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		out = append(out, string(b))
	}
	return out
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mapResolver answers MX and address lookups from maps, and says "not
// found" otherwise: tests never reach real DNS.
type mapResolver struct {
	mx    map[string][]*net.MX
	hosts map[string][]string
}

func (r mapResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if mx, ok := r.mx[name]; ok {
		return mx, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r mapResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	if h, ok := r.hosts[host]; ok {
		return h, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// switchProxy forwards connections to target while up, and refuses them
// (accept then close at once) while down: a remote server going away and
// coming back, on a port the test owns.
type switchProxy struct {
	l      net.Listener
	mu     sync.Mutex
	target string
	up     bool
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{l: l, target: target, up: true}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			up, target := p.up, p.target
			p.mu.Unlock()
			if !up {
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				b, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer b.Close()
				go io.Copy(b, c)
				io.Copy(c, b)
			}()
		}
	}()
	return p
}

func (p *switchProxy) set(up bool) {
	p.mu.Lock()
	p.up = up
	p.mu.Unlock()
}

func TestTwoServers(t *testing.T) {
	b := testServer(t, "b.test", []string{"bob@b.test"}, nil)
	proxy := newSwitchProxy(t, b.Addr("smtp").String())
	res := mapResolver{
		mx:    map[string][]*net.MX{"b.test": {{Host: "mx.b.test.", Pref: 10}}},
		hosts: map[string][]string{"mx.b.test": {"127.0.0.1"}},
	}
	a := testServer(t, "a.test", []string{"alice@a.test"}, func(s *Server) {
		s.Resolver, s.RemotePort = res, port(proxy.l.Addr())
		s.QueueBackoff = func(int) time.Duration { return time.Hour }
		s.QueuePoll = 50 * time.Millisecond
	})
	submit := func(to, subject string) {
		t.Helper()
		body := fmt.Sprintf("From: alice@a.test\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@a.test>\r\n\r\nHello Bob.\r\n", to, subject, strings.ReplaceAll(subject, " ", "."))
		if err := smtpSubmit(a.Addr("submission").String(), "alice@a.test", "alice-pw", "alice@a.test", []string{to}, body); err != nil {
			t.Fatalf("submit: %v", err)
		}
	}

	// 1. Delivered through the queue, MX lookup and all.
	submit("bob@b.test", "first try")
	waitFor(t, "delivery to b.test", 10*time.Second, func() bool { return len(inbox(t, b, "bob@b.test")) == 1 })
	got := inbox(t, b, "bob@b.test")[0]
	if !strings.Contains(got, "Subject: first try") || strings.Count(got, "Received:") < 2 {
		t.Errorf("delivered message lacks subject or trace:\n%s", got)
	}

	// 2. b.test down: the message waits, with its next attempt stored.
	proxy.set(false)
	submit("bob@b.test", "while down")
	var id string
	waitFor(t, "a failed attempt", 10*time.Second, func() bool {
		items, _ := a.Queue.List()
		// The next attempt is stored before each try, the error after it.
		if len(items) == 1 && items[0].Attempts > 0 && items[0].LastError != "" {
			id = items[0].ID
			return true
		}
		return false
	})
	it, _ := a.Queue.Get(id)
	if time.Until(it.NextAttempt) < 30*time.Minute || it.LastError == "" {
		t.Errorf("deferred item: next %v, error %q", it.NextAttempt, it.LastError)
	}
	// b.test returns; an operator's retry (or the backoff) sends it.
	proxy.set(true)
	if err := a.Queue.Retry(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after b.test returned", 10*time.Second, func() bool { return len(inbox(t, b, "bob@b.test")) == 2 })
	waitFor(t, "queue to empty", 5*time.Second, func() bool { items, _ := a.Queue.List(); return len(items) == 0 })

	// 3. A permanent failure bounces into alice's INBOX.
	before := len(inbox(t, a, "alice@a.test"))
	submit("nobody@b.test", "to nobody")
	waitFor(t, "the bounce", 10*time.Second, func() bool { return len(inbox(t, a, "alice@a.test")) == before+1 })
	bounce := inbox(t, a, "alice@a.test")[before]
	for _, want := range []string{"multipart/report", "report-type=delivery-status", "Final-Recipient: rfc822; nobody@b.test",
		"Status: 5.1.1", "Action: failed", "Subject: to nobody", "From: Mail Delivery System"} {
		if !strings.Contains(bounce, want) {
			t.Errorf("bounce lacks %q:\n%s", want, bounce)
		}
	}
	if items, _ := a.Queue.List(); len(items) != 0 {
		t.Errorf("queue not empty after bounce: %+v", items[0])
	}
}

func TestLocalDeliveryAllOrNothing(t *testing.T) {
	s := testServer(t, "a.test", []string{"alice@a.test", "bob@a.test", "carol@a.test"}, nil)
	body := "From: alice@a.test\r\nSubject: team\r\n\r\nfor everyone\r\n"
	if err := smtpSubmit(s.Addr("submission").String(), "alice@a.test", "alice-pw", "alice@a.test",
		[]string{"bob@a.test", "carol@a.test", "alice@a.test"}, body); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice@a.test", "bob@a.test", "carol@a.test"} {
		got := inbox(t, s, u)
		if len(got) != 1 || !strings.HasSuffix(got[0], body) {
			t.Fatalf("%s INBOX = %q", u, got)
		}
	}
	// carol's store fails (its index is gone read-only): nobody gets it.
	st, _ := s.Backend.Store(context.Background(), "carol@a.test")
	cur := filepath.Join(st.Root(), "mail", "INBOX", "tmp")
	os.Chmod(cur, 0o500)
	defer os.Chmod(cur, 0o700)
	if os.Geteuid() == 0 {
		// root ignores permissions; make tmp a file instead.
		os.Chmod(cur, 0o700)
		os.RemoveAll(cur)
		os.WriteFile(cur, nil, 0o600)
		defer func() { os.Remove(cur); os.Mkdir(cur, 0o700) }()
	}
	err := smtpSubmit(s.Addr("submission").String(), "alice@a.test", "alice-pw", "alice@a.test",
		[]string{"bob@a.test", "carol@a.test"}, "Subject: second\r\n\r\nx\r\n")
	if err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("delivery with a failing store: %v, want 451", err)
	}
	if n := len(inbox(t, s, "bob@a.test")); n != 1 {
		t.Errorf("bob has %d messages after a failed multi-recipient delivery, want 1", n)
	}
}

// smtpSubmit submits over STARTTLS + AUTH PLAIN with a small hand-rolled
// client, so the server is tested by something other than its own code.
func smtpSubmit(addr, user, pass, from string, to []string, body string) error {
	py := fmt.Sprintf(`
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP(%q, %s, timeout=20)
s.starttls(context=ctx)
s.login(%q, %q)
try:
    s.sendmail(%q, %s, sys.stdin.buffer.read())
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode(), file=sys.stderr); sys.exit(3)
except smtplib.SMTPRecipientsRefused as e:
    print(e.recipients, file=sys.stderr); sys.exit(3)
s.quit()
`, host(addr), port2(addr), user, pass, from, pyList(to))
	cmd := exec.Command("python3", "-c", py)
	cmd.Stdin = strings.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("python smtplib: %v: %s", err, stderr.String())
	}
	return nil
}

func host(addr string) string  { h, _, _ := net.SplitHostPort(addr); return h }
func port2(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
func pyList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// TestSwaks drives the SMTP listeners with swaks, a client nobody here
// wrote.
func TestSwaks(t *testing.T) {
	swaks := testpeer.Require(t, "swaks", "swaks")
	s := testServer(t, "a.test", []string{"alice@a.test", "bob@a.test"}, nil)
	sub, mx := s.Addr("submission").String(), s.Addr("smtp").String()
	run := func(args ...string) (string, error) {
		cmd := exec.Command(swaks, append([]string{"--timeout", "20"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	big := filepath.Join(t.TempDir(), "big.txt")
	os.WriteFile(big, []byte(strings.Repeat(strings.Repeat("y", 76)+"\r\n", (1<<20)/78+100)), 0o600)
	tests := []struct {
		name string
		args []string
		ok   bool
		want string // in the transcript
	}{
		{"authenticated submission", []string{"--server", sub, "--tls", "--auth", "PLAIN", "--auth-user", "alice@a.test", "--auth-password", "alice-pw",
			"--from", "alice@a.test", "--to", "bob@a.test", "--header", "Subject: via swaks"}, true, ""},
		{"AUTH LOGIN", []string{"--server", sub, "--tls", "--auth", "LOGIN", "--auth-user", "alice@a.test", "--auth-password", "alice-pw",
			"--from", "alice@a.test", "--to", "bob@a.test", "--header", "Subject: via swaks login"}, true, ""},
		{"wrong password", []string{"--server", sub, "--tls", "--auth", "PLAIN", "--auth-user", "alice@a.test", "--auth-password", "nope",
			"--from", "alice@a.test", "--to", "bob@a.test"}, false, "535"},
		{"relay without auth", []string{"--server", mx, "--from", "spammer@evil.test", "--to", "victim@elsewhere.test"}, false, "554 5.7.1"},
		{"submission without auth", []string{"--server", sub, "--tls", "--from", "alice@a.test", "--to", "victim@elsewhere.test"}, false, "530"},
		{"oversize", []string{"--server", sub, "--tls", "--auth", "PLAIN", "--auth-user", "alice@a.test", "--auth-password", "alice-pw",
			"--from", "alice@a.test", "--to", "bob@a.test", "--body", big}, false, "552"},
		{"MX delivery to a local user", []string{"--server", mx, "--from", "someone@elsewhere.test", "--to", "bob@a.test", "--header", "Subject: inbound"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(tt.args...)
			if (err == nil) != tt.ok {
				t.Fatalf("swaks exit %v, want ok=%v:\n%s", err, tt.ok, out)
			}
			if !strings.Contains(out, tt.want) {
				t.Fatalf("transcript lacks %q:\n%s", tt.want, out)
			}
		})
	}
	got := inbox(t, s, "bob@a.test")
	if len(got) != 3 {
		t.Fatalf("bob has %d messages, want 3", len(got))
	}
}

func TestExampleConfig(t *testing.T) {
	c, err := LoadConfig(filepath.Join("..", "docs", "server.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen.Submission != ":587" || c.Limits.MaxRecipients != 100 || c.Queue.RetryWindow.Duration != 120*time.Hour {
		t.Errorf("example config read as %+v", c)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("hostname = \"x\"\nlisten_smtp = \":25\"\n"), 0o600)
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), "listen_smtp") {
		t.Errorf("unknown key: %v", err)
	}
	dev := &Config{Dev: true, Data: t.TempDir(), Listen: Listen{IMAP: "0.0.0.0:143"}}
	if err := dev.Finish(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("dev mode on a public address: %v", err)
	}
	prod := &Config{Domains: []string{"example.org"}, Data: t.TempDir()}
	if err := prod.Finish(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("production without a certificate: %v", err)
	}
}

// TestShutdown: a session in the middle of a transaction finishes and its
// message is kept; new connections are refused.
func TestShutdown(t *testing.T) {
	s := testServer(t, "a.test", []string{"bob@a.test"}, nil)
	addr := s.Addr("smtp").String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := make([]byte, 4096)
	say := func(line, want string) {
		t.Helper()
		if line != "" {
			fmt.Fprintf(c, "%s\r\n", line)
		}
		n, err := c.Read(r)
		if err != nil || !strings.HasPrefix(string(r[:n]), want) {
			t.Fatalf("%q: got %q, %v; want %s", line, r[:n], err, want)
		}
	}
	say("", "220")
	say("HELO client.test", "250")
	say("MAIL FROM:<x@elsewhere.test>", "250")
	say("RCPT TO:<bob@a.test>", "250")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	// Shutdown closes the listener first: wait until nothing is accepted.
	waitFor(t, "the listener to close", 5*time.Second, func() bool {
		c2, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c2.Close()
		return false
	})
	say("DATA", "354")
	say("Subject: in flight\r\n\r\nkept\r\n.", "250")
	say("QUIT", "221")
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// The store was closed by Shutdown; open it again to look.
	st, err := store.Open(context.Background(), s.Backend.StoreDir("bob@a.test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if mb, _ := st.Mailbox(context.Background(), "INBOX"); mb.Total != 1 {
		t.Fatalf("INBOX has %d messages after shutdown, want 1", mb.Total)
	}
}

// TestSubmitReadBack: submit over 587 (STARTTLS + AUTH) with python's
// smtplib, then read the message back with python's poplib over POP3S
// and imaplib over IMAPS: both copies are byte-for-byte the stored one,
// and the stored one is the submitted message under our trace fields.
// IMAP SEARCH finds its words straight after delivery.
func TestSubmitReadBack(t *testing.T) {
	testpeer.Require(t, "python3", "python3")
	s := testServer(t, "a.test", []string{"alice@a.test", "bob@a.test"}, nil)
	body := "From: Alice <alice@a.test>\r\nTo: bob@a.test\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nMessage-ID: <rb1@a.test>\r\n\r\n.leading dot\r\nline two\r\n\r\n"
	if err := smtpSubmit(s.Addr("submission").String(), "alice@a.test", "alice-pw", "alice@a.test", []string{"bob@a.test"}, body); err != nil {
		t.Fatal(err)
	}
	stored := inbox(t, s, "bob@a.test")
	if len(stored) != 1 || !strings.HasSuffix(stored[0], body) || !strings.HasPrefix(stored[0], "Return-Path: <alice@a.test>\r\nReceived: ") {
		t.Fatalf("stored = %q", stored)
	}
	dir := t.TempDir()
	py := `
import poplib, imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1]); ctx.check_hostname = False
p = poplib.POP3_SSL("127.0.0.1", int(sys.argv[2]), context=ctx)
p.user("bob@a.test"); p.pass_("bob-pw")
resp, lines, octets = p.retr(1)
open(sys.argv[4] + "/pop3.eml", "wb").write(b"\r\n".join(lines) + b"\r\n")
p.quit()
if sys.argv[3] != "-":
    m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[3]), ssl_context=ctx)
    m.login("bob@a.test", "bob-pw")
    m.select("INBOX")
    # Searched at once: the server indexes full text later, so this
    # search first indexes what waits (store.Options.DeferText).
    typ, data = m.search(None, "BODY", '"line two"')
    assert data == [b"1"], ("BODY search", data)
    typ, data = m.search(None, "TEXT", "leading", "NOT", "BODY", "absent")
    assert data == [b"1"], ("TEXT search", data)
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    open(sys.argv[4] + "/imap.eml", "wb").write(data[0][1])
    m.logout()
`
	imapPort := "-"
	if a := s.Addr("imaps"); a != nil {
		imapPort = port(a)
	}
	out, err := exec.Command("python3", "-c", py, s.CertFile, port(s.Addr("pop3s")), imapPort, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	for _, f := range []string{"pop3.eml", "imap.eml"} {
		if f == "imap.eml" && imapPort == "-" {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || string(got) != stored[0] {
			t.Errorf("%s differs from the stored message:\n%q\n%q", f, got, stored[0])
		}
	}
}

// TestDKIM: mail leaving through the queue is signed with the configured
// key, and the signature verifies against the DNS record keygen printed.
func TestDKIM(t *testing.T) {
	b := testServer(t, "b.test", []string{"bob@b.test"}, nil)
	keyFile := filepath.Join(t.TempDir(), "a.test.pem")
	record, err := DKIMKeygen(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	res := mapResolver{
		mx:    map[string][]*net.MX{"b.test": {{Host: "mx.b.test.", Pref: 10}}},
		hosts: map[string][]string{"mx.b.test": {"127.0.0.1"}},
	}
	a := testServer(t, "a.test", []string{"alice@a.test"}, func(s *Server) {
		s.Resolver, s.RemotePort = res, port(b.Addr("smtp"))
		s.QueuePoll = 50 * time.Millisecond
		s.cfg.DKIM.Domain, s.cfg.DKIM.Selector, s.cfg.DKIM.KeyFile = "a.test", "sel", keyFile
	})
	body := "From: alice@a.test\r\nTo: bob@b.test\r\nSubject: signed\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dkim1@a.test>\r\n\r\nsigned body\r\n"
	if err := smtpSubmit(a.Addr("submission").String(), "alice@a.test", "alice-pw", "alice@a.test", []string{"bob@b.test"}, body); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery to b.test", 10*time.Second, func() bool { return len(inbox(t, b, "bob@b.test")) == 1 })
	got := inbox(t, b, "bob@b.test")[0]
	vs, err := dkim.VerifyWithOptions(strings.NewReader(got), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if name != "sel._domainkey.a.test" {
			return nil, fmt.Errorf("unexpected lookup %s", name)
		}
		return []string{record}, nil
	}})
	if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "a.test" {
		t.Fatalf("DKIM verification: %v %+v\n%s", err, vs, got)
	}
}

// TestQueueExpiry: mail that cannot be delivered within the retry window
// comes back to the sender as a delay-expired DSN and leaves the queue.
func TestQueueExpiry(t *testing.T) {
	down := newSwitchProxy(t, "127.0.0.1:1")
	down.set(false)
	res := mapResolver{
		mx:    map[string][]*net.MX{"gone.test": {{Host: "mx.gone.test.", Pref: 10}}},
		hosts: map[string][]string{"mx.gone.test": {"127.0.0.1"}},
	}
	a := testServer(t, "a.test", []string{"alice@a.test"}, func(s *Server) {
		s.Resolver, s.RemotePort = res, port(down.l.Addr())
		s.QueuePoll = 50 * time.Millisecond
		s.cfg.Queue.RetryWindow.Duration = time.Millisecond
	})
	if err := smtpSubmit(a.Addr("submission").String(), "alice@a.test", "alice-pw", "alice@a.test", []string{"carol@gone.test"},
		"Subject: into the void\r\n\r\nhello?\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the expiry bounce", 10*time.Second, func() bool { return len(inbox(t, a, "alice@a.test")) == 1 })
	bounce := inbox(t, a, "alice@a.test")[0]
	for _, want := range []string{"Final-Recipient: rfc822; carol@gone.test", "Status: 4.4.7", "gave up after", "Subject: into the void"} {
		if !strings.Contains(bounce, want) {
			t.Errorf("bounce lacks %q:\n%s", want, bounce)
		}
	}
	waitFor(t, "queue to empty", 5*time.Second, func() bool { items, _ := a.Queue.List(); return len(items) == 0 })
}
