package tlsutil

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls", "cert.pem"), filepath.Join(dir, "tls", "key.pem")
	c1, created, err := LoadOrCreate(cert, key, []string{"mail.example.test", "127.0.0.1"})
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if fi, _ := os.Stat(key); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode())
	}
	c2, created, err := LoadOrCreate(cert, key, nil)
	if err != nil || created || !bytes.Equal(c1.Certificate[0], c2.Certificate[0]) {
		t.Fatalf("second start must reuse the certificate: %v %v", created, err)
	}
	leaf, err := x509.ParseCertificate(c1.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("mail.example.test"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	os.Remove(key)
	if _, _, err := LoadOrCreate(cert, key, nil); err == nil {
		t.Error("a certificate without its key was accepted (or silently replaced)")
	}

	// A client that trusts the file completes a handshake.
	l, err := tls.Listen("tcp", "127.0.0.1:0", Config(c1))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pem)
	conn, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "mail.example.test"})
	if err != nil {
		t.Fatalf("handshake with the generated certificate: %v", err)
	}
	conn.Close()
}
