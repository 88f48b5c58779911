package submit

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// session is one authenticated SMTP connection. It is used by one
// goroutine; after any failed send it must be closed, not reused.
type session struct {
	c    *smtp.Client
	conn net.Conn
	// timeout is the command timeout, which go-smtp applies to each
	// command (its replies are short, so the whole command is bounded).
	timeout time.Duration
}

// dial connects, secures and authenticates a session according to srv.
// Each step of the set-up (TCP, TLS handshake, greeting) has the connect
// timeout; each command the command timeout. The greeting is read here,
// not by go-smtp, so that its timeout is told apart from EHLO's. The
// connection is closed if ctx ends while dial runs.
func dial(ctx context.Context, srv Server) (*session, error) {
	security, port, timeout := srv.resolve()
	switch security {
	case SecurityTLS, SecurityStartTLS, SecurityNone:
	default:
		return nil, &Error{Stage: StageConnect, Kind: lbsync.Permanent, Message: fmt.Sprintf("unknown security %q (want tls, starttls or none)", security)}
	}
	connectTO := lbsync.Timeouts{Connect: srv.ConnectTimeout}.ConnectOr()
	addr := net.JoinHostPort(srv.Host, strconv.Itoa(port))
	dialFn := srv.Dial
	if dialFn == nil {
		dialFn = (&net.Dialer{}).DialContext
	}
	dctx := ctx
	if connectTO > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, connectTO)
		defer cancel()
	}
	raw, err := dialFn(dctx, "tcp", addr)
	if err != nil {
		if ctx.Err() == nil && dctx.Err() != nil {
			err = lbsync.Timeout("no TCP connection within", connectTO)
		}
		return nil, classify(ctx, StageConnect, err)
	}
	var conn net.Conn = &deadlineConn{Conn: raw, timeout: timeout}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	cfg := tlsConfig(srv)
	helo := srv.HeloName
	if helo == "" {
		helo = "localhost"
	}
	switch security {
	case SecurityTLS:
		tc, err := handshake(ctx, conn, cfg, connectTO)
		if err != nil {
			raw.Close()
			return nil, classify(ctx, StageTLS, err)
		}
		conn = tc
	case SecurityStartTLS:
		tc, err := startTLS(ctx, conn, helo, cfg, connectTO, timeout)
		if err != nil {
			raw.Close()
			return nil, err
		}
		conn = tc
	}
	// go-smtp's client expects a greeting: the real one was read (or,
	// with STARTTLS, came before TLS), so hand it a stand-in (RFC 3207
	// section 4.2: after STARTTLS the client starts over with EHLO).
	if security != SecurityStartTLS {
		br, err := greet(ctx, conn, connectTO)
		if err != nil {
			raw.Close()
			return nil, err
		}
		conn = &greetedConn{Conn: conn, r: io.MultiReader(strings.NewReader(standIn), br)}
	} else {
		conn = &greetedConn{Conn: conn, r: io.MultiReader(strings.NewReader(standIn), conn)}
	}
	s := &session{c: smtp.NewClient(conn), conn: raw, timeout: timeout}
	s.c.CommandTimeout = timeout
	s.c.SubmissionTimeout = 5 * timeout
	if err := s.c.Hello(helo); err != nil {
		s.close()
		return nil, s.classify(ctx, StageConnect, err)
	}
	if srv.Login != "" {
		if err := s.auth(ctx, srv, security); err != nil {
			s.close()
			return nil, s.classify(ctx, StageAuth, err)
		}
	}
	if ctx.Err() != nil {
		s.close()
		return nil, classify(ctx, StageConnect, ctx.Err())
	}
	return s, nil
}

// standIn is the greeting go-smtp reads; the server's was read by greet.
const standIn = "220 greeted\r\n"

// greet reads the server's greeting (RFC 5321 section 4.3.1: 220, or a
// 554 refusal) within the connect timeout. It returns the reader the
// connection goes on from (it may hold what the server sent next).
func greet(ctx context.Context, conn net.Conn, timeout time.Duration) (*bufio.Reader, error) {
	if timeout > 0 {
		conn.SetReadDeadline(time.Now().Add(timeout))
		defer conn.SetReadDeadline(time.Time{})
	}
	br := bufio.NewReader(conn)
	if _, _, err := textproto.NewReader(br).ReadResponse(220); err != nil {
		return nil, classify(ctx, StageConnect, timedOut(ctx, err, "no greeting within", timeout))
	}
	return br, nil
}

// handshake runs the TLS handshake within the connect timeout.
func handshake(ctx context.Context, conn net.Conn, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	if timeout > 0 {
		conn.SetDeadline(time.Now().Add(timeout))
		defer conn.SetDeadline(time.Time{})
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, timedOut(ctx, err, "TLS handshake not finished within", timeout)
	}
	return tc, nil
}

// timedOut turns a deadline that passed (not the context's) into an
// lbsync.TimeoutError that says what did not happen in time.
func timedOut(ctx context.Context, err error, wait string, d time.Duration) error {
	if d > 0 && ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return lbsync.Timeout(wait, d)
	}
	return err
}

// classify is the package's classify, with a deadline of a command told
// as the server's silence.
func (s *session) classify(ctx context.Context, stage string, err error) *Error {
	return classify(ctx, stage, timedOut(ctx, err, "server silent for", s.timeout))
}

// tlsConfig returns the TLS configuration for srv, ServerName set.
func tlsConfig(srv Server) *tls.Config {
	if srv.TLS == nil {
		return &tls.Config{ServerName: srv.Host, MinVersion: tls.VersionTLS12}
	}
	cfg := srv.TLS
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = srv.Host
	}
	return cfg
}

// startTLS reads the greeting (within the connect timeout), says EHLO
// and upgrades the connection with STARTTLS (RFC 3207), failing with
// ErrNoStartTLS when the server does not offer it. Nothing but EHLO and
// STARTTLS is sent in clear.
func startTLS(ctx context.Context, conn net.Conn, helo string, cfg *tls.Config, connectTO, timeout time.Duration) (*tls.Conn, error) {
	tp := textproto.NewConn(conn)
	if connectTO > 0 {
		conn.SetReadDeadline(time.Now().Add(connectTO))
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, classify(ctx, StageConnect, timedOut(ctx, err, "no greeting within", connectTO))
	}
	reply := func(code int) (string, error) {
		if timeout > 0 {
			conn.SetReadDeadline(time.Now().Add(timeout))
		}
		_, msg, err := tp.ReadResponse(code)
		return msg, timedOut(ctx, err, "server silent for", timeout)
	}
	if err := tp.PrintfLine("EHLO %s", helo); err != nil {
		return nil, classify(ctx, StageConnect, err)
	}
	msg, err := reply(250)
	if err != nil {
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code/100 != 5 {
			return nil, classify(ctx, StageConnect, err)
		}
		msg = "" // no EHLO, so no extensions (RFC 5321 section 3.2)
	}
	if !hasExtension(msg, "STARTTLS") {
		return nil, &Error{Stage: StageTLS, Kind: lbsync.Permanent, Message: ErrNoStartTLS.Error() + "; refusing to continue in clear", Err: ErrNoStartTLS}
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, classify(ctx, StageTLS, err)
	}
	if _, err := reply(220); err != nil {
		return nil, classify(ctx, StageTLS, err)
	}
	conn.SetReadDeadline(time.Time{})
	if tp.R.Buffered() > 0 {
		// Anything sent before the handshake could be injected by an
		// attacker (CVE-2011-0411); refuse.
		return nil, &Error{Stage: StageTLS, Kind: lbsync.Protocol, Message: "server sent data before the TLS handshake"}
	}
	tc, err := handshake(ctx, conn, cfg, connectTO)
	if err != nil {
		return nil, classify(ctx, StageTLS, err)
	}
	return tc, nil
}

// hasExtension reports whether an EHLO reply lists ext (RFC 5321 section
// 4.1.1.1: one keyword per line after the first).
func hasExtension(ehlo, ext string) bool {
	lines := strings.Split(ehlo, "\n")
	for _, l := range lines[1:] {
		if kw, _, _ := strings.Cut(strings.TrimSpace(l), " "); strings.EqualFold(kw, ext) {
			return true
		}
	}
	return false
}

// auth authenticates with AUTH PLAIN, or LOGIN when only that is offered
// (RFC 4954).
func (s *session) auth(ctx context.Context, srv Server, security string) error {
	ok, mechs := s.c.Extension("AUTH")
	if !ok {
		msg := ErrNoAuth.Error()
		if security == SecurityNone {
			msg += " over a plain connection (try tls or starttls)"
		}
		return &Error{Stage: StageAuth, Kind: lbsync.Permanent, Message: msg, Err: ErrNoAuth}
	}
	if srv.OAuth2 != nil {
		return s.authOAuth(ctx, srv, mechs)
	}
	var mech sasl.Client
	for _, m := range strings.Fields(mechs) {
		switch strings.ToUpper(m) {
		case sasl.Plain:
			mech = sasl.NewPlainClient("", srv.Login, srv.Password)
		case sasl.Login:
			if mech == nil {
				mech = &loginClient{user: srv.Login, pass: srv.Password}
			}
		}
	}
	if mech == nil {
		return &Error{Stage: StageAuth, Kind: lbsync.Permanent, Message: fmt.Sprintf("%v (server offers %s)", ErrNoAuth, mechs), Err: ErrNoAuth}
	}
	return s.c.Auth(mech)
}

// loginClient is the LOGIN mechanism (draft-murchison-sasl-login): the
// user name, then the password, each in answer to a prompt. It sends no
// initial response, which some servers refuse, and answers by step rather
// than by the prompt's text, which servers word differently.
type loginClient struct {
	user, pass string
	step       int
}

func (l *loginClient) Start() (string, []byte, error) { return sasl.Login, nil, nil }

func (l *loginClient) Next(challenge []byte) ([]byte, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte(l.user), nil
	case 2:
		return []byte(l.pass), nil
	}
	return nil, sasl.ErrUnexpectedServerChallenge
}

// send runs one mail transaction: MAIL FROM, RCPT TO, DATA.
func (s *session) send(ctx context.Context, from string, rcpts []string, msg io.Reader) error {
	if len(rcpts) == 0 {
		return &Error{Stage: StageRcpt, Kind: lbsync.Permanent, Message: "no recipients"}
	}
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	size := sizeOf(msg)
	if limit, ok := s.c.MaxMessageSize(); ok && limit > 0 && size > int64(limit) {
		return &Error{Stage: StageMail, Kind: lbsync.Permanent, Message: fmt.Sprintf("message is %d bytes; the server accepts at most %d", size, limit)}
	}
	opts := &smtp.MailOptions{Size: size, UTF8: !ascii(from)}
	for _, r := range rcpts {
		opts.UTF8 = opts.UTF8 || !ascii(r)
	}
	if err := s.c.Mail(from, opts); err != nil {
		return s.classify(ctx, StageMail, err)
	}
	for _, r := range rcpts {
		if err := s.c.Rcpt(r, nil); err != nil {
			e := s.classify(ctx, StageRcpt, err)
			e.Recipient = r
			return e
		}
	}
	w, err := s.c.Data()
	if err != nil {
		return s.classify(ctx, StageData, err)
	}
	src := &readErrReader{r: msg}
	if _, err := io.Copy(w, src); err != nil {
		if src.err != nil {
			return &Error{Stage: StageData, Message: "read message: " + src.err.Error(), Err: src.err}
		}
		return s.classify(ctx, StageData, err)
	}
	if err := w.Close(); err != nil {
		// go-smtp waits five command timeouts for this reply.
		return classify(ctx, StageData, timedOut(ctx, err, "no reply to the message within", 5*s.timeout))
	}
	return nil
}

// quit says QUIT and closes; the message is already accepted, so a failure
// here does not matter.
func (s *session) quit() {
	s.c.Quit()
	s.close()
}

func (s *session) close() { s.c.Close() }

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
