package pop3d

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// Test users of fakeBackend.
const (
	alice   = "alice@example.test"
	alicePW = "correct horse battery"
	bob     = "bob@example.test"
	bobPW   = "hunter2"
)

// fakeBackend is a Backend with fixed passwords and one store per user in
// a temporary directory. It counts failed logins as the real one does.
type fakeBackend struct {
	dir string

	mu        sync.Mutex
	passwords map[string]string
	stores    map[string]*store.Store
	failures  int
	throttled bool          // every Authenticate fails with ErrThrottled
	gate      chan struct{} // when set, Authenticate waits for it...
	arrived   chan struct{} // ...after a send here
}

var _ Backend = (*fakeBackend)(nil)

func newFakeBackend(t testing.TB) *fakeBackend {
	b := &fakeBackend{dir: t.TempDir(), stores: map[string]*store.Store{},
		passwords: map[string]string{alice: alicePW, bob: bobPW}}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, s := range b.stores {
			s.Close()
		}
	})
	return b
}

func (b *fakeBackend) Authenticate(ctx context.Context, username, password string, remote net.Addr) (string, error) {
	b.mu.Lock()
	gate, arrived := b.gate, b.arrived
	b.mu.Unlock()
	if gate != nil {
		arrived <- struct{}{}
		<-gate
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.throttled {
		return "", backend.ErrThrottled
	}
	u := strings.ToLower(username)
	if !strings.Contains(u, "@") {
		u += "@example.test"
	}
	if pw, ok := b.passwords[u]; !ok || pw != password {
		b.failures++
		return "", backend.ErrAuthFailed
	}
	return u, nil
}

func (b *fakeBackend) Store(ctx context.Context, user string) (*store.Store, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.stores[user]; ok {
		return s, nil
	}
	if _, ok := b.passwords[user]; !ok {
		return nil, backend.ErrNoUser
	}
	s, err := store.Open(ctx, filepath.Join(b.dir, user), &store.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	b.stores[user] = s
	return s, nil
}

func (b *fakeBackend) failureCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures
}

// env is a running server with alice's INBOX filled.
type env struct {
	t    testing.TB
	be   *fakeBackend
	srv  *Server
	st   *store.Store
	addr string // plain listener
	// tlsAddr is the implicit-TLS listener, when Options.TLSConfig is set.
	tlsAddr string
	// certFile holds the server's certificate in PEM, when TLS is on.
	certFile  string
	uv        uint32
	uids      []uint32
	raws      [][]byte
	served    chan error
	listeners int
}

// corpus returns n realistic messages with CRLF line ends.
func corpus(n int, seed int64) [][]byte {
	g := mailgen.New(mailgen.Options{Seed: seed, Count: n, AttachmentRate: 0.05})
	out := make([][]byte, n)
	for i := range out {
		m, _ := g.Next()
		out[i] = m.Raw
	}
	return out
}

// testTLS returns a server TLS configuration and the certificate file.
func testTLS(t testing.TB) (*tls.Config, string) {
	certPEM, keyPEM, err := tlsutil.SelfSignedPEM([]string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(file, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return tlsutil.Config(cert), file
}

// newEnv starts a server with opts on 127.0.0.1:0 (and a POP3S listener
// when withTLS) and appends msgs to alice's INBOX.
func newEnv(t testing.TB, opts Options, withTLS bool, msgs [][]byte) *env {
	t.Helper()
	e := &env{t: t, be: newFakeBackend(t), served: make(chan error, 2)}
	ctx := context.Background()
	st, err := e.be.Store(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	for _, raw := range msgs {
		res, err := st.Append(ctx, store.Inbox, bytes.NewReader(raw), store.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.uv = res.UIDValidity
		e.uids = append(e.uids, res.UID)
		e.raws = append(e.raws, raw)
	}
	if withTLS {
		opts.TLSConfig, e.certFile = testTLS(t)
	}
	if opts.Hostname == "" {
		opts.Hostname = "pop.example.test"
	}
	e.srv = New(e.be, opts)
	e.addr = e.listen(false)
	if withTLS {
		e.tlsAddr = e.listen(true)
	}
	t.Cleanup(func() {
		e.srv.Close()
		for range e.listeners {
			select {
			case err := <-e.served:
				if !errors.Is(err, ErrServerClosed) {
					t.Errorf("Serve returned %v, want ErrServerClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Serve did not return after Close")
				return
			}
		}
	})
	return e
}

func (e *env) listen(implicitTLS bool) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.listeners++
	go func() {
		if implicitTLS {
			e.served <- e.srv.ServeTLS(l)
		} else {
			e.served <- e.srv.Serve(l)
		}
	}()
	return l.Addr().String()
}

// storeUIDs lists alice's INBOX UIDs now.
func (e *env) storeUIDs() []uint32 {
	e.t.Helper()
	uids, err := e.st.UIDs(context.Background(), store.Inbox)
	if err != nil {
		e.t.Fatal(err)
	}
	return uids
}

// waitIdle waits until the server has no session left.
func (e *env) waitIdle() {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.sessionCount() > 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d sessions still open", e.srv.sessionCount())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// client is a raw POP3 client for conversation tests.
type client struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

// dial connects and reads the greeting.
func (e *env) dial() *client {
	e.t.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	cl := &client{t: e.t, c: c, br: bufio.NewReader(c)}
	e.t.Cleanup(func() { c.Close() })
	cl.expect("+OK pop.example.test POP3 server ready")
	return cl
}

// dialTLS connects to the implicit TLS listener and reads the greeting.
func (e *env) dialTLS() *client {
	e.t.Helper()
	c, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		e.t.Fatal(err)
	}
	cl := &client{t: e.t, c: c, br: bufio.NewReader(c)}
	e.t.Cleanup(func() { c.Close() })
	cl.expect("+OK ")
	return cl
}

// starttls upgrades the connection after a +OK to STLS.
func (cl *client) starttls() {
	cl.t.Helper()
	tc := tls.Client(cl.c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		cl.t.Fatalf("TLS handshake: %v", err)
	}
	cl.c, cl.br = tc, bufio.NewReader(tc)
}

func (cl *client) send(line string) {
	cl.t.Helper()
	cl.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(cl.c, line+"\r\n"); err != nil {
		cl.t.Fatalf("send %q: %v", line, err)
	}
}

// readLine reads one reply line without its CRLF; every reply line must
// end with CRLF.
func (cl *client) readLine() string {
	cl.t.Helper()
	cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := cl.br.ReadString('\n')
	if err != nil {
		cl.t.Fatalf("read: %v (got %q)", err, line)
	}
	if !strings.HasSuffix(line, "\r\n") {
		cl.t.Fatalf("reply line %q does not end with CRLF", line)
	}
	return strings.TrimSuffix(line, "\r\n")
}

// expect reads a line and checks its beginning.
func (cl *client) expect(prefix string) string {
	cl.t.Helper()
	line := cl.readLine()
	if !strings.HasPrefix(line, prefix) {
		cl.t.Fatalf("got %q, want %q...", line, prefix)
	}
	return line
}

// cmd sends line and checks the status line's beginning.
func (cl *client) cmd(line, prefix string) string {
	cl.t.Helper()
	cl.send(line)
	return cl.expect(prefix)
}

// multi reads the rest of a multi-line reply, unstuffed.
func (cl *client) multi() []string {
	cl.t.Helper()
	var out []string
	for {
		line := cl.readLine()
		if line == "." {
			return out
		}
		out = append(out, strings.TrimPrefix(line, "."))
	}
}

// body reads a multi-line reply as the octets it carries: lines unstuffed,
// each with its CRLF.
func (cl *client) body() []byte {
	cl.t.Helper()
	var b bytes.Buffer
	for _, l := range cl.multi() {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// login logs alice in with USER/PASS.
func (cl *client) login() {
	cl.t.Helper()
	cl.cmd("USER "+alice, "+OK")
	cl.cmd("PASS "+alicePW, "+OK Logged in")
}

// expectClosed checks that the server closes the connection.
func (cl *client) expectClosed() {
	cl.t.Helper()
	cl.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := cl.br.ReadString('\n')
	if err == nil || !errors.Is(err, io.EOF) {
		cl.t.Fatalf("want EOF, got %q, %v", line, err)
	}
}

// plainIR is the base64 PLAIN response for user and password.
func plainIR(authz, user, pw string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pw))
}
