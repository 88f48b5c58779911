package submit

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/tlsutil"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// smtpScript is an SMTP server on loopback that answers each command
// with what its verb maps to, and stalls (says nothing until the test
// ends) on the verbs in stall; greet "" greets nothing.
type smtpScript struct {
	ln    net.Listener
	greet string
	tls   *tls.Config // implicit TLS
	reply map[string]string
	stall map[string]bool
	// flood maps a verb ("" for the greeting) to text written again and
	// again after its reply, until the connection fails: a hostile server.
	flood map[string]string
	hold  chan struct{}
	wg    sync.WaitGroup
}

func newSMTPScript(t *testing.T) *smtpScript {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpScript{ln: ln, greet: "220 ready\r\n", hold: make(chan struct{}), stall: map[string]bool{}, flood: map[string]string{}, reply: map[string]string{
		"EHLO": "250-hello\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n",
		"AUTH": "235 ok\r\n",
		"MAIL": "250 ok\r\n",
		"RCPT": "250 ok\r\n",
		"DATA": "354 go\r\n",
		"QUIT": "221 bye\r\n",
	}}
	t.Cleanup(func() {
		close(s.hold)
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *smtpScript) start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				go func() { <-s.hold; c.Close() }()
				s.serve(c)
			}()
		}
	}()
}

func (s *smtpScript) serve(c net.Conn) {
	var rw net.Conn = c
	if s.tls != nil {
		tc := tls.Server(c, s.tls)
		if tc.Handshake() != nil {
			return
		}
		rw = tc
	}
	if s.greet == "" {
		io.Copy(io.Discard, rw)
		return
	}
	io.WriteString(rw, s.greet)
	if s.flooded(rw, "") {
		return
	}
	br := bufio.NewReader(rw)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		verb = strings.ToUpper(verb)
		if verb == "DATA" {
			io.WriteString(rw, s.reply[verb])
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			verb = "."
		}
		io.WriteString(rw, s.reply[verb])
		if s.flooded(rw, verb) {
			return
		}
		if s.stall[verb] {
			<-s.hold
			return
		}
	}
}

// flooded writes the flood text of verb until the connection fails, and
// reports whether there was one.
func (s *smtpScript) flooded(w io.Writer, verb string) bool {
	l := s.flood[verb]
	if l == "" {
		return false
	}
	buf := []byte(strings.Repeat(l, max(1, (32<<10)/len(l))))
	for {
		if _, err := w.Write(buf); err != nil {
			return true
		}
	}
}

// TestSilentServer: an SMTP server that accepts and then says nothing (no
// greeting, no TLS handshake, no reply to EHLO, STARTTLS, AUTH, RCPT or
// the end of the message) fails the submission after the injected
// timeout with a Temporary error that says what timed out, instead of
// hanging (before: the TLS handshake had no deadline at all).
func TestSilentServer(t *testing.T) {
	const short = 300 * time.Millisecond
	certPEM, keyPEM, err := tlsutil.SelfSignedPEM([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	srvTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	tests := []struct {
		name     string
		security string
		setup    func(s *smtpScript)
		dial     func(ctx context.Context, network, addr string) (net.Conn, error)
		want     string
	}{
		{"no TCP connection", SecurityNone, nil, func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, "smtp connect: no TCP connection within 300ms"},
		{"no greeting", SecurityNone, func(s *smtpScript) { s.greet = "" }, nil, "smtp connect: no greeting within 300ms"},
		{"no TLS handshake", SecurityTLS, func(s *smtpScript) { s.greet = "" }, nil, "smtp tls: TLS handshake not finished within 300ms"},
		{"no greeting over TLS", SecurityTLS, func(s *smtpScript) { s.tls, s.greet = srvTLS, "" }, nil, "smtp connect: no greeting within 300ms"},
		{"no greeting before STARTTLS", SecurityStartTLS, func(s *smtpScript) { s.greet = "" }, nil, "smtp connect: no greeting within 300ms"},
		{"EHLO unanswered", SecurityNone, func(s *smtpScript) { s.reply["EHLO"], s.stall["EHLO"] = "", true }, nil,
			"smtp connect: server silent for 300ms"},
		{"STARTTLS unanswered", SecurityStartTLS, func(s *smtpScript) { s.reply["STARTTLS"], s.stall["STARTTLS"] = "", true }, nil,
			"smtp tls: server silent for 300ms"},
		{"no TLS handshake after STARTTLS", SecurityStartTLS, func(s *smtpScript) {
			s.reply["STARTTLS"], s.stall["STARTTLS"] = "220 go ahead\r\n", true
		}, nil, "smtp tls: TLS handshake not finished within 300ms"},
		{"AUTH unanswered", SecurityNone, func(s *smtpScript) { s.reply["AUTH"], s.stall["AUTH"] = "", true }, nil,
			"smtp auth: server silent for 300ms"},
		{"RCPT unanswered", SecurityNone, func(s *smtpScript) { s.reply["RCPT"], s.stall["RCPT"] = "", true }, nil,
			"smtp rcpt <bob@example.test>: server silent for 300ms"},
		{"end of message unanswered", SecurityNone, func(s *smtpScript) { s.stall["."] = true }, nil,
			"smtp data: no reply to the message within 1.5s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSMTPScript(t)
			if tc.setup != nil {
				tc.setup(s)
			}
			s.start()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			srv := Server{Host: "127.0.0.1", Port: s.ln.Addr().(*net.TCPAddr).Port, Security: tc.security, Dial: tc.dial,
				Login: "ann", Password: "pw", TLS: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"},
				ConnectTimeout: short, Timeout: short}
			if tc.security == SecurityNone {
				srv.Login = "" // no AUTH in clear, except where AUTH is under test
				if tc.name == "AUTH unanswered" {
					srv.Login = "ann"
				}
			}
			err := Send(ctx, srv, "ann@example.test", []string{"bob@example.test"}, strings.NewReader("Subject: x\r\n\r\nhi\r\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if !lbsync.IsTemporary(err) || !lbsync.IsTimeout(err) {
				t.Errorf("error %v: kind %v, timeout %v; want a Temporary timeout", err, lbsync.KindOf(err), lbsync.IsTimeout(err))
			}
			if ctx.Err() != nil {
				t.Errorf("the send ran until the test's own deadline")
			}
			t.Log(err)
		})
	}
}
