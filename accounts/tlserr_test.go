package accounts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveTLS listens on 127.0.0.1:0 and answers each connection with a
// TLS handshake using cert (or, with plain set, a plain-text greeting).
func serveTLS(t *testing.T, cert tls.Certificate, plain string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if plain != "" {
				_, _ = io.WriteString(c, plain)
				_, _ = io.Copy(io.Discard, c)
			} else {
				s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
				_ = s.Handshake()
				_, _ = io.Copy(io.Discard, s)
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// handshake connects to addr as a client with cfg.
func handshake(t *testing.T, addr string, cfg *tls.Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if err == nil {
		conn.Close()
	}
	return err
}

func TestExplainTLS(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	tests := []struct {
		name       string
		cert       tls.Certificate
		plain      string
		serverName string
		roots      *x509.CertPool
		want       []string
		as         any // a pointer to the type errors.As must find
	}{
		{
			name:       "wrong name",
			cert:       ca.leaf(t, []string{"mail.example.org", "imap.example.org"}, now.Add(-time.Hour), now.Add(time.Hour)),
			serverName: "imap.example.com",
			roots:      ca.pool,
			want:       []string{"certificate is for mail.example.org, imap.example.org, not imap.example.com"},
			as:         new(x509.HostnameError),
		},
		{
			name:       "expired",
			cert:       ca.leaf(t, []string{"imap.example.com"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour).Truncate(time.Second)),
			serverName: "imap.example.com",
			roots:      ca.pool,
			want:       []string{"expired on " + now.Add(-24*time.Hour).Truncate(time.Second).UTC().Format(time.RFC3339), "renew"},
			as:         new(x509.CertificateInvalidError),
		},
		{
			name:       "not yet valid",
			cert:       ca.leaf(t, []string{"imap.example.com"}, now.Add(24*time.Hour), now.Add(48*time.Hour)),
			serverName: "imap.example.com",
			roots:      ca.pool,
			want:       []string{"not valid before", "clock"},
			as:         new(x509.CertificateInvalidError),
		},
		{
			name:       "self-signed",
			cert:       selfSignedCert(t, []string{"imap.example.com"}),
			serverName: "imap.example.com",
			roots:      ca.pool,
			want:       []string{"self-signed", "--tls-ca FILE"},
			as:         new(x509.UnknownAuthorityError),
		},
		{
			name:       "private CA",
			cert:       ca.leaf(t, []string{"imap.example.com"}, now.Add(-time.Hour), now.Add(time.Hour)),
			serverName: "imap.example.com",
			roots:      x509.NewCertPool(), // does not hold ca
			want:       []string{"issued by", "letterbox test CA", "not trust", "--tls-ca FILE"},
			as:         new(x509.UnknownAuthorityError),
		},
		{
			name:       "plain text port",
			plain:      "* OK IMAP4rev1 ready\r\n",
			serverName: "imap.example.com",
			want:       []string{"plain text, not TLS", `"* OK…"`, "starttls", "993"},
			as:         new(tls.RecordHeaderError),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveTLS(t, tt.cert, tt.plain)
			err := handshake(t, addr, &tls.Config{ServerName: tt.serverName, RootCAs: tt.roots, MinVersion: tls.VersionTLS12})
			if err == nil {
				t.Fatal("handshake succeeded")
			}
			explained := ExplainTLS(err, addr)
			var te *TLSError
			if !errors.As(explained, &te) {
				t.Fatalf("ExplainTLS(%v) = %v, not a *TLSError", err, explained)
			}
			msg := explained.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if !strings.HasPrefix(msg, "tls "+addr+": ") {
				t.Errorf("message %q does not start with the host", msg)
			}
			if !errors.As(explained, tt.as) {
				t.Errorf("errors.As(%T) fails through the explanation", tt.as)
			}
			if !errors.Is(explained, err) {
				t.Error("errors.Is does not find the original error")
			}
		})
	}
}

func TestExplainTLSPassesOthers(t *testing.T) {
	if ExplainTLS(nil, "h") != nil {
		t.Error("ExplainTLS(nil) != nil")
	}
	other := errors.New("connection reset")
	if got := ExplainTLS(other, "h"); got != other {
		t.Errorf("ExplainTLS(other) = %v, want it unchanged", got)
	}
	if got := ExplainTLS(tls.AlertError(70), "h:993"); !strings.Contains(got.Error(), "older than 1.2") {
		t.Errorf("protocol_version alert: %v", got)
	}
}

func TestTLSConfig(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	addr := serveTLS(t, ca.leaf(t, []string{"imap.example.com"}, now.Add(-time.Hour), now.Add(time.Hour)), "")
	acct := AccountConfig{Name: "work", TLSCA: ca.writeFile(t)}

	cfg, err := TLSConfig(acct, "imap.example.com:993")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "imap.example.com" || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("ServerName %q MinVersion %x", cfg.ServerName, cfg.MinVersion)
	}
	if err := handshake(t, addr, cfg); err != nil {
		t.Errorf("handshake with tls_ca: %v", err)
	}

	cfg, err = TLSConfig(AccountConfig{Name: "work"}, "imap.example.com")
	if err != nil || cfg.RootCAs != nil {
		t.Fatalf("without tls_ca: %v, RootCAs %v (want the system roots)", err, cfg.RootCAs)
	}
	var unknown x509.UnknownAuthorityError
	if err := handshake(t, addr, cfg); !errors.As(err, &unknown) {
		t.Errorf("system roots trusted the test CA: %v", err)
	}

	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.pem"), notPEM} {
		_, err := TLSConfig(AccountConfig{Name: "work", TLSCA: path}, "h")
		if err == nil || !strings.Contains(err.Error(), `account "work": tls_ca`) {
			t.Errorf("tls_ca %s: error %v", path, err)
		}
	}
}
