package sync

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/tlsutil"
)

// TestClassify: the one network classifier, on made errors (the shapes the
// standard library returns) and on real ones from 127.0.0.1.
func TestClassify(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), -time.Second)
	defer cancel2()
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, Other},
		{"local", errors.New("disk full"), Other},
		{"cancelled", context.Canceled, Cancelled},
		{"cancelled, wrapped", fmt.Errorf("read: %w", cancelled.Err()), Cancelled},
		{"context deadline", expired.Err(), Temporary},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, Temporary},
		{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: &timeoutErr{}}, Temporary},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, Temporary},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, Temporary},
		{"reset, bare errno", syscall.ECONNRESET, Temporary},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), Temporary},
		{"unreachable", syscall.ENETUNREACH, Temporary},
		{"host down", syscall.EHOSTUNREACH, Temporary},
		{"other errno", syscall.EACCES, Other},
		{"EOF mid-command", fmt.Errorf("fetch: %w", io.ErrUnexpectedEOF), Temporary},
		{"EOF", io.EOF, Temporary},
		{"closed", net.ErrClosed, Temporary},
		{"DNS temporary", &net.DNSError{Err: "server misbehaving", Name: "mail.example", IsTemporary: true}, Temporary},
		{"DNS timeout", &net.DNSError{Err: "i/o timeout", Name: "mail.example", IsTimeout: true}, Temporary},
		{"DNS not found", &net.DNSError{Err: "no such host", Name: "mail.example", IsNotFound: true}, Temporary},
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, Permanent},
		{"wrong host", fmt.Errorf("handshake: %w", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "x"}), Permanent},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired}, Permanent},
		{"certificate inside a net error", &net.OpError{Op: "read", Err: &tls.CertificateVerificationError{Err: errors.New("bad")}}, Permanent},
		{"TLS alert from the server", &net.OpError{Op: "remote error", Err: errors.New("tls: handshake failure")}, Permanent},
		{"TLS alert sent", tls.AlertError(40), Permanent},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, Protocol},
		{"cancelled beats a cut", fmt.Errorf("%w (%w)", context.Canceled, io.EOF), Cancelled},
	}
	for _, tc := range tests {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "dial timed out" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }

// TestClassifyLive classifies what real connections on 127.0.0.1 return.
func TestClassifyLive(t *testing.T) {
	ctx := context.Background()
	var d net.Dialer

	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	_, refused := d.DialContext(ctx, "tcp", closed)

	// A TLS server whose certificate we do not trust, a plain-text server
	// on a port we expect TLS on, a server that hangs up mid-handshake and
	// one that never answers.
	cert, err := tlsutil.SelfSigned([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(handle func(net.Conn)) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					handle(c)
				}()
			}
		}()
		return ln.Addr().String()
	}
	untrusted := serve(func(c net.Conn) { tls.Server(c, tlsutil.Config(cert)).Handshake() })
	plain := serve(func(c net.Conn) {
		c.Write([]byte("* OK IMAP4rev1 ready\r\n"))
		io.Copy(io.Discard, c)
	})
	hangup := serve(func(c net.Conn) {})
	silent := serve(func(c net.Conn) { io.Copy(io.Discard, c) })

	handshake := func(addr string, timeout time.Duration) error {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return tls.Client(c, &tls.Config{ServerName: "127.0.0.1"}).HandshakeContext(hctx)
	}
	readTimeout := func() error {
		c, err := d.DialContext(ctx, "tcp", silent)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		_, err = c.Read(make([]byte, 1))
		return err
	}

	for _, tc := range []struct {
		name string
		err  error
		want Kind
	}{
		{"connection refused", refused, Temporary},
		{"untrusted certificate", handshake(untrusted, 10*time.Second), Permanent},
		{"plain text on a TLS port", handshake(plain, 10*time.Second), Protocol},
		{"hang-up mid-handshake", handshake(hangup, 10*time.Second), Temporary},
		{"handshake timeout", handshake(silent, 20*time.Millisecond), Temporary},
		{"read timeout", readTimeout(), Temporary},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestKinds: the sentinels, KindOf through wrapping, and the message of
// an operation that timed out.
func TestKinds(t *testing.T) {
	auth := &Error{Op: "imap login", Kind: Auth, Err: errors.New("NO [AUTHENTICATIONFAILED] wrong")}
	tests := []struct {
		name      string
		err       error
		kind      Kind
		is, isnt  []error
		temporary bool
	}{
		{"auth", auth, Auth, []error{ErrAuth, ErrPermanent}, []error{ErrTemporary, ErrProtocol}, false},
		{"auth, wrapped", fmt.Errorf("work: %w", auth), Auth, []error{ErrAuth, ErrPermanent}, []error{ErrTemporary}, false},
		{"protocol", &Error{Op: "pop3 STAT", Kind: Protocol, Err: errors.New("bad reply")}, Protocol, []error{ErrProtocol, ErrPermanent}, []error{ErrAuth}, false},
		{"sentinel wrapped by fmt", fmt.Errorf("line too long: %w", ErrProtocol), Protocol, []error{ErrProtocol, ErrPermanent}, nil, false},
		{"temporary", E("smtp data", Other, io.ErrUnexpectedEOF), Temporary, []error{ErrTemporary, io.ErrUnexpectedEOF}, []error{ErrPermanent}, true},
		{"cancelled", E("imap idle", Other, context.Canceled), Cancelled, []error{ErrCancelled, context.Canceled}, []error{ErrTemporary, ErrPermanent}, false},
		{"outer kind wins", &Error{Op: "sync", Kind: Temporary, Err: auth}, Temporary, []error{ErrTemporary}, nil, true},
		{"an unclassified outer layer defers", &Error{Op: "sync", Err: auth}, Auth, []error{ErrAuth}, nil, false},
		{"unclassified network error", fmt.Errorf("x: %w", syscall.ECONNRESET), Temporary, nil, nil, true},
		{"joined", errors.Join(errors.New("local"), auth), Auth, []error{ErrAuth}, nil, false},
		{"local", errors.New("disk full"), Other, nil, []error{ErrTemporary, ErrPermanent, ErrAuth, ErrProtocol, ErrCancelled}, false},
	}
	for _, tc := range tests {
		if got := KindOf(tc.err); got != tc.kind {
			t.Errorf("%s: KindOf = %v, want %v", tc.name, got, tc.kind)
		}
		for _, s := range tc.is {
			if !errors.Is(tc.err, s) {
				t.Errorf("%s: not errors.Is %v", tc.name, s)
			}
		}
		for _, s := range tc.isnt {
			if errors.Is(tc.err, s) {
				t.Errorf("%s: errors.Is %v", tc.name, s)
			}
		}
		if IsTemporary(tc.err) != tc.temporary {
			t.Errorf("%s: IsTemporary = %v", tc.name, !tc.temporary)
		}
	}
	if E("op", Other, nil) != nil {
		t.Error("E of nil is not nil")
	}
	var e *Error
	if err := E("imap fetch", Permanent, auth); !errors.As(err, &e) || e.Kind != Permanent {
		t.Errorf("E with an explicit kind: %v", err)
	}

	// A timeout names the operation that timed out, and is temporary.
	to := E("imap fetch INBOX", Other, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded})
	if !IsTemporary(to) || !IsTimeout(to) || !strings.HasPrefix(to.Error(), "imap fetch INBOX timed out: ") {
		t.Errorf("timeout: %q, temporary %v", to, IsTemporary(to))
	}
	deadline := E("smtp connect", Other, context.DeadlineExceeded)
	if !IsTemporary(deadline) || deadline.Error() != "smtp connect timed out: context deadline exceeded" {
		t.Errorf("context deadline: %q", deadline)
	}
	if s := (&Error{Kind: Temporary, Err: io.EOF}).Error(); s != "EOF" {
		t.Errorf("an Error without Op adds nothing to the message: %q", s)
	}
	for k := Other; k <= Cancelled; k++ {
		if k.String() == "unknown kind" {
			t.Errorf("kind %d has no name", k)
		}
	}
}
