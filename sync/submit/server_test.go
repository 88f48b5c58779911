package submit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/letterbox-mail/letterbox/server/tlsutil"
)

// delivered is one message the test server accepted.
type delivered struct {
	from  string
	rcpts []string
	data  []byte
	size  int64 // the SIZE parameter of MAIL FROM
	tls   bool
	user  string // the authenticated login
}

// backend is a go-smtp backend that records deliveries and fails on demand.
type backend struct {
	login, password string   // AUTH required when login is set
	mechs           []string // offered mechanisms; PLAIN when nil
	// oauthFinal answers a refused bearer token (after the challenge);
	// 535 when nil. The token "good" is accepted.
	oauthFinal *smtp.SMTPError

	mu       sync.Mutex
	msgs     []delivered
	authFail int               // failed AUTH attempts
	rcptErr  map[string]error  // refusals by recipient
	dataErr  error             // refusal of the message
	dropData bool              // close the connection in the middle of DATA
	onData   func(data []byte) // called with each accepted message
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &testSession{b: b, c: c, tls: isTLS}, nil
}

func (b *backend) delivered() []delivered {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]delivered(nil), b.msgs...)
}

// set changes the backend's failure settings under its lock.
func (b *backend) set(fn func(b *backend)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fn(b)
}

type testSession struct {
	b    *backend
	c    *smtp.Conn
	tls  bool
	user string
	cur  delivered
}

func (s *testSession) AuthMechanisms() []string {
	if s.b.login == "" {
		return nil
	}
	if s.b.mechs == nil {
		return []string{sasl.Plain}
	}
	return s.b.mechs
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.b.login || pass != s.b.password {
			s.b.mu.Lock()
			s.b.authFail++
			s.b.mu.Unlock()
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	case "OAUTHBEARER", "XOAUTH2":
		return &oauthServer{mech: mech, s: s}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *testSession) Mail(from string, opts *smtp.MailOptions) error {
	if s.b.login != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = delivered{from: from, size: opts.Size, tls: s.tls, user: s.user}
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	err := s.b.rcptErr[to]
	s.b.mu.Unlock()
	if err != nil {
		return err
	}
	s.cur.rcpts = append(s.cur.rcpts, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	s.b.mu.Lock()
	drop, refuse, onData := s.b.dropData, s.b.dataErr, s.b.onData
	s.b.mu.Unlock()
	if drop {
		io.ReadFull(r, make([]byte, 10))
		s.c.Conn().Close()
		return errors.New("dropped")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if refuse != nil {
		return refuse
	}
	s.cur.data = data
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	if onData != nil {
		onData(data)
	}
	return nil
}

func (s *testSession) Reset()        { s.cur = delivered{} }
func (s *testSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch {
	case l.step == 1 && response == nil:
		return []byte("Username:"), false, nil
	case l.step == 1:
		l.user, l.step = string(response), 2 // initial response
		return []byte("Password:"), false, nil
	case l.step == 2:
		l.user = string(response)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(response))
	}
}

// Modes of startServer.
const (
	modePlain    = "plain"    // no TLS at all, AUTH allowed in clear
	modeStartTLS = "starttls" // STARTTLS offered
	modeTLS      = "tls"      // implicit TLS
)

// startServer runs a go-smtp server for be on 127.0.0.1:0 and returns the
// client settings to reach it (security as mode, trusting its certificate).
func startServer(t *testing.T, be *backend, mode string) Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	cert, pool := testCert(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	security := SecurityNone
	switch mode {
	case modePlain:
		srv.AllowInsecureAuth = true
	case modeStartTLS:
		srv.TLSConfig = serverTLS
		security = SecurityStartTLS
	case modeTLS:
		ln = tls.NewListener(ln, serverTLS)
		security = SecurityTLS
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	return Server{
		Host: "127.0.0.1", Port: port, Security: security,
		Login: be.login, Password: be.password,
		TLS:     &tls.Config{RootCAs: pool},
		Timeout: 10 * time.Second,
	}
}

// testCert makes a self-signed certificate for 127.0.0.1 (the server's
// own dev-certificate maker).
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, err := tlsutil.SelfSigned([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return cert, pool
}

// refusedDial fails every dial as a closed port would.
func refusedDial(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
}

// testMessage is a small CRLF message.
func testMessage(from, to, bcc, subject string) string {
	h := []string{"From: " + from, "To: " + to, "Subject: " + subject, "Message-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@test>"}
	if bcc != "" {
		h = append(h, "Bcc: "+bcc)
	}
	return strings.Join(h, "\r\n") + "\r\n\r\nHello " + subject + ".\r\n"
}
