package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
	"github.com/letterbox-mail/letterbox/server/tlsutil"
	"github.com/letterbox-mail/letterbox/store"
)

// oauthEnv is a production-mode server for a.test (TLS required for
// every login) whose [oauth2] points at a local identity provider.
type oauthEnv struct {
	s    *Server
	idp  *testidp.IdP
	logs *lockedBuffer
	tls  *tls.Config // trusts the server's certificate
	mu   sync.Mutex
	toks []string // every token used, none of which may be logged
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const oauthTestMessage = "From: carol@elsewhere.test\r\nTo: alice@a.test\r\nSubject: for the token holder\r\n\r\nhello\r\n"

func newOAuthEnv(t *testing.T, mode string, tweak func(*Config)) *oauthEnv {
	t.Helper()
	idp := testidp.New(t, testidp.Options{})
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certPEM, keyPEM, err := tlsutil.SelfSignedPEM([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	lo := "127.0.0.1:0"
	cfg := &Config{Hostname: "mx.a.test", Domains: []string{"a.test"}, Data: filepath.Join(dir, "data"),
		Listen: Listen{SMTP: lo, Submission: lo, SMTPS: lo, IMAP: lo, IMAPS: lo, POP3: lo, POP3S: lo}}
	cfg.TLS.Cert, cfg.TLS.Key = write("cert.pem", certPEM), write("key.pem", keyPEM)
	cfg.OAuth2 = OAuth2Config{Issuer: idp.Issuer(), Audience: testidp.DefaultAudience, Mode: mode,
		CAFile: write("idp.pem", idp.CertPEM())}
	if mode == "introspection" {
		cfg.OAuth2.ClientID = testidp.DefaultServerClientID
		cfg.OAuth2.ClientSecretFile = write("secret", []byte(testidp.DefaultServerClientSecret+"\n"))
	}
	// Refusals are many here: keep the penalty small (it is tested on
	// its own in server/backend and in TestOAuthLockout).
	cfg.Limits.AuthMaxDelay.Duration = time.Millisecond
	cfg.Limits.MaxAuthFailures = 1000
	if tweak != nil {
		tweak(cfg)
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	e := &oauthEnv{idp: idp, logs: &lockedBuffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice@a.test", "bob@a.test"} {
		local, _, _ := strings.Cut(u, "@")
		if err := s.Backend.Users.Add(u, local+"-pw"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if testing.Verbose() && t.Failed() {
			t.Logf("server log:\n%s", e.logs.String())
		}
	})
	st, err := s.Backend.Store(context.Background(), "alice@a.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(context.Background(), "INBOX", strings.NewReader(oauthTestMessage), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	e.s, e.tls = s, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	return e
}

// token issues a token for g, remembering it for noTokenLogged.
func (e *oauthEnv) token(t *testing.T, g testidp.Grant) string {
	t.Helper()
	if g.User.Email == "" {
		g.User.Email = "alice@a.test"
	}
	tk, err := e.idp.Issue(g)
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.toks = append(e.toks, tk.AccessToken)
	e.mu.Unlock()
	return tk.AccessToken
}

// noTokenLogged fails if any part of a token used is in the server log.
func (e *oauthEnv) noTokenLogged(t *testing.T) {
	t.Helper()
	logs := e.logs.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, tok := range e.toks {
		for _, part := range append(strings.Split(tok, "."), tok) {
			if len(part) > 8 && strings.Contains(logs, part) {
				t.Fatalf("the server log holds (part of) a token:\n%s", logs)
			}
		}
	}
}

// conv is a line conversation with a server.
type conv struct {
	t   *testing.T
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func (e *oauthEnv) dial(t *testing.T, listener string) *conv {
	t.Helper()
	addr := e.s.Addr(listener).String()
	var c net.Conn
	var err error
	if strings.HasSuffix(listener, "s") && listener != "submission" {
		c, err = tls.Dial("tcp", addr, e.tls)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conv{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *conv) send(line string) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.c.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

func (c *conv) line() string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (after %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// until reads lines up to the first that starts with prefix, and returns
// the lines read.
func (c *conv) until(prefix string) []string {
	c.t.Helper()
	var ls []string
	for {
		l := c.line()
		ls = append(ls, l)
		if strings.HasPrefix(l, prefix) {
			return ls
		}
	}
}

func (c *conv) last(prefix string) string {
	ls := c.until(prefix)
	return ls[len(ls)-1]
}

// startTLS upgrades the connection after the protocol's STARTTLS.
func (c *conv) startTLS(cfg *tls.Config) {
	c.t.Helper()
	tc := tls.Client(c.c, cfg)
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
}

// proto drives one protocol's login conversation.
type proto struct {
	name     string // the listener
	greet    func(c *conv)
	auth     func(c *conv, mech string, msg []byte) string // the first answer
	dummy    func(c *conv) string                          // the answer to "AQ=="
	ok, fail string                                        // prefixes of success and refusal
	use      func(t *testing.T, e *oauthEnv, c *conv)      // reads or sends mail once logged in
	quit     func(c *conv)                                 // ends the session (POP3: releases the maildrop)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

var imapProto = proto{
	name:  "imaps",
	greet: func(c *conv) { c.line() },
	auth: func(c *conv, mech string, msg []byte) string {
		c.tag++
		c.send(fmt.Sprintf("a%d AUTHENTICATE %s %s", c.tag, mech, b64(msg)))
		l := c.line()
		for strings.HasPrefix(l, "* ") {
			l = c.line()
		}
		return l
	},
	dummy: func(c *conv) string { c.send("AQ=="); return c.last(fmt.Sprintf("a%d ", c.tag)) },
	ok:    "OK", fail: "NO [AUTHENTICATIONFAILED]",
	use: func(t *testing.T, e *oauthEnv, c *conv) {
		c.send("s1 SELECT INBOX")
		if l := c.last("s1 "); !strings.HasPrefix(l, "s1 OK") {
			t.Fatalf("SELECT: %s", l)
		}
		c.send("s2 FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
		if ls := strings.Join(c.until("s2 "), "\n"); !strings.Contains(ls, "for the token holder") || !strings.Contains(ls, "s2 OK") {
			t.Fatalf("FETCH:\n%s", ls)
		}
	},
}

var pop3Proto = proto{
	name:  "pop3s",
	greet: func(c *conv) { c.line() },
	auth: func(c *conv, mech string, msg []byte) string {
		c.send("AUTH " + mech + " " + b64(msg))
		return c.line()
	},
	dummy: func(c *conv) string { c.send("AQ=="); return c.line() },
	ok:    "+OK", fail: "-ERR [AUTH]",
	use: func(t *testing.T, e *oauthEnv, c *conv) {
		c.send("RETR 1")
		if ls := strings.Join(c.until("."), "\n"); !strings.Contains(ls, "for the token holder") {
			t.Fatalf("RETR:\n%s", ls)
		}
	},
	quit: func(c *conv) {
		c.send("QUIT")
		c.line()
	},
}

var smtpProto = proto{
	name: "smtps",
	greet: func(c *conv) {
		c.line()
		c.send("EHLO client.test")
		c.until("250 ")
	},
	auth: func(c *conv, mech string, msg []byte) string {
		c.send("AUTH " + mech + " " + b64(msg))
		return c.line()
	},
	dummy: func(c *conv) string { c.send("AQ=="); return c.line() },
	ok:    "235", fail: "535 5.7.8",
	use: func(t *testing.T, e *oauthEnv, c *conv) {
		for _, step := range [][2]string{{"MAIL FROM:<alice@a.test>", "250"}, {"RCPT TO:<bob@a.test>", "250"}, {"DATA", "354"},
			{"Subject: sent with a token\r\n\r\nhi\r\n.", "250"}} {
			c.send(step[0])
			if l := c.line(); !strings.HasPrefix(l, step[1]) {
				t.Fatalf("%s: %s", step[0], l)
			}
		}
		for _, m := range inbox(t, e.s, "bob@a.test") {
			if strings.Contains(m, "sent with a token") {
				return
			}
		}
		t.Fatal("bob did not get the message sent with a token")
	},
}

func bearerMsg(authzid, tok string) []byte {
	a := ""
	if authzid != "" {
		a = "a=" + authzid
	}
	return []byte("n," + a + ",\x01host=127.0.0.1\x01port=993\x01auth=Bearer " + tok + "\x01\x01")
}

func xoauth2Msg(user, tok string) []byte {
	return []byte("user=" + user + "\x01auth=Bearer " + tok + "\x01\x01")
}

// refusal is a token the server must refuse.
type refusal struct {
	name  string
	fault testidp.Fault // -1: none
	grant testidp.Grant
	after func(e *oauthEnv, tok string) // once issued
}

// checkRefused logs in with a refused token: RFC 7628's JSON challenge,
// the dummy response, the protocol's refusal; then a good token works on
// the same connection.
func checkRefused(t *testing.T, e *oauthEnv, p proto, mech string, r refusal) {
	if r.fault >= 0 {
		e.idp.SetFault(r.fault, true)
	}
	tok := e.token(t, r.grant)
	if r.fault >= 0 {
		e.idp.SetFault(r.fault, false)
	}
	if r.after != nil {
		r.after(e, tok)
	}
	c := e.dial(t, p.name)
	p.greet(c)
	msg := bearerMsg("", tok)
	if mech == "XOAUTH2" {
		msg = xoauth2Msg("alice@a.test", tok)
	}
	first := p.auth(c, mech, msg)
	chal, ok := strings.CutPrefix(strings.TrimPrefix(first, "334 "), "+ ")
	if !ok && !strings.HasPrefix(first, "334 ") {
		t.Fatalf("%s: answer %q, want the error challenge", r.name, first)
	}
	if strings.HasPrefix(first, "334 ") {
		chal = strings.TrimPrefix(first, "334 ")
	}
	raw, _ := base64.StdEncoding.DecodeString(chal)
	var j map[string]string
	if err := json.Unmarshal(raw, &j); err != nil || j["status"] != "invalid_token" || !strings.HasPrefix(j["openid-configuration"], e.idp.Issuer()) {
		t.Fatalf("%s: challenge %q (%s)", r.name, chal, raw)
	}
	if l := p.dummy(c); !strings.Contains(l, p.fail) {
		t.Fatalf("%s: after the dummy response: %q, want %q", r.name, l, p.fail)
	}
	// The session goes on: a good token logs in.
	if l := p.auth(c, mech, xoauth2Or(mech, e.token(t, testidp.Grant{}))); !strings.Contains(l, p.ok) {
		t.Fatalf("%s: good token after a refusal: %q", r.name, l)
	}
	if p.quit != nil {
		p.quit(c)
	}
}

func xoauth2Or(mech, tok string) []byte {
	if mech == "XOAUTH2" {
		return xoauth2Msg("alice@a.test", tok)
	}
	return bearerMsg("alice@a.test", tok)
}

func testOAuthProtocols(t *testing.T, mode string, refusals []refusal) {
	e := newOAuthEnv(t, mode, nil)
	for _, p := range []proto{imapProto, pop3Proto, smtpProto} {
		for _, mech := range []string{"OAUTHBEARER", "XOAUTH2"} {
			t.Run(p.name+"/"+mech, func(t *testing.T) {
				c := e.dial(t, p.name)
				p.greet(c)
				if l := p.auth(c, mech, xoauth2Or(mech, e.token(t, testidp.Grant{}))); !strings.Contains(l, p.ok) {
					t.Fatalf("good token: %q", l)
				}
				p.use(t, e, c)
				if p.quit != nil {
					p.quit(c)
				}
				for _, r := range refusals {
					checkRefused(t, e, p, mech, r)
				}
			})
		}
	}
	e.noTokenLogged(t)
	if logs := e.logs.String(); !strings.Contains(logs, "auth failed") || !strings.Contains(logs, "reason=") {
		t.Fatalf("refused tokens were not logged with their reason:\n%s", logs)
	}
}

func TestOAuthJWKS(t *testing.T) {
	testOAuthProtocols(t, "jwks", []refusal{
		{name: "expired", fault: -1, grant: testidp.Grant{AccessTTL: -time.Second}},
		{name: "wrong audience", fault: testidp.FaultWrongAudience},
		{name: "bad signature", fault: testidp.FaultBadSignature},
		{name: "unknown user", fault: -1, grant: testidp.Grant{User: testidp.User{Email: "carol@a.test"}}},
		{name: "other domain", fault: -1, grant: testidp.Grant{User: testidp.User{Email: "alice@b.test"}}},
	})
}

func TestOAuthIntrospection(t *testing.T) {
	testOAuthProtocols(t, "introspection", []refusal{
		{name: "expired", fault: -1, grant: testidp.Grant{AccessTTL: -time.Second}},
		{name: "wrong audience", fault: testidp.FaultWrongAudience},
		{name: "unknown user", fault: -1, grant: testidp.Grant{User: testidp.User{Email: "carol@a.test"}}},
		{name: "revoked family", fault: -1, after: func(e *oauthEnv, tok string) { e.idp.RevokeFamily(tok) }},
	})
}

// TestOAuthLongToken: a token of 5 KB (Microsoft's run to several) in
// both forms, initial response and continuation (imaplib and smtplib use
// the latter), on every protocol.
func TestOAuthLongToken(t *testing.T) {
	e := newOAuthEnv(t, "jwks", nil)
	tok := e.token(t, testidp.Grant{Extra: map[string]any{"groups": strings.Repeat("g", 4000)}})
	if len(tok) < 5000 {
		t.Fatalf("token of %d bytes", len(tok))
	}
	msg := b64(xoauth2Msg("alice@a.test", tok))
	for _, tc := range []struct {
		p         proto
		cmd, cont string // the command without IR, the continuation prefix
	}{{imapProto, "a9 AUTHENTICATE XOAUTH2", "+"}, {pop3Proto, "AUTH XOAUTH2", "+"}, {smtpProto, "AUTH XOAUTH2", "334"}} {
		t.Run(tc.p.name+"/initial response", func(t *testing.T) {
			c := e.dial(t, tc.p.name)
			tc.p.greet(c)
			if l := tc.p.auth(c, "XOAUTH2", xoauth2Msg("alice@a.test", tok)); !strings.Contains(l, tc.p.ok) {
				t.Fatalf("%q", l)
			}
			if tc.p.quit != nil {
				tc.p.quit(c)
			}
		})
		t.Run(tc.p.name+"/continuation", func(t *testing.T) {
			c := e.dial(t, tc.p.name)
			tc.p.greet(c)
			c.send(tc.cmd)
			if l := c.line(); !strings.HasPrefix(l, tc.cont) {
				t.Fatalf("%s: %q", tc.cmd, l)
			}
			c.send(msg)
			l := c.line()
			for strings.HasPrefix(l, "* ") {
				l = c.line()
			}
			if !strings.Contains(l, tc.p.ok) {
				t.Fatalf("continuation: %q", l)
			}
			if tc.p.quit != nil {
				tc.p.quit(c)
			}
		})
	}
}
