package smtpd

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/netlimit"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
)

// limitServer serves opts on a netlimit listener with popts, as the
// daemon does, and returns the server, its address and a dialer that
// reads the greeting.
func limitServer(t *testing.T, be Backend, opts Options, popts netlimit.ProtocolOptions) (*Server, string, func() *conv) {
	t.Helper()
	cert, err := tlsutil.SelfSigned([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	opts.TLSConfig = tlsutil.Config(cert)
	if be == nil {
		be = fakeBackend{}
	}
	s := New(be, &fakeDeliverer{}, opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := netlimit.New(netlimit.Options{MaxConns: 100})
	popts.Name = "smtp"
	served := make(chan error, 1)
	go func() { served <- s.Serve(lim.Protocol(popts).Listen(l, nil)) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	addr := l.Addr().String()
	return s, addr, func() *conv {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		t.Cleanup(func() { c.Close() })
		cv := &conv{t: t, c: c, r: bufio.NewReader(c)}
		cv.expect("220 ")
		return cv
	}
}

// closedWithin fails unless the server closes the connection within d,
// and returns what was left to read.
func (c *conv) closedWithin(d time.Duration) string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c.r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("still open after %v (read %q)", d, b)
	}
	return string(b)
}

func TestConnsPerIP(t *testing.T) {
	_, addr, dial := limitServer(t, nil, Options{Mode: ModeMX},
		netlimit.ProtocolOptions{MaxConnsPerIP: 2, Refusal: "421 4.7.0 %s\r\n"})
	a, _ := dial(), dial()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "421 4.7.0") {
		t.Fatalf("third connection got %q, want 421", line)
	}
	a.cmd("QUIT", "221 ")
	a.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.HasPrefix(line, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed connection's slot was not freed: %q", line)
		}
	}
}

// Submission: a short idle timeout until AUTH, go-smtp's command timeout
// after it.
func TestLoginIdleTimeout(t *testing.T) {
	_, _, dial := limitServer(t, nil, Options{Mode: ModeSubmission, AllowInsecureAuth: true,
		LoginIdleTimeout: 100 * time.Millisecond}, netlimit.ProtocolOptions{})
	c := dial()
	if got := c.closedWithin(5 * time.Second); !strings.HasPrefix(got, "421 4.4.2") {
		t.Fatalf("before AUTH: %q", got)
	}
	c = dial()
	c.cmd("EHLO client.test", "250 ")
	c.cmd("AUTH PLAIN "+plain("alice@a.test", "secret"), "235 ")
	c.c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if line, err := c.r.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after AUTH: %q, %v; want the session kept", line, err)
	}
	c.c.SetDeadline(time.Now().Add(10 * time.Second))
	c.cmd("NOOP", "250 ")
}

// A STARTTLS handshake that does not finish is cut at HandshakeTimeout,
// not at the 5-minute command timeout; a real one works.
func TestSTARTTLSHandshakeTimeout(t *testing.T) {
	_, _, dial := limitServer(t, nil, Options{Mode: ModeMX, HandshakeTimeout: 100 * time.Millisecond}, netlimit.ProtocolOptions{})
	for _, partial := range []bool{false, true} {
		c := dial()
		c.cmd("EHLO client.test", "250 ")
		c.cmd("STARTTLS", "220 ")
		if partial {
			c.c.Write([]byte{0x16, 0x03, 0x01, 0x02})
		}
		c.closedWithin(5 * time.Second)
	}
}

// blockingBackend keeps an AUTH waiting until its context ends.
type blockingBackend struct {
	fakeBackend
	arrived   chan struct{}
	cancelled chan error
}

func (b blockingBackend) Authenticate(ctx context.Context, u, p string, _ net.Addr) (string, error) {
	close(b.arrived)
	select {
	case <-ctx.Done():
		b.cancelled <- ctx.Err()
	case <-time.After(10 * time.Second):
		b.cancelled <- errors.New("not cancelled")
	}
	return "", backend.ErrAuthFailed
}

// Close cancels the context of what sessions are doing.
func TestCloseCancels(t *testing.T) {
	be := blockingBackend{arrived: make(chan struct{}), cancelled: make(chan error, 1)}
	s, _, dial := limitServer(t, be, Options{Mode: ModeSubmission, AllowInsecureAuth: true}, netlimit.ProtocolOptions{})
	c := dial()
	c.cmd("EHLO client.test", "250 ")
	c.send("AUTH PLAIN " + plain("alice@a.test", "secret"))
	<-be.arrived
	s.Close()
	if err := <-be.cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("AUTH's context after Close: %v", err)
	}
}

// Serve returns ErrServerClosed after Close and Shutdown, as net/http's
// does, and at once when the server is already closed.
func TestServeAfterClose(t *testing.T) {
	for _, stop := range []string{"close", "shutdown"} {
		s := New(fakeBackend{}, &fakeDeliverer{}, Options{})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- s.Serve(l) }()
		// Serve has started once a connection is greeted.
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		bufio.NewReader(c).ReadString('\n')
		c.Close()
		if stop == "close" {
			s.Close()
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.Shutdown(ctx)
			cancel()
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Fatalf("%s: Serve returned %v", stop, err)
		}
		l2, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Serve(l2); !errors.Is(err, ErrServerClosed) {
			t.Fatalf("Serve after %s: %v", stop, err)
		}
		if _, err := net.Dial("tcp", l2.Addr().String()); err == nil {
			t.Fatalf("Serve after %s left its listener open", stop)
		}
	}
}
