package queue

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
)

// fakeMX is a receiving SMTP server on loopback.
type fakeMX struct {
	mu    sync.Mutex
	got   []string // messages
	utf8  []bool   // whether each came with SMTPUTF8
	port  string
	certs *x509.CertPool // trusts its certificate
}

type fakeMXSession struct {
	mx   *fakeMX
	utf8 bool
}

func (s *fakeMXSession) Mail(from string, opts *smtp.MailOptions) error {
	s.utf8 = opts != nil && opts.UTF8
	return nil
}
func (s *fakeMXSession) Rcpt(to string, opts *smtp.RcptOptions) error { return nil }
func (s *fakeMXSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mx.mu.Lock()
	defer s.mx.mu.Unlock()
	s.mx.got = append(s.mx.got, string(b))
	s.mx.utf8 = append(s.mx.utf8, s.utf8)
	return nil
}
func (s *fakeMXSession) Reset()        {}
func (s *fakeMXSession) Logout() error { return nil }

func (mx *fakeMX) count() int {
	mx.mu.Lock()
	defer mx.mu.Unlock()
	return len(mx.got)
}

// selfSigned returns a certificate for names and a pool trusting it.
func selfSigned(t *testing.T, names ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, err := tlsutil.SelfSigned(names)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return cert, pool
}

// startMX starts a fake MX; certName "" offers no STARTTLS.
func startMX(t *testing.T, certName string, utf8 bool) *fakeMX {
	t.Helper()
	mx := &fakeMX{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &fakeMXSession{mx: mx}, nil }))
	srv.Domain = "mx.b.test"
	srv.EnableSMTPUTF8 = utf8
	if certName != "" {
		var cert tls.Certificate
		cert, mx.certs = selfSigned(t, certName)
		srv.TLSConfig = tlsutil.Config(cert)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, mx.port, _ = net.SplitHostPort(l.Addr().String())
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return mx
}

// policyServer serves an MTA-STS policy over HTTPS on loopback with a
// certificate for mta-sts.b.test, and counts the fetches.
type policyServer struct {
	mu      sync.Mutex
	policy  string
	fetches atomic.Int32
	client  *http.Client
}

func (p *policyServer) set(policy string) {
	p.mu.Lock()
	p.policy = policy
	p.mu.Unlock()
}

func startPolicyServer(t *testing.T, policy string) *policyServer {
	t.Helper()
	ps := &policyServer{policy: policy}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.fetches.Add(1)
		if r.Host != "mta-sts.b.test" || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		ps.mu.Lock()
		defer ps.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, ps.policy)
	}))
	cert, pool := selfSigned(t, "mta-sts.b.test")
	srv.TLS = tlsutil.Config(cert)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	ps.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	return ps
}

const enforcePolicy = "version: STSv1\r\nmode: enforce\r\nmx: mx.b.test\r\nmx: *.backup.b.test\r\nmax_age: 86400\r\n"

// stsQueue opens a queue delivering b.test to mx, with the given TXT
// records for _mta-sts.b.test, and enqueues one message.
func stsQueue(t *testing.T, mx *fakeMX, ps *policyServer, zones map[string]testpeer.Zone) (*Queue, *Item) {
	t.Helper()
	all := map[string]testpeer.Zone{
		"b.test":    {MX: []*net.MX{{Host: "mx.b.test.", Pref: 10}}},
		"mx.b.test": {A: []string{"127.0.0.1"}},
	}
	for k, v := range zones {
		all[k] = v
	}
	opts := Options{Resolver: &testpeer.DNS{Zones: all}, Port: mx.port, TLSRoots: mx.certs}
	if ps != nil {
		opts.HTTPClient = ps.client
	}
	q, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	id, err := q.Enqueue(context.Background(), "alice@a.test", []string{"bob@b.test"}, strings.NewReader("Subject: hi\r\n\r\nbody\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	it, err := q.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return q, it
}

func TestMTASTS(t *testing.T) {
	txt := map[string]testpeer.Zone{"_mta-sts.b.test": {TXT: []string{"v=STSv1; id=20260101"}}}
	tests := []struct {
		name     string
		certName string // the MX's certificate; "" for no STARTTLS
		policy   string
		zones    map[string]testpeer.Zone
		ok       bool
		want     string // in the result
	}{
		{"enforce, valid certificate", "mx.b.test", enforcePolicy, txt, true, "TLS verified"},
		{"enforce, certificate for another name", "wrong.test", enforcePolicy, txt, false, "certificate"},
		{"enforce, no STARTTLS", "", enforcePolicy, txt, false, "does not offer STARTTLS"},
		{"enforce, MX not in the policy", "mx.b.test", strings.Replace(enforcePolicy, "mx: mx.b.test", "mx: other.b.test", 1), txt, false, "no MX host of b.test matches"},
		{"testing, certificate for another name", "wrong.test", strings.Replace(enforcePolicy, "enforce", "testing", 1), txt, true, "(TLS)"},
		{"testing, no STARTTLS", "", strings.Replace(enforcePolicy, "enforce", "testing", 1), txt, true, "(no TLS)"},
		{"mode none", "wrong.test", strings.Replace(enforcePolicy, "enforce", "none", 1), txt, true, "(TLS)"},
		{"no TXT record: opportunistic", "wrong.test", enforcePolicy, nil, true, "(TLS)"},
		{"policy unreachable: opportunistic", "wrong.test", "not a policy", txt, true, "(TLS)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mx := startMX(t, tt.certName, false)
			if mx.certs == nil {
				_, mx.certs = selfSigned(t, "mx.b.test")
			}
			ps := startPolicyServer(t, tt.policy)
			q, it := stsQueue(t, mx, ps, tt.zones)
			res := q.sendDomain(context.Background(), it, "b.test", []string{"bob@b.test"})["bob@b.test"]
			if ok := !res.perm && !res.temp; ok != tt.ok || !strings.Contains(res.msg, tt.want) {
				t.Fatalf("result %+v, want ok=%v with %q", res, tt.ok, tt.want)
			}
			if !tt.ok && !res.temp {
				t.Errorf("an MTA-STS failure must defer, not bounce: %+v", res)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.ok]; mx.count() != want {
				t.Errorf("MX received %d messages, want %d", mx.count(), want)
			}
		})
	}
}

// TestMTASTSCache: a policy is fetched once and kept for max_age; a new
// TXT id fetches it again; with the TXT record gone a cached policy is
// still enforced until it expires; it is cached on disk.
func TestMTASTSCache(t *testing.T) {
	mx := startMX(t, "mx.b.test", false)
	ps := startPolicyServer(t, enforcePolicy)
	zones := map[string]testpeer.Zone{"_mta-sts.b.test": {TXT: []string{"v=STSv1; id=1"}}}
	q, _ := stsQueue(t, mx, ps, zones)
	res := q.opts.Resolver.(*testpeer.DNS)
	ctx := context.Background()
	p := q.sts.policy(ctx, "b.test")
	if p == nil || p.Mode != stsEnforce || !p.matches("mx.b.test") || !p.matches("a.backup.b.test") || p.matches("a.b.backup.b.test") || p.matches("b.test") {
		t.Fatalf("policy = %+v", p)
	}
	q.sts.policy(ctx, "b.test")
	if n := ps.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for an unchanged id, want 1", n)
	}
	if _, err := os.Stat(q.sts.path("b.test")); err != nil {
		t.Fatalf("policy not cached on disk: %v", err)
	}
	// A new queue (a restart) uses the disk cache.
	q2, err := Open(t.TempDir(), Options{Resolver: res, HTTPClient: ps.client, MTASTSDir: q.opts.MTASTSDir})
	if err != nil {
		t.Fatal(err)
	}
	if p := q2.sts.policy(ctx, "b.test"); p == nil || ps.fetches.Load() != 1 {
		t.Fatalf("restart: policy %+v after %d fetches", p, ps.fetches.Load())
	}
	// The id changes: fetched again.
	ps.set(strings.Replace(enforcePolicy, "enforce", "testing", 1))
	res.Zones["_mta-sts.b.test"] = testpeer.Zone{TXT: []string{"v=STSv1; id=2"}}
	if p := q.sts.policy(ctx, "b.test"); p == nil || p.Mode != stsTesting || ps.fetches.Load() != 2 {
		t.Fatalf("after an id change: %+v, %d fetches", p, ps.fetches.Load())
	}
	// The TXT record goes: the cached policy holds.
	delete(res.Zones, "_mta-sts.b.test")
	if p := q.sts.policy(ctx, "b.test"); p == nil || p.ID != "2" {
		t.Fatalf("without a TXT record: %+v", p)
	}
	// Once max_age has passed it does not.
	p = q.sts.load("b.test")
	p.Fetched = time.Now().Add(-25 * time.Hour)
	if err := q.sts.save(p); err != nil {
		t.Fatal(err)
	}
	if p := q.sts.policy(ctx, "b.test"); p != nil {
		t.Fatalf("expired policy used: %+v", p)
	}
}

func TestParsePolicy(t *testing.T) {
	for _, bad := range []string{
		"", "version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n", "version: STSv1\nmode: block\nmx: a\nmax_age: 1\n",
		"version: STSv1\nmode: enforce\nmax_age: 1\n", "version: STSv1\nmode: enforce\nmx: a\n",
		"version: STSv1\nmode: enforce\nmx: a\nmax_age: -5\n", "version: STSv1\nmode: enforce\nmx: a\nmax_age: 99999999999\n",
	} {
		if p, err := parsePolicy(bad); err == nil {
			t.Errorf("parsePolicy(%q) = %+v, want an error", bad, p)
		}
	}
	p, err := parsePolicy("version: STSv1\nmode: none\nmax_age: 999999999\n")
	if err != nil || p.MaxAge != maxMaxAge {
		t.Errorf("mode none = %+v, %v", p, err)
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(enforcePolicy)
	f.Add("version: STSv1\nmode: none\nmax_age: 0\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePolicy(s)
		if err != nil {
			return
		}
		if p.MaxAge < 0 || p.MaxAge > maxMaxAge || (p.Mode != stsNone && len(p.MX) == 0) {
			t.Fatalf("parsePolicy(%q) = %+v", s, p)
		}
	})
}

// TestSMTPUTF8NextHop: a message that came with SMTPUTF8 goes on with
// it; to a next hop without it, it is returned (5.6.7) if an address or
// the header needs it, and sent plainly otherwise (RFC 6531 section 3.2).
func TestSMTPUTF8NextHop(t *testing.T) {
	tests := []struct {
		name       string
		nextHasIt  bool
		from, body string
		ok         bool
		sentUTF8   bool
	}{
		{"next hop has SMTPUTF8", true, "jörg@a.test", "Subject: grüße\r\n\r\nx\r\n", true, true},
		{"UTF-8 sender, next hop without", false, "jörg@a.test", "Subject: hi\r\n\r\nx\r\n", false, false},
		{"UTF-8 header, next hop without", false, "alice@a.test", "Subject: grüße\r\n\r\nx\r\n", false, false},
		{"all ASCII after all, next hop without", false, "alice@a.test", "Subject: hi\r\n\r\ngrüße im Text\r\n", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mx := startMX(t, "", tt.nextHasIt)
			q, err := Open(t.TempDir(), Options{Port: mx.port, Resolver: &testpeer.DNS{Zones: map[string]testpeer.Zone{
				"b.test": {MX: []*net.MX{{Host: "mx.b.test.", Pref: 10}}}, "mx.b.test": {A: []string{"127.0.0.1"}}}}})
			if err != nil {
				t.Fatal(err)
			}
			p, err := q.Prepare(context.Background(), Envelope{From: tt.from, Rcpts: []string{"bob@b.test"}, UTF8: true}, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			id, err := p.Commit()
			if err != nil {
				t.Fatal(err)
			}
			it, _ := q.Get(id)
			res := q.sendDomain(context.Background(), it, "b.test", []string{"bob@b.test"})["bob@b.test"]
			if ok := !res.perm && !res.temp; ok != tt.ok {
				t.Fatalf("result %+v, want ok=%v", res, tt.ok)
			}
			if !tt.ok && (!res.perm || !strings.Contains(res.msg, "5.6.7")) {
				t.Fatalf("want a permanent 5.6.7 failure (a bounce), got %+v", res)
			}
			if tt.ok && (mx.count() != 1 || mx.utf8[0] != tt.sentUTF8) {
				t.Fatalf("sent %d, SMTPUTF8 %v; want SMTPUTF8 %v", mx.count(), mx.utf8, tt.sentUTF8)
			}
		})
	}
}
