package imapd

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
	"github.com/letterbox-mail/letterbox/store"
)

// The real backend is what the daemon hands to New.
var _ Backend = (*backend.Backend)(nil)

const (
	testUser = "alice@a.test"
	testPass = "secret"
)

// fakeBackend has one user whose store lives in a temporary directory,
// created like backend.Backend creates one (with the default mailboxes).
type fakeBackend struct {
	t   testing.TB
	dir string

	mu     sync.Mutex
	stores map[string]*store.Store
}

func (b *fakeBackend) Authenticate(ctx context.Context, username, password string, _ net.Addr) (string, error) {
	u := strings.ToLower(username)
	if u == "alice" {
		u = testUser
	}
	if u == testUser && password == testPass {
		return u, nil
	}
	return "", backend.ErrAuthFailed
}

func (b *fakeBackend) Store(ctx context.Context, user string) (*store.Store, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.stores[user]; s != nil {
		return s, nil
	}
	s, err := store.Open(ctx, filepath.Join(b.dir, user), &store.Options{NoSync: true, Location: time.UTC})
	if err != nil {
		return nil, err
	}
	for _, mb := range backend.DefaultMailboxes {
		if _, err := s.CreateMailbox(ctx, mb.Name, mb.SpecialUse); err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
	}
	b.stores[user] = s
	return s, nil
}

// testEnv is a running server with its backend.
type testEnv struct {
	t       *testing.T
	srv     *Server
	be      *fakeBackend
	addr    string
	tlsAddr string // implicit TLS listener
	certPEM []byte
	st      *store.Store // alice's store
}

// newEnv starts a server on 127.0.0.1:0, plain (with STARTTLS) and, on a
// second listener, implicit TLS. opts.TLSConfig is filled in.
func newEnv(t *testing.T, opts Options) *testEnv {
	t.Helper()
	certPEM, keyPEM, err := tlsutil.SelfSignedPEM([]string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if opts.TLSConfig == nil {
		opts.TLSConfig = tlsutil.Config(cert)
	}
	if opts.Logger == nil && testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts.Location = time.UTC
	be := &fakeBackend{t: t, dir: t.TempDir(), stores: map[string]*store.Store{}}
	t.Cleanup(func() {
		for _, s := range be.stores {
			s.Close()
		}
	})
	srv := New(be, opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() { done <- srv.Serve(l) }()
	go func() { done <- srv.Serve(tls.NewListener(tl, opts.TLSConfig)) }()
	t.Cleanup(func() {
		srv.Close()
		for i := 0; i < 2; i++ {
			if err := <-done; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v", err)
			}
		}
	})
	st, err := be.Store(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, srv: srv, be: be, addr: l.Addr().String(), tlsAddr: tl.Addr().String(), certPEM: certPEM, st: st}
}

// client dials the plain listener and logs in (the env must allow
// InsecureAuth).
func (e *testEnv) client(h *imapclient.UnilateralDataHandler) *imapclient.Client {
	e.t.Helper()
	c, err := imapclient.DialInsecure(e.addr, &imapclient.Options{UnilateralDataHandler: h})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	if err := c.Login(testUser, testPass).Wait(); err != nil {
		e.t.Fatalf("login: %v", err)
	}
	return c
}

// add appends a raw message to mailbox through the store, as SMTP
// delivery would.
func (e *testEnv) add(mailbox, raw string, flags ...string) store.AppendResult {
	e.t.Helper()
	res, err := e.st.Append(context.Background(), mailbox, strings.NewReader(raw), store.AppendOptions{Flags: flags})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// testMsg is a small message with CRLF line ends.
func testMsg(n int, subject, body string) string {
	return fmt.Sprintf("From: Ann Example <ann@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: %s\r\n"+
		"Message-ID: <m%d@example.com>\r\nDate: Mon, 2 Mar 2026 10:%02d:00 +0000\r\nX-Test: n%d\r\n\r\n%s\r\n", subject, n, n%60, n, body)
}

// raw is a line-oriented connection for protocol-level tests.
type raw struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (e *testEnv) raw() *raw {
	e.t.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	r := &raw{t: e.t, c: c, r: bufio.NewReader(c)}
	r.expect("* OK")
	return r
}

func (r *raw) send(s string) {
	r.t.Helper()
	r.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write([]byte(s)); err != nil {
		r.t.Fatalf("send %q: %v", s, err)
	}
}

func (r *raw) line() string {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := r.r.ReadString('\n')
	if err != nil {
		r.t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// expect reads lines until one starts with prefix and returns the lines
// read, that one last.
func (r *raw) expect(prefix string) []string {
	r.t.Helper()
	var lines []string
	for {
		l := r.line()
		lines = append(lines, l)
		if strings.HasPrefix(l, prefix) {
			return lines
		}
		if len(lines) > 200 {
			r.t.Fatalf("no line starting %q in %q", prefix, lines)
		}
	}
}
