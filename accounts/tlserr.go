package accounts

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// TLSError is a TLS failure explained for a person: what went wrong with
// which server, and what to do about it. It wraps the original error, so
// errors.Is and errors.As still find x509 and tls errors through it.
type TLSError struct {
	Host string // the server, as "host" or "host:port"
	What string // the problem, in words
	Fix  string // the suggested remedy; may be empty
	Err  error  // the original error
}

// Error returns "tls HOST: WHAT; FIX".
func (e *TLSError) Error() string {
	s := "tls " + e.Host + ": " + e.What
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

// Unwrap returns the original error.
func (e *TLSError) Unwrap() error { return e.Err }

// ExplainTLS recognises the TLS failures people meet when they set up an
// account (wrong host name, expired certificate, private or self-signed
// CA, a plain-text port, an outdated server) and returns a *TLSError
// saying what it means and what to try. Other errors, and nil, are
// returned unchanged. host is the server as the user gave it.
func ExplainTLS(err error, host string) error {
	if err == nil {
		return nil
	}
	var (
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		unknownErr x509.UnknownAuthorityError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
	)
	e := &TLSError{Host: host, Err: err}
	switch {
	case errors.As(err, &hostErr):
		e.What = "the certificate is for " + certNames(hostErr.Certificate) + ", not " + hostErr.Host
		e.Fix = "connect with one of those names, or ask the provider which host name to use"
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
		c := invalidErr.Cert
		if now := time.Now(); c != nil && now.Before(c.NotBefore) {
			e.What = "the certificate is not valid before " + c.NotBefore.UTC().Format(time.RFC3339)
			e.Fix = "check this computer's clock"
		} else if c != nil {
			e.What = "the certificate expired on " + c.NotAfter.UTC().Format(time.RFC3339)
			e.Fix = "the server's administrator must renew it (or check this computer's clock)"
		} else {
			e.What = "the certificate has expired or is not yet valid"
			e.Fix = "check this computer's clock"
		}
	case errors.As(err, &unknownErr):
		e.What = "the certificate is signed by an unknown authority"
		if c := unknownErr.Cert; c != nil {
			if selfSigned(c) {
				e.What = fmt.Sprintf("the certificate is self-signed (%s)", c.Subject)
			} else {
				e.What = fmt.Sprintf("the certificate is issued by %s, which this system does not trust", c.Issuer)
			}
		}
		e.Fix = "if you trust this server, pass its CA certificate with --tls-ca FILE (tls_ca in config.toml)"
	case errors.As(err, &recordErr):
		e.What = "the server answered in plain text, not TLS"
		if greeting := plainGreeting(recordErr.RecordHeader[:]); greeting != "" {
			e.What += fmt.Sprintf(" (it said %q)", greeting)
		}
		e.Fix = `this port does not speak implicit TLS: use security "starttls" on it, ` +
			"or the TLS port (993 for IMAP, 995 for POP3, 465 for SMTP)"
	case errors.As(err, &alertErr) && alertErr == 70: // protocol_version, RFC 8446 §6.2
		e.What = "the server supports only TLS versions older than 1.2"
		e.Fix = "the server's administrator must enable TLS 1.2 or 1.3"
	default:
		return err
	}
	return e
}

// certNames lists the names a certificate is valid for.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return "other names"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName+" (common name only, which is no longer accepted)")
	}
	if len(names) == 0 {
		return "no names at all"
	}
	if len(names) > 8 {
		names = append(names[:8], fmt.Sprintf("and %d more", len(names)-8))
	}
	return strings.Join(names, ", ")
}

// selfSigned reports whether c signed itself.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// plainGreeting returns the readable start of a plain-text answer (the
// five bytes a TLS client took for a record header), or "".
func plainGreeting(b []byte) string {
	for _, c := range b {
		if c < 0x20 && c != '\r' && c != '\n' || c > 0x7e {
			return ""
		}
	}
	return strings.TrimSpace(string(b)) + "…"
}

// TLSConfig returns the client TLS configuration for host on acct: TLS
// 1.2 or later, and the CA certificates of acct.TLSCA as the only roots
// when it is set (the system roots otherwise).
func TLSConfig(acct AccountConfig, host string) (*tls.Config, error) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if acct.TLSCA == "" {
		return cfg, nil
	}
	pool, err := LoadCAFile(acct.TLSCA)
	if err != nil {
		return nil, fmt.Errorf("account %q: tls_ca: %w", acct.Name, err)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// LoadCAFile reads a PEM file of CA certificates into a new pool.
func LoadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read CA file %s: no PEM certificate in it", path)
	}
	return pool, nil
}
