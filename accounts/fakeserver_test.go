package accounts

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeServer describes a greeter for probe tests: just enough IMAP, POP3
// or SMTP to greet, list capabilities and start TLS.
type fakeServer struct {
	proto    Protocol
	greeting string           // overrides the protocol's greeting
	implicit *tls.Certificate // TLS from the first byte
	starttls *tls.Certificate // offer STARTTLS/STLS with this certificate
	delay    time.Duration    // before the greeting
}

// start serves f on 127.0.0.1:0 until the test ends and returns the port.
func (f fakeServer) start(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				f.serve(c)
			})
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a port on 127.0.0.1 where nothing listens: it opens
// a listener, notes its port and closes it.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func (f fakeServer) serve(c net.Conn) {
	if f.implicit != nil {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*f.implicit}})
		if tc.Handshake() != nil {
			return
		}
		c = tc
	}
	time.Sleep(f.delay)
	greeting := f.greeting
	if greeting == "" {
		greeting = map[Protocol]string{IMAP: "* OK fake IMAP4rev1 ready", POP3: "+OK fake POP3 ready",
			SMTP: "220-fake.test ESMTP\r\n220 fake ready"}[f.proto]
	}
	r := bufio.NewReader(c)
	say := func(lines ...string) { fmt.Fprint(c, strings.Join(lines, "\r\n")+"\r\n") }
	say(greeting)
	offer := f.starttls != nil && f.implicit == nil
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimSpace(l), " ")
		if f.proto != IMAP {
			tag, cmd = "", strings.TrimSpace(l)
		}
		verb, _, _ := strings.Cut(strings.ToUpper(cmd), " ")
		upgrade := false
		switch f.proto + ":" + Protocol(verb) {
		case "imap:CAPABILITY":
			caps := "* CAPABILITY IMAP4rev1"
			if offer {
				caps += " STARTTLS"
			}
			say(caps, tag+" OK done")
		case "imap:STARTTLS":
			say(tag + " OK begin TLS")
			upgrade = true
		case "imap:LOGOUT":
			say("* BYE", tag+" OK bye")
			return
		case "pop3:CAPA":
			stls := ""
			if offer {
				stls = "STLS\r\n"
			}
			say("+OK", "UIDL\r\n"+stls+".")
		case "pop3:STLS":
			say("+OK begin TLS")
			upgrade = true
		case "smtp:EHLO":
			ext := "250-PIPELINING"
			if offer {
				ext += "\r\n250-STARTTLS"
			}
			say("250-fake.test", ext, "250 8BITMIME")
		case "smtp:STARTTLS":
			say("220 go ahead")
			upgrade = true
		case "pop3:QUIT":
			say("+OK bye")
			return
		case "smtp:QUIT":
			say("221 bye")
			return
		default:
			say(map[Protocol]string{IMAP: tag + " BAD what", POP3: "-ERR what", SMTP: "500 what"}[f.proto])
		}
		if upgrade {
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*f.starttls}})
			if tc.Handshake() != nil {
				return
			}
			c, r, offer = tc, bufio.NewReader(tc), false
		}
	}
}

// localDialer dials only 127.0.0.1: host names in names are mapped to
// it, and anything else is refused without touching the network, so
// tests never reach another address.
func localDialer(names ...string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		for _, n := range append(names, "127.0.0.1") {
			if host == n {
				return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			}
		}
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
}
