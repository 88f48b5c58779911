package imapsync

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
	"github.com/letterbox-mail/letterbox/internal/testpeer"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// tokens is a TokenSource with a fixed first token; Refused hands out
// next (once) and records what was refused.
type tokens struct {
	mu       sync.Mutex
	first    string
	next     string
	err      error
	refused  []string
	tokenErr error
}

func (s *tokens) Token(context.Context) (string, error) { return s.first, s.tokenErr }

func (s *tokens) Refused(_ context.Context, tok string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused = append(s.refused, tok)
	n := s.next
	s.next = ""
	return n, s.err
}

// oauthIMAP is a fake server offering caps before login, which accepts
// the token "good" and refuses any other with a JSON challenge, then
// finalNo once the client has answered the challenge the way the
// mechanism wants (an empty line for XOAUTH2, "AQ==" for OAUTHBEARER:
// anything else, "=" included, gets BAD as from Dovecot).
type oauthIMAP struct {
	*fakeIMAP
	mu      sync.Mutex
	lines   []string // AUTHENTICATE command lines, as sent
	finalNo string
}

func newOAuthIMAP(t *testing.T, caps string) *oauthIMAP {
	f := &oauthIMAP{fakeIMAP: newFakeIMAP(t), finalNo: "NO [AUTHENTICATIONFAILED] Authentication failed."}
	f.greet = func(w io.Writer) { io.WriteString(w, "* OK [CAPABILITY IMAP4rev1 "+caps+"] ready\r\n") }
	var tag, mech string
	respond := func(w io.Writer, msg []byte) {
		tok := ""
		if i := strings.Index(string(msg), "auth=Bearer "); i >= 0 {
			tok, _, _ = strings.Cut(string(msg)[i+len("auth=Bearer "):], "\x01")
		}
		if tok == "good" {
			io.WriteString(w, tag+" OK [CAPABILITY IMAP4rev1 IDLE] signed in\r\n")
			return
		}
		io.WriteString(w, "+ "+base64.StdEncoding.EncodeToString([]byte(`{"status":"invalid_token","scope":"mail"}`))+"\r\n")
	}
	f.reply["AUTHENTICATE"] = func(t, line string, w io.Writer) {
		f.mu.Lock()
		f.lines = append(f.lines, line)
		f.mu.Unlock()
		fields := strings.Fields(line)
		tag, mech = t, strings.ToUpper(fields[2])
		if len(fields) < 4 {
			io.WriteString(w, "+ \r\n")
			return
		}
		msg, _ := base64.StdEncoding.DecodeString(fields[3])
		respond(w, msg)
	}
	// Continuation lines come in as commands with no name.
	f.reply[""] = func(_, line string, w io.Writer) {
		want := ""
		if mech == lbsync.MechOAuthBearer {
			want = "AQ=="
		}
		if msg, err := base64.StdEncoding.DecodeString(line); err == nil && strings.Contains(string(msg), "auth=Bearer") {
			respond(w, msg)
			return
		}
		if line != want {
			io.WriteString(w, tag+" BAD Invalid base64 data in continued response\r\n")
			return
		}
		f.mu.Lock()
		final := f.finalNo
		f.mu.Unlock()
		io.WriteString(w, tag+" "+final+"\r\n")
	}
	f.start()
	return f
}

func (f *oauthIMAP) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

// TestOAuth2Login: the client picks OAUTHBEARER over XOAUTH2, sends the
// initial response with SASL-IR or after "+" without it, answers the
// error challenge as each mechanism wants (the XOAUTH2 empty line failed
// as "=" before the imapclient patch), and tries a refreshed token once.
func TestOAuth2Login(t *testing.T) {
	for _, tc := range []struct {
		name, caps, mech string
		saslIR           bool
	}{
		{"xoauth2 only", "SASL-IR AUTH=XOAUTH2 AUTH=PLAIN", "XOAUTH2", true},
		{"both", "SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER", "OAUTHBEARER", true},
		{"no SASL-IR", "AUTH=XOAUTH2", "XOAUTH2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newOAuthIMAP(t, tc.caps)
			src := &tokens{first: "stale", next: "good"}
			cfg := Config{Addr: f.addr(), Security: SecurityNone, Login: "ann@example.test", OAuth2: src}
			if err := TestLogin(context.Background(), cfg); err != nil {
				t.Fatalf("login: %v", err)
			}
			if len(src.refused) != 1 || src.refused[0] != "stale" {
				t.Fatalf("refused %q, want the stale token once", src.refused)
			}
			lines := f.sent()
			if len(lines) != 2 {
				t.Fatalf("AUTHENTICATE sent %d times: %q", len(lines), lines)
			}
			for _, l := range lines {
				if fields := strings.Fields(l); strings.ToUpper(fields[2]) != tc.mech || (len(fields) == 4) != tc.saslIR {
					t.Errorf("sent %q, want %s with initial response %v", l, tc.mech, tc.saslIR)
				}
			}
		})
	}
}

// TestOAuth2Refused: a token refused twice is of kind Auth and carries
// the challenge; a refused refresh is what the caller sees; NO
// [UNAVAILABLE] is temporary and no refresh is asked for; a server
// without OAuth2 is a permanent failure.
func TestOAuth2Refused(t *testing.T) {
	ctx := context.Background()
	f := newOAuthIMAP(t, "SASL-IR AUTH=XOAUTH2")
	src := &tokens{first: "stale", next: "also-stale"}
	err := TestLogin(ctx, Config{Addr: f.addr(), Security: SecurityNone, Login: "ann@example.test", OAuth2: src})
	var tre *lbsync.TokenRefusedError
	if !errors.Is(err, lbsync.ErrAuth) || !errors.As(err, &tre) || tre.Challenge == nil || tre.Challenge.Status != "invalid_token" ||
		!strings.Contains(err.Error(), "AUTHENTICATIONFAILED") || len(src.refused) != 1 {
		t.Fatalf("refused twice: %v (refused %q)", err, src.refused)
	}

	expired := &lbsync.Error{Op: "oauth2 refresh", Kind: lbsync.Auth, Err: errors.New("the sign-in for ann has expired or was revoked")}
	src = &tokens{first: "stale", err: expired}
	if err := TestLogin(ctx, Config{Addr: f.addr(), Security: SecurityNone, Login: "ann@example.test", OAuth2: src}); err != expired {
		t.Fatalf("refused refresh: %v", err)
	}

	f.mu.Lock()
	f.finalNo = "NO [UNAVAILABLE] the token service is down"
	f.mu.Unlock()
	src = &tokens{first: "stale", next: "good"}
	err = TestLogin(ctx, Config{Addr: f.addr(), Security: SecurityNone, Login: "ann@example.test", OAuth2: src})
	if !lbsync.IsTemporary(err) || len(src.refused) != 0 {
		t.Fatalf("UNAVAILABLE: %v (kind %v, refused %q)", err, lbsync.KindOf(err), src.refused)
	}

	plain := newOAuthIMAP(t, "SASL-IR AUTH=PLAIN")
	err = TestLogin(ctx, Config{Addr: plain.addr(), Security: SecurityNone, Login: "ann@example.test", OAuth2: &tokens{first: "good"}})
	if lbsync.KindOf(err) != lbsync.Permanent || !strings.Contains(err.Error(), "no OAuth2 login") {
		t.Fatalf("no OAuth2 mechanism: %v", err)
	}

	down := &lbsync.Error{Op: "oauth2 refresh", Kind: lbsync.Temporary, Err: errors.New("identity provider unreachable")}
	err = TestLogin(ctx, Config{Addr: f.addr(), Security: SecurityNone, Login: "ann@example.test", OAuth2: &tokens{tokenErr: down}})
	if err != down {
		t.Fatalf("token source down: %v", err)
	}
}

// idpTokens is a TokenSource over a test identity provider: the first
// token is an expired one, Refused issues a fresh one.
type idpTokens struct {
	idp   *testidp.IdP
	first string
	user  testidp.User
	mu    sync.Mutex
	n     int
}

func (s *idpTokens) Token(context.Context) (string, error) { return s.first, nil }

func (s *idpTokens) Refused(context.Context, string) (string, error) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	tk, err := s.idp.Issue(testidp.Grant{User: s.user})
	return tk.AccessToken, err
}

// TestOAuth2DovecotXOAUTH2 signs in to a Dovecot that offers only
// XOAUTH2 (as Microsoft's servers): the expired token's refusal ends in
// NO [AUTHENTICATIONFAILED] after the client's empty answer (it was BAD
// before the imapclient patch), and the fresh token signs in.
func TestOAuth2DovecotXOAUTH2(t *testing.T) {
	user := testidp.User{Subject: "ann", Email: testUser}
	idp := testidp.New(t, testidp.Options{User: user})
	d := testpeer.StartDovecotWith(t, map[string]string{testUser: testPass}, testpeer.DovecotOptions{OAuth2: &testpeer.DovecotOAuth2{
		IntrospectionURL: idp.IntrospectionURL(), ClientID: testidp.DefaultServerClientID,
		ClientSecret: testidp.DefaultServerClientSecret, CAPEM: idp.CertPEM(), Mechanisms: "xoauth2"}})
	dead, err := idp.Issue(testidp.Grant{User: user, AccessTTL: -time.Second})
	if err != nil {
		t.Fatal(err)
	}
	src := &idpTokens{idp: idp, first: dead.AccessToken, user: user}
	cfg := Config{Addr: d.IMAPS, TLS: d.TLSConfig(), Login: testUser, OAuth2: src}
	if err := TestLogin(context.Background(), cfg); err != nil || src.n != 1 {
		t.Fatalf("login: %v after %d refreshes\n%s", err, src.n, d.Log(t))
	}
	// Refused for good: the kind is Auth, the server's words are kept.
	src = &idpTokens{idp: idp, first: dead.AccessToken, user: testidp.User{Subject: "x", Email: "nobody@example.test"}}
	err = TestLogin(context.Background(), Config{Addr: d.IMAPS, TLS: d.TLSConfig(), Login: testUser, OAuth2: src})
	var tre *lbsync.TokenRefusedError
	if !errors.Is(err, lbsync.ErrAuth) || !errors.As(err, &tre) || tre.Mech != lbsync.MechXOAuth2 || !strings.Contains(err.Error(), "AUTHENTICATIONFAILED") {
		t.Fatalf("refused: %v", err)
	}
}
