package accounts

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// probeSetup returns a CA, a certificate for 127.0.0.1 and the names
// given, and a Discoverer that trusts the CA and dials only locally.
func probeSetup(t *testing.T, names ...string) (*tls.Certificate, *Discoverer, *[]string) {
	t.Helper()
	ca := newTestCA(t)
	cert := ca.leaf(t, append([]string{"127.0.0.1"}, names...), time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	var log []string
	d := &Discoverer{
		Dial:    localDialer(names...),
		TLS:     &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12},
		Timeout: 5 * time.Second,
		Log:     func(s string) { log = append(log, s) },
	}
	return &cert, d, &log
}

func TestProbeFindsTheOpenPort(t *testing.T) {
	cert, d, log := probeSetup(t)
	tests := []struct {
		proto  Protocol
		server fakeServer
		want   Security
	}{
		{IMAP, fakeServer{proto: IMAP, implicit: cert}, SecurityTLS},
		{IMAP, fakeServer{proto: IMAP, starttls: cert}, SecurityStartTLS},
		{IMAP, fakeServer{proto: IMAP, starttls: cert, greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi"}, SecurityStartTLS},
		{POP3, fakeServer{proto: POP3, implicit: cert}, SecurityTLS},
		{POP3, fakeServer{proto: POP3, starttls: cert}, SecurityStartTLS},
		{SMTP, fakeServer{proto: SMTP, implicit: cert}, SecurityTLS},
		{SMTP, fakeServer{proto: SMTP, starttls: cert}, SecurityStartTLS},
	}
	for _, tt := range tests {
		t.Run(string(tt.proto)+"-"+string(tt.want), func(t *testing.T) {
			*log = nil
			open := tt.server.start(t)
			closed := []int{closedPort(t), closedPort(t), closedPort(t)}
			d.Ports = map[Protocol][]int{tt.proto: {closed[0], closed[1], open, closed[2]}}
			ep, attempts, err := d.Probe(context.Background(), []Candidate{{Protocol: tt.proto, Host: "127.0.0.1"}}, tt.proto)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if want := (Endpoint{"127.0.0.1", open, tt.want}); ep != want {
				t.Errorf("endpoint %v, want %v", ep, want)
			}
			if len(attempts) != 3 {
				t.Fatalf("%d attempts judged, want 3 (two refused, then the open one): %v", len(attempts), attempts)
			}
			for i, p := range closed[:2] {
				if want := "127.0.0.1:" + strconv.Itoa(p) + ": connection refused"; attempts[i].String() != want {
					t.Errorf("attempt %d = %q, want %q", i, attempts[i], want)
				}
			}
			if len(*log) != 3 || !strings.HasSuffix((*log)[2], ": ok ("+string(tt.want)+")") {
				t.Errorf("log %q", *log)
			}
		})
	}
}

func TestProbeVerifiesCertificates(t *testing.T) {
	cert, d, _ := probeSetup(t, "imap.example.test")
	self := selfSignedCert(t, []string{"imap.example.test"})
	good := fakeServer{proto: IMAP, implicit: cert}.start(t)
	bad := fakeServer{proto: IMAP, implicit: &self}.start(t)
	badSTARTTLS := fakeServer{proto: IMAP, starttls: &self}.start(t)
	d.Ports = map[Protocol][]int{IMAP: {bad, badSTARTTLS, good}}
	ep, attempts, err := d.Probe(context.Background(), []Candidate{{Protocol: IMAP, Host: "imap.example.test"}}, IMAP)
	if err != nil || ep.Port != good {
		t.Fatalf("Probe = %v, %v; want port %d", ep, err, good)
	}
	for _, a := range attempts[:2] {
		if !strings.Contains(a.String(), "self-signed") || !strings.Contains(a.String(), "--tls-ca") {
			t.Errorf("attempt %q does not explain the certificate", a)
		}
	}
}

func TestProbeGreetingMismatch(t *testing.T) {
	cert, d, _ := probeSetup(t)
	tests := []struct {
		name   string
		proto  Protocol
		server fakeServer
		want   string
	}{
		{"pop3 on imap", IMAP, fakeServer{proto: POP3}, `greeting was not IMAP (it looks like POP3): "+OK fake POP3 ready"`},
		{"smtp on pop3 over tls", POP3, fakeServer{proto: SMTP, implicit: cert}, "greeting was not POP3 (it looks like SMTP)"},
		{"imap on smtp", SMTP, fakeServer{proto: IMAP}, "greeting was not SMTP (it looks like IMAP)"},
		{"ssh", IMAP, fakeServer{proto: IMAP, greeting: "SSH-2.0-OpenSSH_9.2"}, "(it looks like SSH)"},
		{"refusal", IMAP, fakeServer{proto: IMAP, greeting: "* BYE too many connections"}, "server refused the connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := tt.server.start(t)
			d.Ports = map[Protocol][]int{tt.proto: {port}}
			_, attempts, err := d.Probe(context.Background(), []Candidate{{Protocol: tt.proto, Host: "127.0.0.1"}}, tt.proto)
			var pe *ProbeError
			if !errors.As(err, &pe) || !errors.Is(err, ErrNoServer) {
				t.Fatalf("error %v, want a *ProbeError", err)
			}
			if len(attempts) != 1 || !strings.Contains(attempts[0].String(), tt.want) {
				t.Errorf("attempts %v, want %q", attempts, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

func TestProbePlainPorts(t *testing.T) {
	cert, d, _ := probeSetup(t)
	plain := fakeServer{proto: SMTP}.start(t)
	secure := fakeServer{proto: SMTP, implicit: cert}.start(t)
	cands := []Candidate{{Protocol: SMTP, Host: "127.0.0.1"}}
	ctx := context.Background()

	d.Ports = map[Protocol][]int{SMTP: {plain}}
	_, attempts, err := d.Probe(ctx, cands, SMTP)
	if !errors.Is(err, ErrNoServer) || len(attempts) != 1 || !errors.Is(attempts[0].Err, ErrNoTLS) {
		t.Fatalf("plain port without AllowPlain: %v, %v", err, attempts)
	}

	d.AllowPlain = true
	if ep, _, err := d.Probe(ctx, cands, SMTP); err != nil || ep != (Endpoint{"127.0.0.1", plain, SecurityNone}) {
		t.Errorf("AllowPlain: %v, %v; want the plain port", ep, err)
	}
	d.Ports = map[Protocol][]int{SMTP: {plain, secure}}
	if ep, _, err := d.Probe(ctx, cands, SMTP); err != nil || ep.Port != secure {
		t.Errorf("AllowPlain with a TLS port later: %v, %v; want the TLS port", ep, err)
	}
}

func TestProbeReportsInPreferenceOrder(t *testing.T) {
	cert, d, log := probeSetup(t)
	slow := fakeServer{proto: POP3, implicit: cert, delay: 300 * time.Millisecond}.start(t)
	fast := fakeServer{proto: POP3, implicit: cert}.start(t)
	closed := closedPort(t)
	d.Ports = map[Protocol][]int{POP3: {closed, slow, fast}}
	ep, attempts, err := d.Probe(context.Background(), []Candidate{{Protocol: POP3, Host: "127.0.0.1"}}, POP3)
	if err != nil || ep.Port != slow {
		t.Fatalf("Probe = %v, %v; want the slower but preferred port %d", ep, err, slow)
	}
	if len(attempts) != 2 || len(*log) != 2 {
		t.Errorf("attempts %v log %q: want the refused port, then the chosen one", attempts, *log)
	}
}

func TestProbeCandidatesOrder(t *testing.T) {
	cert, d, _ := probeSetup(t, "imap.example.test", "mail.example.test")
	named := fakeServer{proto: IMAP, starttls: cert}.start(t)
	guessed := fakeServer{proto: IMAP, implicit: cert}.start(t)
	d.Ports = map[Protocol][]int{IMAP: {guessed}}
	cands := []Candidate{
		{Protocol: SMTP, Host: "127.0.0.1", Port: named},                                     // another protocol: ignored
		{Protocol: IMAP, Host: "imap.example.test", Port: named, Security: SecurityStartTLS}, // autoconfig
		{Protocol: IMAP, Host: "mail.example.test"},                                          // guess
	}
	ep, _, err := d.Probe(context.Background(), cands, IMAP)
	if err != nil || ep != (Endpoint{"imap.example.test", named, SecurityStartTLS}) {
		t.Errorf("Probe = %v, %v; want the named port first", ep, err)
	}
}

func TestProbeNothingAnswers(t *testing.T) {
	_, d, _ := probeSetup(t)
	// A server that accepts and never says a word.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	silent := ln.Addr().(*net.TCPAddr).Port
	closed := closedPort(t)
	d.Timeout = 200 * time.Millisecond
	d.Ports = map[Protocol][]int{IMAP: {closed, silent}}
	d.Dial = localDialer("localhost")
	cands := []Candidate{
		{Protocol: IMAP, Host: "127.0.0.1"},
		{Protocol: IMAP, Host: "localhost", Port: silent, Security: SecurityStartTLS},
		{Protocol: IMAP, Host: "imap.elsewhere.test"}, // refused by the test dialer
	}
	_, attempts, err := d.Probe(context.Background(), cands, IMAP)
	if !errors.Is(err, ErrNoServer) {
		t.Fatalf("error %v", err)
	}
	want := []string{
		"127.0.0.1:" + strconv.Itoa(closed) + ": connection refused",
		"127.0.0.1:" + strconv.Itoa(silent) + ": timeout (TLS handshake)",
		"localhost:" + strconv.Itoa(silent) + ": timeout (greeting)",
		"imap.elsewhere.test:" + strconv.Itoa(closed) + ": connection refused",
		"imap.elsewhere.test:" + strconv.Itoa(silent) + ": connection refused",
	}
	if len(attempts) != len(want) {
		t.Fatalf("attempts %v, want %d", attempts, len(want))
	}
	for i, w := range want {
		if attempts[i].String() != w {
			t.Errorf("attempt %d = %q, want %q", i, attempts[i], w)
		}
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "no IMAP server answered: "+want[0]+"; ") || !strings.HasSuffix(msg, " — try --imap HOST:PORT") {
		t.Errorf("message %q", msg)
	}
}

func TestProbeCancelled(t *testing.T) {
	_, d, _ := probeSetup(t)
	d.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := d.Probe(ctx, []Candidate{{Protocol: IMAP, Host: "imap.example.test"}}, IMAP)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("Probe did not stop with its context")
	}
	if _, _, err := d.Probe(ctx, nil, IMAP); err == nil || !strings.Contains(err.Error(), "no candidate") {
		t.Errorf("Probe without candidates: %v", err)
	}
}

func TestCandidateFor(t *testing.T) {
	tests := []struct {
		in      string
		want    Candidate
		wantErr string
	}{
		{"imap.example.com", Candidate{Protocol: IMAP, Host: "imap.example.com", Source: "command line"}, ""},
		{"imap.example.com:1993", Candidate{Protocol: IMAP, Host: "imap.example.com", Port: 1993, Source: "command line"}, ""},
		{"[::1]:993", Candidate{Protocol: IMAP, Host: "::1", Port: 993, Source: "command line"}, ""},
		{"imap.example.com:imaps", Candidate{}, "not a TCP port"},
		{"imap.example.com:0", Candidate{}, "not a TCP port"},
		{"imap example", Candidate{}, "not a host name"},
		{"", Candidate{}, "not a host name"},
	}
	for _, tt := range tests {
		got, err := CandidateFor(IMAP, tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "--imap") {
				t.Errorf("CandidateFor(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CandidateFor(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
