package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
)

// oauthBackend is a backend for domain a.test with users alice and bob,
// validating tokens of idp in mode, on clock; its logs go to logs, its
// penalty delays to delays.
type oauthBackend struct {
	*Backend
	idp    *testidp.IdP
	clock  *testidp.ManualClock
	logs   *syncBuffer
	mu     sync.Mutex
	delays []time.Duration
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newOAuthBackend(t testing.TB, mode string, tweak func(*OAuthOptions)) *oauthBackend {
	t.Helper()
	clock := testidp.NewManualClock(time.Now())
	idp := testidp.New(t, testidp.Options{Now: clock.Now})
	ob := &oauthBackend{idp: idp, clock: clock, logs: &syncBuffer{}}
	o := &OAuthOptions{Mode: mode, Issuer: idp.Issuer(), Audience: testidp.DefaultAudience,
		HTTPClient: idp.HTTPClient(), JWKSMinRefresh: -1}
	if mode == ModeIntrospection {
		o.ClientID, o.ClientSecret = testidp.DefaultServerClientID, testidp.DefaultServerClientSecret
	}
	if tweak != nil {
		tweak(o)
	}
	b, err := New(t.TempDir(), Options{Domains: []string{"a.test"}, MaxFailures: 3, FailureWindow: time.Hour,
		Now: clock.Now, OAuth: o, Logger: slog.New(slog.NewTextHandler(ob.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep: func(_ context.Context, d time.Duration) error {
			ob.mu.Lock()
			ob.delays = append(ob.delays, d)
			ob.mu.Unlock()
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for _, u := range []string{"alice@a.test", "bob@a.test"} {
		if err := b.Users.Add(u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	ob.Backend = b
	return ob
}

func (ob *oauthBackend) token(t testing.TB, g testidp.Grant) string {
	t.Helper()
	if g.User.Email == "" {
		g.User.Email = "alice@a.test"
	}
	tk, err := ob.idp.Issue(g)
	if err != nil {
		t.Fatal(err)
	}
	return tk.AccessToken
}

var remoteA = &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1000}

// tokenCase is one login with a token and what must come of it.
type tokenCase struct {
	name    string
	fault   testidp.Fault // -1 for none
	grant   testidp.Grant
	authzid string
	before  func(ob *oauthBackend)             // before the token is made
	prep    func(ob *oauthBackend, tok string) // after
	user    string                             // "" when refused
	reason  string                             // of the refusal, in the log
	temp    bool                               // refused as ErrOAuthUnavailable
}

func runTokenCases(t *testing.T, ob *oauthBackend, cases []tokenCase) {
	ctx := context.Background()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before(ob)
			}
			if tc.fault >= 0 {
				ob.idp.SetFault(tc.fault, true)
			}
			tok := ob.token(t, tc.grant)
			if tc.prep != nil {
				tc.prep(ob, tok)
			}
			// Each case from its own address, so that no lockout spills over.
			remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, byte(10+i)), Port: 1}
			user, err := ob.AuthenticateToken(ctx, tc.authzid, tok, remote)
			if tc.fault >= 0 {
				ob.idp.SetFault(tc.fault, false)
			}
			switch {
			case tc.user != "":
				if err != nil || user != tc.user {
					t.Fatalf("got %q, %v; want %q", user, err, tc.user)
				}
			case tc.temp:
				if !errors.Is(err, ErrOAuthUnavailable) || errors.Is(err, ErrAuthFailed) {
					t.Fatalf("got %q, %v; want a temporary failure", user, err)
				}
			default:
				var te *TokenError
				if !errors.As(err, &te) || !errors.Is(err, ErrAuthFailed) || !strings.Contains(te.Reason, tc.reason) {
					t.Fatalf("got %q, %v; want a refusal for %q", user, err, tc.reason)
				}
			}
			for _, part := range append(strings.Split(tok, "."), tok) {
				if len(part) > 8 && strings.Contains(ob.logs.String(), part) {
					t.Fatalf("the log holds (part of) the token:\n%s", ob.logs.String())
				}
			}
		})
	}
}

func TestAuthenticateTokenJWKS(t *testing.T) {
	ob := newOAuthBackend(t, ModeJWKS, nil)
	runTokenCases(t, ob, []tokenCase{
		{name: "good", fault: -1, user: "alice@a.test"},
		{name: "good with authzid", fault: -1, authzid: "Alice", user: "alice@a.test"},
		{name: "claim in upper case", fault: -1, grant: testidp.Grant{User: testidp.User{Email: "BOB@a.test"}}, user: "bob@a.test"},
		{name: "expired", fault: -1, grant: testidp.Grant{AccessTTL: -time.Second}, reason: "expired"},
		{name: "wrong audience", fault: testidp.FaultWrongAudience, reason: "audience"},
		{name: "bad signature", fault: testidp.FaultBadSignature, reason: "signature"},
		{name: "unknown user", fault: -1, grant: testidp.Grant{User: testidp.User{Email: "carol@a.test"}}, reason: "unknown user"},
		{name: "other domain", fault: -1, grant: testidp.Grant{User: testidp.User{Email: "alice@b.test"}}, reason: "another domain"},
		{name: "authzid of someone else", fault: -1, authzid: "bob@a.test", reason: "another user"},
		{name: "after key rotation", fault: -1, before: rotate, user: "alice@a.test"},
		{name: "ES256", fault: -1, before: func(ob *oauthBackend) { ob.idp.SetAlgorithm(testidp.ES256) }, user: "alice@a.test"},
		{name: "new key while the issuer is down", fault: testidp.FaultDown, before: rotate, temp: true},
	})
}

func rotate(ob *oauthBackend) {
	if err := ob.idp.RotateKeys(); err != nil {
		panic(err)
	}
}

func TestAuthenticateTokenDiscoveryDown(t *testing.T) {
	ob := newOAuthBackend(t, ModeJWKS, nil)
	ob.idp.SetFault(testidp.FaultDown, true)
	tok := ob.token(t, testidp.Grant{})
	if _, err := ob.AuthenticateToken(context.Background(), "", tok, remoteA); !errors.Is(err, ErrOAuthUnavailable) {
		t.Fatalf("issuer down at the first login: %v", err)
	}
	ob.idp.SetFault(testidp.FaultDown, false)
	if u, err := ob.AuthenticateToken(context.Background(), "", tok, remoteA); err != nil || u != "alice@a.test" {
		t.Fatalf("issuer back: %q %v", u, err)
	}
}

func TestAuthenticateTokenIntrospection(t *testing.T) {
	ob := newOAuthBackend(t, ModeIntrospection, nil)
	runTokenCases(t, ob, []tokenCase{
		{name: "good", fault: -1, user: "alice@a.test"},
		{name: "expired", fault: -1, grant: testidp.Grant{AccessTTL: -time.Second}, reason: "inactive"},
		{name: "revoked family", fault: -1, prep: func(ob *oauthBackend, tok string) { ob.idp.RevokeFamily(tok) }, reason: "inactive"},
		{name: "wrong audience", fault: testidp.FaultWrongAudience, reason: "audience"},
		{name: "unknown user", fault: -1, grant: testidp.Grant{User: testidp.User{Email: "carol@a.test"}}, reason: "unknown user"},
		{name: "introspection down", fault: testidp.FaultIntrospectionDown, temp: true},
	})
	iv := ob.oauth.(*introspector)
	before := ob.idp.Counts().Introspections
	tok := ob.token(t, testidp.Grant{})
	ctx := context.Background()
	for range 3 {
		if _, err := ob.AuthenticateToken(ctx, "", tok, remoteA); err != nil {
			t.Fatal(err)
		}
	}
	if got := ob.idp.Counts().Introspections - before; got != 1 {
		t.Errorf("3 logins with one token asked the issuer %d times, want 1 (cache)", got)
	}
	// The cache keeps an answer no longer than the token lives.
	ob.clock.Advance(testidp.DefaultAccessTTL + time.Second)
	if _, err := ob.AuthenticateToken(ctx, "", tok, remoteA); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("expired token after caching: %v", err)
	}
	ob.idp.SetFault(testidp.FaultIntrospectionDown, true)
	tok = ob.token(t, testidp.Grant{})
	if _, err := ob.AuthenticateToken(ctx, "", tok, remoteA); !errors.Is(err, ErrOAuthUnavailable) {
		t.Fatalf("introspection down: %v", err)
	}
	ob.idp.SetFault(testidp.FaultIntrospectionDown, false)
	if _, err := ob.AuthenticateToken(ctx, "", "not-a-token", remoteA); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("made-up token: %v", err)
	}
	if iv.cacheLen() > 2 {
		t.Errorf("cache holds %d answers", iv.cacheLen())
	}
}

func TestIntrospectionBadCredentials(t *testing.T) {
	ob := newOAuthBackend(t, ModeIntrospection, func(o *OAuthOptions) { o.ClientSecret = "wrong" })
	tok := ob.token(t, testidp.Grant{})
	if _, err := ob.AuthenticateToken(context.Background(), "", tok, remoteA); !errors.Is(err, ErrOAuthUnavailable) {
		t.Fatalf("our credentials refused: %v, want a temporary failure", err)
	}
}

func TestIntrospectionCacheBounded(t *testing.T) {
	v := newIntrospector(OAuthOptions{CacheSize: 100, CacheTTL: time.Hour, Now: time.Now})
	now := time.Now()
	for i := range 1000 {
		var k [32]byte
		k[0], k[1] = byte(i), byte(i>>8)
		v.store(k, &TokenInfo{Identity: "x", Expiry: now.Add(time.Minute)}, now)
	}
	if n := v.cacheLen(); n > 100 {
		t.Fatalf("cache of 100 holds %d", n)
	}
}

// TestOAuthPenalty: refused tokens count as failed logins: the delay
// grows and the account locks out for the address, even for a good
// token then.
func TestOAuthPenalty(t *testing.T) {
	ob := newOAuthBackend(t, ModeJWKS, nil)
	ctx := context.Background()
	bad := ob.token(t, testidp.Grant{AccessTTL: -time.Second})
	for range 3 {
		if _, err := ob.AuthenticateToken(ctx, "alice", bad, remoteA); !errors.Is(err, ErrAuthFailed) {
			t.Fatal(err)
		}
	}
	good := ob.token(t, testidp.Grant{})
	if _, err := ob.AuthenticateToken(ctx, "", good, remoteA); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after 3 failures, a good token: %v, want ErrThrottled", err)
	}
	if _, err := ob.Authenticate(ctx, "alice", "pw", remoteA); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after 3 token failures, the password: %v, want ErrThrottled", err)
	}
	other := &net.TCPAddr{IP: net.ParseIP("192.0.2.99"), Port: 1}
	if u, err := ob.AuthenticateToken(ctx, "", good, other); err != nil || u != "alice@a.test" {
		t.Fatalf("other address: %q %v", u, err)
	}
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if len(ob.delays) < 3 || ob.delays[1] <= ob.delays[0] || ob.delays[0] == 0 {
		t.Errorf("delays %v do not grow", ob.delays)
	}
}

// TestOAuthServer runs the SASL exchanges as IMAP, POP3 and SMTP do.
func TestOAuthServer(t *testing.T) {
	ob := newOAuthBackend(t, ModeJWKS, nil)
	ctx := context.Background()
	good := ob.token(t, testidp.Grant{})
	expired := ob.token(t, testidp.Grant{AccessTTL: -time.Second})
	bearer := func(authz, tok string) []byte {
		a := ""
		if authz != "" {
			a = "a=" + authz
		}
		return []byte("n," + a + ",\x01host=mail.a.test\x01port=993\x01auth=Bearer " + tok + "\x01\x01")
	}
	xoauth := func(user, tok string) []byte { return []byte("user=" + user + "\x01auth=Bearer " + tok + "\x01\x01") }
	for _, tc := range []struct {
		name  string
		mech  string
		steps [][]byte // client responses; nil first means no initial response
		user  string
		chal  bool  // an error challenge comes before the end
		err   error // the final error
	}{
		{"OAUTHBEARER initial response", MechOAuthBearer, [][]byte{bearer("", good)}, "alice@a.test", false, nil},
		{"OAUTHBEARER after an empty challenge", MechOAuthBearer, [][]byte{nil, bearer("alice@a.test", good)}, "alice@a.test", false, nil},
		{"XOAUTH2", MechXOAuth2, [][]byte{xoauth("alice@a.test", good)}, "alice@a.test", false, nil},
		{"OAUTHBEARER expired then %x01", MechOAuthBearer, [][]byte{bearer("", expired), {1}}, "", true, ErrAuthFailed},
		{"XOAUTH2 expired then empty", MechXOAuth2, [][]byte{xoauth("alice@a.test", expired), {}}, "", true, ErrAuthFailed},
		{"XOAUTH2 expired then the message again", MechXOAuth2, [][]byte{xoauth("alice@a.test", expired), xoauth("alice@a.test", expired)}, "", true, ErrAuthFailed},
		{"malformed", MechOAuthBearer, [][]byte{[]byte("garbage")}, "", false, ErrSASLMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			s, err := ob.NewOAuthServer(ctx, tc.mech, &net.TCPAddr{IP: net.ParseIP("192.0.2.50"), Port: 1},
				func(user string) error { got = user; return nil })
			if err != nil {
				t.Fatal(err)
			}
			var sawChal bool
			for i, resp := range tc.steps {
				chal, done, err := s.Next(resp)
				last := i == len(tc.steps)-1
				if !last {
					if done || err != nil {
						t.Fatalf("step %d ended the exchange: %v", i, err)
					}
					if len(chal) > 0 {
						sawChal = true
						var m map[string]string
						if json.Unmarshal(chal, &m) != nil || m["status"] != "invalid_token" ||
							m["openid-configuration"] != ob.idp.Issuer()+"/.well-known/openid-configuration" {
							t.Fatalf("challenge %s", chal)
						}
					}
					continue
				}
				if !done || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
					t.Fatalf("end: done=%v err=%v, want %v", done, err, tc.err)
				}
			}
			if sawChal != tc.chal || got != tc.user {
				t.Fatalf("challenge %v, user %q", sawChal, got)
			}
		})
	}
}

// BenchmarkTokenLogin is the cost of one token login past the network:
// JWKS (signature and claim checks, keys cached) and introspection (an
// answer in the cache).
func BenchmarkTokenLogin(b *testing.B) {
	for _, mode := range []string{ModeJWKS, ModeIntrospection} {
		b.Run(mode, func(b *testing.B) {
			ob := newOAuthBackend(b, mode, nil)
			tok := ob.token(b, testidp.Grant{AccessTTL: time.Hour})
			ctx := context.Background()
			if _, err := ob.AuthenticateToken(ctx, "", tok, remoteA); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := ob.AuthenticateToken(ctx, "", tok, remoteA); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAuthenticateTokenClaim: the configured claim, not the email,
// names the user, with JWKS and with introspection; a token without it
// is refused; an email the provider marks unverified is refused; a
// configured scope the token lacks is refused with insufficient_scope.
func TestAuthenticateTokenClaim(t *testing.T) {
	upn := func(v string) testidp.Grant { return testidp.Grant{Extra: map[string]any{"upn": v}} }
	for _, mode := range []string{ModeJWKS, ModeIntrospection} {
		t.Run(mode, func(t *testing.T) {
			ob := newOAuthBackend(t, mode, func(o *OAuthOptions) { o.Claim = "upn" })
			runTokenCases(t, ob, []tokenCase{
				{name: "upn names bob, email alice", fault: -1, grant: upn("Bob@a.test"), user: "bob@a.test"},
				{name: "no upn", fault: -1, reason: `no "upn" claim`},
				{name: "upn of another domain", fault: -1, grant: upn("bob@b.test"), reason: "another domain"},
				{name: "authzid is the email, not the claim", fault: -1, grant: upn("bob@a.test"), authzid: "alice@a.test", reason: "another user"},
			})
		})
	}
	ob := newOAuthBackend(t, ModeJWKS, nil)
	runTokenCases(t, ob, []tokenCase{
		{name: "email not verified", fault: -1, grant: testidp.Grant{Extra: map[string]any{"email_verified": false}}, reason: "email not verified"},
		{name: "email verified", fault: -1, grant: testidp.Grant{Extra: map[string]any{"email_verified": true}}, user: "alice@a.test"},
	})
	for _, mode := range []string{ModeJWKS, ModeIntrospection} {
		ob := newOAuthBackend(t, mode, func(o *OAuthOptions) { o.Scope = "mail.send" })
		runTokenCases(t, ob, []tokenCase{
			{name: mode + " scope missing", fault: -1, reason: "scope mail.send missing"},
			{name: mode + " scope present", fault: -1, grant: testidp.Grant{Scope: "openid mail mail.send"}, user: "alice@a.test"},
		})
		_, err := ob.AuthenticateToken(context.Background(), "", ob.token(t, testidp.Grant{}), &net.TCPAddr{IP: net.IPv4(192, 0, 2, 200), Port: 1})
		var m map[string]string
		if json.Unmarshal(ob.OAuthChallenge(err), &m) != nil || m["status"] != "insufficient_scope" || m["scope"] != "mail.send" {
			t.Errorf("%s: challenge for a missing scope: %s", mode, ob.OAuthChallenge(err))
		}
	}
}

// TestIntrospectionRefreshToken: a refresh token presented as a bearer
// token is refused, though the issuer says it is active (it answers for
// refresh tokens too, RFC 7662 section 2.1), even without an audience
// to check.
func TestIntrospectionRefreshToken(t *testing.T) {
	ob := newOAuthBackend(t, ModeIntrospection, func(o *OAuthOptions) { o.Audience = "" })
	tk, err := ob.idp.Issue(testidp.Grant{User: testidp.User{Email: "alice@a.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if !ob.idp.Active(tk.RefreshToken) {
		t.Fatal("the provider does not call its refresh token active")
	}
	_, err = ob.AuthenticateToken(context.Background(), "", tk.RefreshToken, remoteA)
	var te *TokenError
	if !errors.As(err, &te) || !strings.Contains(te.Reason, "not an access token") {
		t.Fatalf("a refresh token as the bearer token: %v", err)
	}
	if u, err := ob.AuthenticateToken(context.Background(), "", tk.AccessToken, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 77), Port: 1}); err != nil || u != "alice@a.test" {
		t.Fatalf("its access token: %q %v", u, err)
	}
}
