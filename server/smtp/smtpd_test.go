package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
)

type fakeBackend struct{}

func (fakeBackend) Authenticate(ctx context.Context, u, p string, _ net.Addr) (string, error) {
	if u == "alice@a.test" && p == "secret" {
		return u, nil
	}
	if u == "throttled@a.test" {
		return "", backend.ErrThrottled
	}
	return "", backend.ErrAuthFailed
}
func (fakeBackend) IsLocalDomain(d string) bool { return strings.EqualFold(d, "a.test") }
func (fakeBackend) UserExists(a string) bool {
	return strings.EqualFold(a, "alice@a.test") || strings.EqualFold(a, "bob@a.test")
}

type fakeDeliverer struct {
	mu   sync.Mutex
	envs []Envelope
	data []string
	fail error
}

func (f *fakeDeliverer) Deliver(ctx context.Context, env Envelope, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if f.fail != nil {
		return f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.envs = append(f.envs, env)
	f.data = append(f.data, string(b))
	return nil
}

// conv is a line-oriented test client.
type conv struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func start(t *testing.T, opts Options) (*fakeDeliverer, func() *conv) {
	t.Helper()
	cert, err := tlsutil.SelfSigned([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if opts.TLSConfig == nil {
		opts.TLSConfig = tlsutil.Config(cert)
	}
	if opts.Logger == nil && testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	dl := &fakeDeliverer{}
	s := New(fakeBackend{}, dl, opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return dl, func() *conv {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		t.Cleanup(func() { c.Close() })
		cv := &conv{t: t, c: c, r: bufio.NewReader(c)}
		cv.expect("220 ")
		return cv
	}
}

// reply reads one (possibly multi-line) reply and returns its last line.
func (c *conv) reply() string {
	c.t.Helper()
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

func (c *conv) expect(prefix string) string {
	c.t.Helper()
	got := c.reply()
	if !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("got %q, want %q...", got, prefix)
	}
	return got
}

func (c *conv) send(line string) { fmt.Fprintf(c.c, "%s\r\n", line) }

func (c *conv) cmd(line, want string) string {
	c.t.Helper()
	c.send(line)
	return c.expect(want)
}

func (c *conv) startTLS() {
	c.t.Helper()
	c.cmd("STARTTLS", "220 ")
	tc := tls.Client(c.c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
}

func plain(u, p string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + u + "\x00" + p))
}

func TestMX(t *testing.T) {
	dl, dial := start(t, Options{Mode: ModeMX})
	c := dial()
	ehlo := ""
	c.send("EHLO client.test")
	for {
		line, _ := c.r.ReadString('\n')
		ehlo += line
		if line[3] == ' ' {
			break
		}
	}
	if strings.Contains(ehlo, "AUTH") || !strings.Contains(ehlo, "STARTTLS") || !strings.Contains(ehlo, "SIZE") {
		t.Errorf("MX EHLO = %q: want STARTTLS and SIZE, no AUTH", ehlo)
	}
	c.cmd("RCPT TO:<bob@a.test>", "50")                 // before MAIL
	c.cmd("MAIL FROM:<someone@elsewhere.test>", "250 ") // anyone may send to local users
	c.cmd("RCPT TO:<victim@elsewhere.test>", "554 5.7.1")
	c.cmd("RCPT TO:<nobody@a.test>", "550 5.1.1")
	c.cmd("RCPT TO:<Bob@A.test>", "250 ")
	c.cmd("RCPT TO:<bob@a.test>", "250 ") // duplicate, kept once
	c.cmd("DATA", "354 ")
	c.send("Subject: hi\r\n\r\nbare\nlf and\rcr\r\n..dot-stuffed\r\n.")
	c.expect("250 ")
	c.cmd("AUTH PLAIN "+plain("alice@a.test", "secret"), "5") // no AUTH on MX
	c.cmd("QUIT", "221 ")
	if len(dl.envs) != 1 || len(dl.envs[0].To) != 1 || dl.envs[0].To[0] != "bob@a.test" || dl.envs[0].User != "" {
		t.Fatalf("envelopes = %+v", dl.envs)
	}
	if want := "Subject: hi\r\n\r\nbare\r\nlf and\r\ncr\r\n.dot-stuffed\r\n"; dl.data[0] != want {
		t.Errorf("data = %q, want %q (CRLF-normalised, unstuffed)", dl.data[0], want)
	}
}

func TestSubmission(t *testing.T) {
	dl, dial := start(t, Options{Mode: ModeSubmission, MaxMessageBytes: 1500, MaxRecipients: 3, MaxMessagesPerHour: 3})
	c := dial()
	c.cmd("EHLO client.test", "250 ")
	c.cmd("AUTH PLAIN "+plain("alice@a.test", "secret"), "523 5.7.10") // TLS first
	c.cmd("MAIL FROM:<alice@a.test>", "530 5.7.0")
	c.startTLS()
	c.cmd("EHLO client.test", "250 ")
	c.cmd("AUTH PLAIN !!!notbase64", "454 ")
	c.cmd("AUTH PLAIN "+plain("alice@a.test", "wrong"), "535 5.7.8")
	c.cmd("AUTH LOGIN", "334 VXNlcm5hbWU6")
	c.cmd(base64.StdEncoding.EncodeToString([]byte("alice@a.test")), "334 UGFzc3dvcmQ6")
	c.cmd(base64.StdEncoding.EncodeToString([]byte("secret")), "235 ")
	c.cmd("MAIL FROM:<bob@a.test>", "553 5.7.1") // not hers
	c.cmd("MAIL FROM:<>", "550 ")
	c.cmd("MAIL FROM:<alice@a.test> SIZE=5000", "552 ")
	c.cmd("MAIL FROM:<Alice@a.test> SIZE=100", "250 ")
	c.cmd("RCPT TO:<friend@elsewhere.test>", "250 ") // relay for the authenticated
	c.cmd("RCPT TO:<bad address>", "5")
	c.cmd("RCPT TO:<x1@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<x2@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<x3@elsewhere.test>", "452 ") // over MaxRecipients
	c.cmd("DATA", "354 ")
	c.send("Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 78)+"\r\n", 30) + ".")
	c.expect("552 ")
	c.cmd("MAIL FROM:<alice@a.test>", "250 ")
	c.cmd("RCPT TO:<friend@elsewhere.test>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: long line\r\n\r\n" + strings.Repeat("x", 990) + "\r\n.")
	c.expect("250 ") // 1000 octets with CRLF is fine, and refused only past 2000
	dl.envs, dl.data = nil, nil
	// Pipelined: MAIL, RCPT, DATA in one write.
	c.send("MAIL FROM:<alice@a.test>\r\nRCPT TO:<friend@elsewhere.test>\r\nDATA")
	c.expect("250 ")
	c.expect("250 ")
	c.expect("354 ")
	c.send("Subject: ok\r\n\r\nbody\r\n.")
	c.expect("250 ")
	c.cmd("MAIL FROM:<alice@a.test>", "250 ")
	c.cmd("RCPT TO:<friend@elsewhere.test>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: two\r\n\r\nbody\r\n.")
	c.expect("250 ")
	c.cmd("MAIL FROM:<alice@a.test>", "450 4.7.1") // 3 per hour
	if len(dl.envs) != 2 || dl.envs[0].User != "alice@a.test" || !dl.envs[0].TLS {
		t.Fatalf("envelopes = %+v", dl.envs)
	}
}

func TestSubmissionThrottleAndFailure(t *testing.T) {
	dl, dial := start(t, Options{Mode: ModeSubmission, AllowInsecureAuth: true})
	c := dial()
	c.cmd("EHLO client.test", "250 ")
	c.cmd("AUTH PLAIN "+plain("throttled@a.test", "x"), "454 4.7.0")
	c.cmd("AUTH PLAIN "+plain("alice@a.test", "secret"), "235 ")
	dl.fail = errors.New("disk on fire")
	c.cmd("MAIL FROM:<alice@a.test>", "250 ")
	c.cmd("RCPT TO:<bob@a.test>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: x\r\n\r\nbody\r\n.")
	c.expect("451 4.3.0") // temporary: the client keeps the message
}

func TestRejectBareLF(t *testing.T) {
	dl, dial := start(t, Options{Mode: ModeMX, RejectBareLF: true})
	c := dial()
	c.cmd("HELO client.test", "250 ")
	c.cmd("MAIL FROM:<x@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<bob@a.test>", "250 ")
	c.cmd("DATA", "354 ")
	// A smuggling attempt: "\n.\n" must not end the data anywhere.
	c.send("Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@a.test>\r\n.")
	c.expect("550 5.5.2")
	if len(dl.envs) != 0 {
		t.Fatal("message with bare LF accepted")
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"alice@a.test", "alice@a.test", true},
		{"@relay.test:alice@a.test", "alice@a.test", true},
		{`"john doe"@a.test`, `"john doe"@a.test`, true},
		{"a.b+tag@sub.a.test", "a.b+tag@sub.a.test", true},
		{"user@[127.0.0.1]", "user@[127.0.0.1]", true},
		{"jörg@bücher.test", "jörg@bücher.test", true},
		{"noat", "", false},
		{"@a.test", "", false},
		{"a@", "", false},
		{"a..b@a.test", "", false},
		{".a@a.test", "", false},
		{"a b@a.test", "", false},
		{"a@a_b.test", "", false},
		{"a@-a.test", "", false},
		{"a\r\nRCPT@a.test", "", false},
		{`"unterminated@a.test`, "", false},
		{strings.Repeat("a", 65) + "@a.test", "", false},
		{"a@" + strings.Repeat("b", 300), "", false},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePath(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"alice@a.test", `"x y"@a.test`, "@r:a@b", "a@[::1]", "", "a@b@c", "ü@ü.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParsePath(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(got, "\r\n\x00") {
			t.Fatalf("ParsePath(%q) = %q: control characters accepted", s, got)
		}
		if got != "" {
			if again, err := ParsePath(got); err != nil || again != got {
				t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
			}
		}
	})
}
