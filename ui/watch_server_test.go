package ui

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/server"
)

// The interface against letterbox's own server (what letterbox serve
// runs), in-process on 127.0.0.1 with the demo users: mail delivered to
// INBOX and mail another client files into another folder show in the
// list while the interface is open, with no sync (the sync interval is
// an hour), through the account's watch.

// watchServer starts the server with the demo users (bob has 100
// messages) and a folder Projects made by another client.
func watchServer(t *testing.T) *server.Server {
	t.Helper()
	lo := "127.0.0.1:0"
	cfg := &server.Config{Dev: true, Hostname: "mx.example.test", Domains: []string{"example.test"}, Data: t.TempDir(),
		Listen: server.Listen{SMTP: lo, Submission: lo, SMTPS: lo, IMAP: lo, IMAPS: lo, POP3: lo, POP3S: lo}}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SeedDev(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	otherClient(t, s, func(c *imapclient.Client) error {
		if err := c.Create("Projects", nil).Wait(); err != nil {
			return err
		}
		return c.Subscribe("Projects").Wait()
	})
	return s
}

// otherClient runs fn in a session of bob's of its own (another mail
// client, a phone).
func otherClient(t *testing.T, s *server.Server, fn func(c *imapclient.Client) error) {
	t.Helper()
	pem, err := os.ReadFile(s.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c, err := imapclient.DialTLS(s.Addr("imaps").String(), &imapclient.Options{TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bob@example.test", "bob").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := fn(c); err != nil {
		t.Fatal(err)
	}
}

// appendTo files a message with subject into box, as another client.
func appendTo(t *testing.T, s *server.Server, box, subject string) {
	t.Helper()
	raw := testMail(subject)
	otherClient(t, s, func(c *imapclient.Client) error {
		cmd := c.Append(box, int64(len(raw)), nil)
		if _, err := io.WriteString(cmd, raw); err != nil {
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		_, err := cmd.Wait()
		return err
	})
}

// deliver sends a message with subject to bob over SMTP (port 25, as
// another server would).
func deliver(t *testing.T, s *server.Server, subject string) {
	t.Helper()
	c, err := smtp.Dial(s.Addr("smtp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("mx.sender.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("carol@sender.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@example.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, testMail(subject)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
}

func testMail(subject string) string {
	return fmt.Sprintf("From: Carol <carol@sender.test>\r\nTo: bob@example.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d@sender.test>\r\n\r\nhello\r\n",
		subject, time.Now().Format(time.RFC1123Z), time.Now().UnixNano())
}

// openBob opens bob's IMAP account on s; the server is polled for the
// other folders' STATUS every second (it has no NOTIFY): more often would
// keep the harness's settle window from ever closing.
func openBob(t *testing.T, s *server.Server) *AccountBackend {
	t.Helper()
	port := func(name string) int {
		_, p, _ := net.SplitHostPort(s.Addr(name).String())
		n, _ := strconv.Atoi(p)
		return n
	}
	cfg := accounts.AccountConfig{Name: "bob", Email: "bob@example.test", Mode: accounts.ModeIMAP, PasswordCmd: "echo bob",
		IMAP:  accounts.ServerConfig{Host: "127.0.0.1", Port: port("imaps"), Security: accounts.SecurityTLS},
		SMTP:  accounts.ServerConfig{Host: "127.0.0.1", Port: port("smtps"), Security: accounts.SecurityTLS},
		TLSCA: s.CertFile, PollInterval: time.Second}
	a, err := accounts.OpenAccount(context.Background(), cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return NewAccountBackend(a)
}

// idleSpy tells when its Backend's watch reached IDLE, and counts the
// watches running.
type idleSpy struct {
	Backend
	idle    chan struct{}
	running atomic.Int32
}

func newIdleSpy(b Backend) *idleSpy { return &idleSpy{Backend: b, idle: make(chan struct{}, 1)} }

func (s *idleSpy) Watch(ctx context.Context, interval time.Duration, report func(accounts.SyncEvent)) error {
	s.running.Add(1)
	defer s.running.Add(-1)
	return s.Backend.Watch(ctx, interval, func(ev accounts.SyncEvent) {
		if ev.Phase == accounts.PhaseIdle {
			select {
			case s.idle <- struct{}{}:
			default:
			}
		}
		report(ev)
	})
}

func waitIdle(t *testing.T, s *idleSpy) {
	t.Helper()
	select {
	case <-s.idle:
	case <-time.After(30 * time.Second):
		t.Fatal("the watch never reached IDLE")
	}
}

func TestWatchServerNewMail(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	srv := watchServer(t)
	spy := newIdleSpy(openBob(t, srv))
	h := newHarness(t, 120, 30, Options{Accounts: []Backend{spy}, Watch: true, SyncInterval: time.Hour})
	waitIdle(t, spy)
	h.waitView("100 messages")

	deliver(t, srv, "Delivered while watching")
	h.waitView("Delivered while watching", "101 messages")

	// Mail another client files into Projects, while Projects is listed.
	h.process(folderMsg{account: "bob", folder: "Projects"})
	h.waitView("bob › Projects")
	appendTo(t, srv, "Projects", "Filed into Projects")
	h.waitView("Filed into Projects", "1 message")
	if n := spy.running.Load(); n != 1 {
		t.Fatalf("%d watches of bob", n)
	}
}

// TestWatchServerQuit: quitting while the watch IDLEs returns promptly,
// and only after the watch stopped using the account.
func TestWatchServerQuit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	srv := watchServer(t)
	spy := newIdleSpy(openBob(t, srv))
	keys, done := runProgram(t, context.Background(), RunOptions{Accounts: []Backend{spy}, Settings: Settings{SyncInterval: "1h"}})
	waitIdle(t, spy)
	start := time.Now()
	if _, err := io.WriteString(keys, "Q"); err != nil {
		t.Fatal(err)
	}
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("quitting took %s with a watch in IDLE", d)
	}
	if n := spy.running.Load(); n != 0 {
		t.Fatalf("Run returned while %d watch(es) still used the account", n)
	}
}
