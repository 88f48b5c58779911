package imapsync

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/server/users"
)

// The same scenarios run against our server (in-process, no CONDSTORE)
// and a real Dovecot (CONDSTORE, QRESYNC, MOVE, UIDPLUS), so both flag
// paths are exercised. Clients reach either through a loopback proxy
// that can refuse connections or cut them at a byte offset.

const (
	testUser = "ann@example.test"
	testPass = "pw"
)

// peer is a running IMAP server for one test.
type peer struct {
	name   string
	direct string // the server's own address, for seeding and checks
	proxy  *proxy
	stop   func()
	start  func()
	// condstore reports whether the server offers CONDSTORE.
	condstore bool
	// tlsAddr and startTLSAddr take implicit TLS and STARTTLS; roots
	// trusts the server's certificate for 127.0.0.1.
	tlsAddr, startTLSAddr string
	roots                 *x509.CertPool
	// keepsCutAppend marks a server that stores the part of an APPEND
	// literal it got before the connection dropped. Nothing a client does
	// can undo a message that appears after it gave up, so the fault test
	// would not cut syncs that upload against such a server. Ours used to
	// (fixed in server/imap/copy.go, tested by TestAppendCutMidLiteral);
	// no peer sets it now.
	keepsCutAppend bool
	// dovecot is the Dovecot behind a "dovecot" peer (its Maildirs).
	dovecot *testpeer.Dovecot
}

// config returns the sync configuration through the proxy.
func (p *peer) config() Config {
	return Config{Addr: p.proxy.addr(), Security: SecurityNone, Login: testUser, Password: testPass}
}

var peers = []struct {
	name  string
	start func(t *testing.T) *peer
}{
	{"letterbox", startOurs},
	{"dovecot", startDovecot},
}

// forEachPeer runs fn as a subtest against every peer.
func forEachPeer(t *testing.T, fn func(t *testing.T, p *peer)) {
	for _, pc := range peers {
		t.Run(pc.name, func(t *testing.T) { fn(t, pc.start(t)) })
	}
}

func startOurs(t *testing.T) *peer {
	t.Helper()
	data := t.TempDir()
	var s *server.Server
	p := &peer{name: "letterbox"}
	run := func() {
		cfg := &server.Config{Dev: true, Hostname: "mx.example.test", Domains: []string{"example.test"}, Data: data,
			Listen: server.Listen{IMAP: "127.0.0.1:0", IMAPS: "127.0.0.1:0", SMTP: "off", Submission: "off", SMTPS: "off", POP3: "off", POP3S: "off"}}
		if err := cfg.Finish(); err != nil {
			t.Fatal(err)
		}
		var err error
		var log *slog.Logger
		if os.Getenv("LETTERBOX_SERVER_LOG") != "" {
			log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		if s, err = server.New(cfg, log); err != nil {
			t.Fatal(err)
		}
		if err := s.Backend.Users.Add(testUser, testPass); err != nil && !errors.Is(err, users.ErrExists) {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		p.direct = s.Addr("imap").String()
		p.tlsAddr, p.startTLSAddr = s.Addr("imaps").String(), p.direct
		pem, err := os.ReadFile(s.CertFile)
		if err != nil {
			t.Fatal(err)
		}
		p.roots = x509.NewCertPool()
		p.roots.AppendCertsFromPEM(pem)
		if p.proxy != nil {
			p.proxy.target.Store(p.direct)
		}
	}
	shutdown := func() {
		if s == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		s = nil
	}
	run()
	p.proxy = newProxy(t, p.direct)
	p.stop, p.start = shutdown, run
	t.Cleanup(shutdown)
	return p
}

func startDovecot(t *testing.T) *peer {
	t.Helper()
	d := testpeer.StartDovecot(t, map[string]string{testUser: testPass})
	p := &peer{name: "dovecot", direct: d.IMAP, condstore: true, tlsAddr: d.IMAPS, startTLSAddr: d.IMAP, roots: d.Roots, dovecot: d}
	p.proxy = newProxy(t, d.IMAP)
	p.stop = d.Stop
	p.start = func() { d.Restart(t) }
	return p
}

// proxy forwards loopback TCP connections to a target. cut > 0 closes a
// connection once that many bytes (both directions) went through.
type proxy struct {
	ln     net.Listener
	target atomic.Value // string
	cut    atomic.Int64
	// last is the number of bytes the last finished connection moved;
	// total counts the bytes of all of them.
	last, total atomic.Int64
	// cutOnly limits the cut to the next cutN connections (the rest go
	// through whole); otherwise every connection is cut.
	cutOnly atomic.Bool
	cutN    atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
	// pipes counts the connections being relayed; ended is signalled
	// each time one finishes.
	pipes int
	ended chan struct{}
	// record keeps what clients send in sent (under mu), for tests that
	// look at the commands a sync made.
	record atomic.Bool
	sent   []byte
}

// takeSent returns what clients sent since the last call (with record
// set).
func (p *proxy) takeSent() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := string(p.sent)
	p.sent = nil
	return s
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, conns: map[net.Conn]bool{}, ended: make(chan struct{}, 1)}
	p.target.Store(target)
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// kill drops every open connection, as a network failure would.
func (p *proxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		p.mu.Lock()
		p.pipes++
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			defer p.pipeEnded()
			p.pipe(c)
		}()
	}
}

func (p *proxy) pipeEnded() {
	p.mu.Lock()
	p.pipes--
	p.mu.Unlock()
	select {
	case p.ended <- struct{}{}:
	default:
	}
}

// waitIdle waits until no connection is being relayed, so that last
// counts the connection that just finished.
func (p *proxy) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		p.mu.Lock()
		idle := p.pipes == 0
		p.mu.Unlock()
		if idle {
			return
		}
		select {
		case <-p.ended:
		case <-deadline:
			t.Fatal("the proxy still relays a connection")
		}
	}
}

// pipe relays one connection until either side closes or the cut.
func (p *proxy) pipe(c net.Conn) {
	defer c.Close()
	s, err := net.DialTimeout("tcp", p.target.Load().(string), 5*time.Second)
	if err != nil {
		return
	}
	defer s.Close()
	p.track(c, true)
	p.track(s, true)
	defer p.track(c, false)
	defer p.track(s, false)
	var used atomic.Int64
	limit := p.cut.Load()
	if p.cutOnly.Load() && p.cutN.Add(-1) < 0 {
		limit = 0
	}
	defer func() { p.total.Add(used.Load()) }()
	var once sync.Once
	closeBoth := func() { once.Do(func() { c.Close(); s.Close() }) }
	copyDir := func(dst, src net.Conn, fromClient bool) {
		defer closeBoth()
		buf := make([]byte, 4096)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				total := used.Add(int64(n))
				if limit > 0 {
					left := limit - total + int64(n)
					if left <= 0 {
						return
					}
					if int64(n) > left {
						dst.Write(buf[:left])
						return
					}
				}
				if fromClient && p.record.Load() {
					p.mu.Lock()
					p.sent = append(p.sent, buf[:n]...)
					p.mu.Unlock()
				}
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					return
				}
				return
			}
		}
	}
	done := make(chan struct{})
	go func() { copyDir(s, c, true); close(done) }()
	copyDir(c, s, false)
	<-done
	p.last.Store(used.Load())
}
