package pop3d

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/netlimit"
)

// authAllowed reports whether credentials may be sent now: over TLS, or
// anywhere with AllowInsecureAuth.
func (ss *session) authAllowed() bool { return ss.tls || ss.srv.opts.AllowInsecureAuth }

const (
	insecureAuthText = "[AUTH] Plaintext authentication disallowed on non-secure (TLS) connections"
	passwordOffText  = "Password login is disabled on this port; use AUTH OAUTHBEARER or XOAUTH2"
)

// cmdCapa lists the capabilities (RFC 2449 section 5) that apply in the
// current state and on this connection.
func (ss *session) cmdCapa() {
	ss.ok("Capability list follows")
	for _, c := range []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"} {
		ss.line(c)
	}
	if ss.state == stateAuthorization {
		if ss.authAllowed() {
			if !ss.lo.NoPassword {
				ss.line("USER")
			}
			if mechs := ss.mechanisms(); len(mechs) > 0 {
				ss.line("SASL " + strings.Join(mechs, " "))
			}
		}
		if ss.srv.opts.TLSConfig != nil && !ss.tls {
			ss.line("STLS")
		}
	}
	ss.line("IMPLEMENTATION letterbox")
	ss.end()
}

// cmdStls starts TLS (RFC 2595 section 4). Input the client pipelined
// behind STLS is dropped, so that nothing sent in clear text is taken as
// coming over TLS.
func (ss *session) cmdStls() bool {
	cfg := ss.srv.opts.TLSConfig
	switch {
	case ss.tls:
		ss.badCommand("Already using TLS")
		return false
	case cfg == nil:
		ss.badCommand("STLS not available")
		return false
	}
	if n := ss.br.Buffered(); n > 0 {
		ss.log.Warn("pop3 dropping input pipelined after STLS", "octets", n)
		ss.br.Discard(n)
	}
	ss.ok("Begin TLS negotiation now")
	if err := ss.bw.Flush(); err != nil {
		return true
	}
	ss.mu.Lock()
	raw := ss.conn
	ss.mu.Unlock()
	tc := tls.Server(raw, cfg)
	tc.SetDeadline(time.Now().Add(ss.srv.opts.HandshakeTimeout))
	if err := tc.HandshakeContext(ss.ctx); err != nil {
		ss.log.Info("pop3 STLS handshake failed", "err", err)
		return true
	}
	tc.SetDeadline(time.Time{})
	ss.mu.Lock()
	ss.conn = tc
	ss.mu.Unlock()
	ss.br.Reset(tc)
	ss.bw.Reset(deadlineWriter{tc, ss.srv.opts.IdleTimeout})
	ss.tls = true
	ss.pendingUser = ""
	st := tc.ConnectionState()
	ss.log.Debug("pop3 STLS", "version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite))
	return false
}

// cmdUser takes the name for PASS (RFC 1939 section 7). It says +OK for
// any name, so names cannot be probed.
func (ss *session) cmdUser(arg string) {
	if !ss.authAllowed() {
		ss.fail(insecureAuthText)
		return
	}
	if ss.lo.NoPassword {
		ss.fail(passwordOffText)
		return
	}
	name := strings.TrimSpace(arg)
	if name == "" {
		ss.badCommand("Syntax: USER name")
		return
	}
	ss.pendingUser = name
	ss.ok("Send PASS")
}

// cmdPass logs in with the name from USER (RFC 1939 section 7). The whole
// argument is the password, spaces included.
func (ss *session) cmdPass(arg string) bool {
	if !ss.authAllowed() {
		ss.fail(insecureAuthText)
		return false
	}
	if ss.lo.NoPassword {
		ss.fail(passwordOffText)
		return false
	}
	if ss.pendingUser == "" {
		ss.badCommand("Send USER first")
		return false
	}
	name := ss.pendingUser
	ss.pendingUser = ""
	return ss.login(name, arg)
}

// cmdAuth is AUTH (RFC 5034 section 4) with PLAIN (RFC 4616), and with
// OAUTHBEARER (RFC 7628) and XOAUTH2 when OAuth2 is configured, each with
// an initial response or in the continuation form. Without an argument it
// lists the mechanisms, as RFC 1734 servers did.
func (ss *session) cmdAuth(arg string) bool {
	if arg == "" {
		ss.ok("Methods supported")
		if ss.authAllowed() {
			for _, m := range ss.mechanisms() {
				ss.line(m)
			}
		}
		ss.end()
		return false
	}
	mech, resp, hasIR := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	switch {
	case mech == "PLAIN" && ss.lo.NoPassword:
		ss.fail(passwordOffText)
		return false
	case mech == backend.MechOAuthBearer || mech == backend.MechXOAuth2:
		if ss.oauth() != nil {
			break
		}
		fallthrough
	case mech != "PLAIN":
		ss.fail("Unsupported authentication mechanism")
		return false
	}
	if !ss.authAllowed() {
		ss.fail(insecureAuthText)
		return false
	}
	if mech != "PLAIN" {
		return ss.authOAuth(mech, resp, hasIR)
	}
	if !hasIR {
		var end bool
		if resp, end = ss.challenge(""); resp == "" {
			return end
		}
	}
	var raw []byte
	if resp != "=" { // "=" is an empty initial response
		var err error
		if raw, err = base64.StdEncoding.DecodeString(resp); err != nil {
			ss.authFailures++
			ss.fail("Invalid base64 data")
			return ss.authFailures >= maxAuthFailures
		}
	}
	authz, authc, pass, ok := parsePlain(raw)
	if !ok {
		ss.authFailures++
		ss.fail("[AUTH] Malformed PLAIN response")
		return ss.authFailures >= maxAuthFailures
	}
	if authz != "" && !strings.EqualFold(authz, authc) {
		// Acting for another user is not supported; still count it.
		ss.authFailures++
		ss.fail("[AUTH] Authorization identity not allowed")
		return ss.authFailures >= maxAuthFailures
	}
	return ss.login(authc, pass)
}

// challenge sends a server challenge ("+ " and its base64, RFC 5034
// section 4) and reads the client's answer. An answer of "" means the
// exchange is over (cancelled with "*", answered already) and end whether
// the session must end.
func (ss *session) challenge(b64 string) (answer string, end bool) {
	ss.bw.WriteString("+ " + b64 + "\r\n")
	if err := ss.bw.Flush(); err != nil {
		return "", true
	}
	ss.mu.Lock()
	ss.conn.SetReadDeadline(time.Now().Add(ss.idleTimeout()))
	ss.mu.Unlock()
	line, err := readLine(ss.br, max(ss.srv.opts.MaxLineLength, maxAuthLine))
	if err != nil {
		ss.readFailed(err)
		return "", true
	}
	if string(line) == "*" {
		ss.fail("Authentication cancelled")
		return "", false
	}
	if len(line) == 0 {
		return "=", false // an empty answer, as "=" is
	}
	return string(line), false
}

// parsePlain splits a PLAIN message: authzid NUL authcid NUL passwd (RFC
// 4616 section 2).
func parsePlain(b []byte) (authz, authc, pass string, ok bool) {
	parts := bytes.Split(b, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 {
		return "", "", "", false
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), true
}

// login checks a password, then enters the TRANSACTION state. It reports
// whether the session must end (too many failures).
func (ss *session) login(name, password string) bool {
	addr, err := ss.srv.be.Authenticate(ss.ctx, name, password, ss.remote)
	if err == nil {
		err = ss.enter(addr)
	}
	return ss.loginDone(err, "password", name)
}

// errInUse is enter's error for a maildrop another session holds.
var errInUse = errors.New("maildrop in use")

// enter takes the mailbox lock and the maildrop snapshot of a user whose
// credentials were good, and enters the TRANSACTION state; loginDone
// answers.
func (ss *session) enter(addr string) error {
	// RFC 2449 section 8.1.1: the credentials were good, the maildrop is
	// busy.
	if !ss.srv.lockMailbox(addr, ss) {
		ss.log.Info("pop3 mailbox in use", "user", addr)
		return errInUse
	}
	drop, err := openMaildrop(ss.ctx, ss.srv.be, ss.srv.sizes, addr)
	if err != nil {
		ss.srv.unlockMailbox(addr, ss)
		return &maildropError{err}
	}
	ss.user, ss.drop, ss.state = addr, drop, stateTransaction
	ss.mu.Lock()
	netlimit.LoggedIn(ss.conn)
	ss.mu.Unlock()
	ss.log = ss.log.With("user", addr)
	ss.log.Info("pop3 login", "messages", len(drop.msgs), "tls", ss.tls)
	return nil
}

// maildropError is a failure to open a good user's maildrop: ours, not
// the client's.
type maildropError struct{ err error }

func (e *maildropError) Error() string { return "open maildrop: " + e.err.Error() }
func (e *maildropError) Unwrap() error { return e.err }

// loginDone answers the end of a login by password or token (RFC 2449
// section 8 and RFC 3206 response codes) and reports whether the session
// must end (too many failures). name is what the client typed, never a
// secret.
func (ss *session) loginDone(err error, mech, name string) bool {
	var me *maildropError
	switch {
	case err == nil:
		ss.ok("Logged in, %d messages", len(ss.drop.msgs))
		return false
	case errors.Is(err, errInUse):
		ss.fail("[IN-USE] Mailbox is locked by another POP3 session")
		return false
	case errors.As(err, &me):
		ss.internal("open maildrop", me.err)
		return false
	}
	ss.authFailures++
	token := mech == backend.MechOAuthBearer || mech == backend.MechXOAuth2
	attrs := []any{"mech", mech}
	if name != "" {
		attrs = append(attrs, "login", sanitize(name))
	}
	switch {
	case errors.Is(err, backend.ErrThrottled):
		// RFC 3206 section 4: not the credentials, a temporary
		// condition.
		ss.log.Warn("pop3 login locked out", attrs...)
		ss.fail("[SYS/TEMP] Too many failed logins to this account from your address; try again later")
	case errors.Is(err, backend.ErrSASLMalformed):
		ss.log.Info("pop3 login malformed", attrs...)
		ss.fail("Malformed %s message", mech)
	case errors.Is(err, backend.ErrAuthFailed), errors.Is(err, backend.ErrNoUser):
		ss.log.Info("pop3 login failed", attrs...)
		if token {
			ss.fail("[AUTH] OAuth2 token refused")
		} else {
			ss.fail("[AUTH] Authentication failed")
		}
	case errors.Is(err, backend.ErrOAuthUnavailable):
		ss.log.Warn("pop3 login: token not checked", append(attrs, "err", err)...)
		ss.fail("[SYS/TEMP] Cannot check the token now, try again later")
	default:
		ss.log.Error("pop3 login error", append(attrs, "err", err)...)
		ss.fail("[SYS/TEMP] Temporary authentication failure")
	}
	if ss.authFailures >= maxAuthFailures {
		ss.log.Info("pop3 closing after failed logins", "failures", ss.authFailures)
		return true
	}
	return false
}
