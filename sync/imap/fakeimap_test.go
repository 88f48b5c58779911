package imapsync

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/letterbox-mail/letterbox/server/tlsutil"
)

// fakeIMAP is a scripted IMAP server on loopback for the hostile and
// silent server tests: greet writes the greeting (or nothing), and each
// command line the client sends goes to reply, which answers it on w
// (or stalls, or floods). Unknown commands get a tagged OK.
type fakeIMAP struct {
	ln    net.Listener
	greet func(w io.Writer)
	reply map[string]func(tag, line string, w io.Writer)
	// tls wraps accepted connections in TLS (implicit TLS).
	tls *tls.Config
	// hold is closed when the test ends: handlers that stall wait on it.
	hold chan struct{}
	wg   sync.WaitGroup
	// conns counts the connections accepted (the number of the current
	// one, as they come one after the other).
	conns atomic.Int64
}

func newFakeIMAP(t *testing.T) *fakeIMAP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIMAP{ln: ln, hold: make(chan struct{}), reply: map[string]func(string, string, io.Writer){},
		greet: func(w io.Writer) { io.WriteString(w, "* OK fake ready\r\n") }}
	f.reply["LOGIN"] = func(tag, _ string, w io.Writer) {
		io.WriteString(w, tag+" OK [CAPABILITY IMAP4rev1 IDLE LITERAL+] logged in\r\n")
	}
	f.reply["LOGOUT"] = func(tag, _ string, w io.Writer) {
		io.WriteString(w, "* BYE bye\r\n"+tag+" OK done\r\n")
	}
	t.Cleanup(func() {
		close(f.hold)
		ln.Close()
		f.wg.Wait()
	})
	return f
}

// start serves connections; call it after setting greet and reply.
func (f *fakeIMAP) start() {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := f.ln.Accept()
			if err != nil {
				return
			}
			f.conns.Add(1)
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer c.Close()
				stop := make(chan struct{})
				defer close(stop)
				go func() {
					select {
					case <-f.hold:
						c.Close()
					case <-stop:
					}
				}()
				f.serve(c)
			}()
		}
	}()
}

func (f *fakeIMAP) serve(c net.Conn) {
	var rw net.Conn = c
	if f.tls != nil {
		tc := tls.Server(c, f.tls)
		if tc.Handshake() != nil {
			return
		}
		rw = tc
	}
	f.greet(rw)
	br := bufio.NewReader(rw)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		tag, rest, _ := strings.Cut(line, " ")
		name, _, _ := strings.Cut(rest, " ")
		name = strings.ToUpper(name)
		if strings.EqualFold(line, "DONE") {
			name = "DONE"
		}
		if name == "UID" {
			sub, _, _ := strings.Cut(rest[len("UID "):], " ")
			name += " " + strings.ToUpper(sub)
		}
		if h := f.reply[name]; h != nil {
			h(tag, line, rw)
		} else {
			io.WriteString(rw, tag+" OK done\r\n")
		}
		if name == "LOGOUT" {
			return
		}
	}
}

func (f *fakeIMAP) addr() string { return f.ln.Addr().String() }

// stall blocks until the test ends.
func (f *fakeIMAP) stall() { <-f.hold }

// flood writes prefix, then n octets of filler (or until the connection
// fails when n < 0).
func flood(w io.Writer, prefix string, n int64) {
	io.WriteString(w, prefix)
	buf := []byte(strings.Repeat("x", 32<<10))
	for n != 0 {
		k := int64(len(buf))
		if n > 0 && n < k {
			k = n
		}
		if _, err := w.Write(buf[:k]); err != nil {
			return
		}
		if n > 0 {
			n -= k
		}
	}
}

// selfSigned returns a server TLS config for 127.0.0.1 and the client
// config that trusts it.
func selfSigned(t *testing.T) (srv, cli *tls.Config) {
	t.Helper()
	certPEM, keyPEM, err := tlsutil.SelfSignedPEM([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return &tls.Config{Certificates: []tls.Certificate{cert}}, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// cut closes the connection w, as a network failure would.
func cut(w io.Writer) {
	if c, ok := w.(io.Closer); ok {
		c.Close()
	}
}
