package submit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	srvbackend "github.com/letterbox-mail/letterbox/server/backend"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// oauthServer is the server side of OAUTHBEARER and XOAUTH2 for the
// test backend: the token "good" signs in as the backend's login; any
// other gets the JSON challenge, and once the client answered it as its
// mechanism wants (^A, or nothing), the backend's oauthFinal (535).
type oauthServer struct {
	mech       string
	s          *testSession
	challenged bool
}

func (o *oauthServer) Next(response []byte) ([]byte, bool, error) {
	if response == nil {
		return []byte{}, false, nil
	}
	if o.challenged {
		want := map[string]string{"OAUTHBEARER": "\x01", "XOAUTH2": ""}[o.mech]
		if string(response) != want {
			return nil, true, &smtp.SMTPError{Code: 501, Message: "bad answer to the challenge"}
		}
		o.s.b.mu.Lock()
		o.s.b.authFail++
		final := o.s.b.oauthFinal
		o.s.b.mu.Unlock()
		if final == nil {
			final = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		return nil, true, final
	}
	parse := srvbackend.ParseOAuthBearer
	if o.mech == "XOAUTH2" {
		parse = srvbackend.ParseXOAuth2
	}
	creds, err := parse(response)
	if err == nil && creds.Token == "good" && creds.Authzid == o.s.b.login {
		o.s.user = creds.Authzid
		return nil, true, nil
	}
	o.challenged = true
	return []byte(`{"status":"invalid_token","scope":"mail"}`), false, nil
}

// tokens is a TokenSource with a fixed first token; Refused hands out
// next once.
type tokens struct {
	mu      sync.Mutex
	first   string
	next    string
	refused []string
}

func (s *tokens) Token(context.Context) (string, error) { return s.first, nil }

func (s *tokens) Refused(_ context.Context, tok string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused = append(s.refused, tok)
	n := s.next
	s.next = ""
	return n, nil
}

// TestOAuth2Submit sends with a bearer token over AUTH OAUTHBEARER or
// XOAUTH2: a stale token is refreshed once; a refusal is Auth with the
// challenge; 454 stays temporary; a server without them is permanent.
func TestOAuth2Submit(t *testing.T) {
	ctx := context.Background()
	msg := testMessage("ann@example.test", "bob@example.test", "", "token")
	for _, tc := range []struct {
		mechs []string
		want  string
	}{{[]string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}, "OAUTHBEARER"}, {[]string{"XOAUTH2"}, "XOAUTH2"}} {
		be := &backend{login: "ann@example.test", password: "unused", mechs: tc.mechs}
		srv := startServer(t, be, modeTLS)
		src := &tokens{first: "stale", next: "good"}
		srv.Password, srv.OAuth2 = "", src
		if err := Send(ctx, srv, "ann@example.test", []string{"bob@example.test"}, strings.NewReader(msg)); err != nil {
			t.Fatalf("%s: %v", tc.want, err)
		}
		be.mu.Lock()
		fails := be.authFail
		be.mu.Unlock()
		if d := be.delivered(); len(d) != 1 || d[0].user != "ann@example.test" || len(src.refused) != 1 || fails != 1 {
			t.Fatalf("%s: delivered %+v, refused %q, failures %d", tc.want, d, src.refused, fails)
		}
	}

	be := &backend{login: "ann@example.test", mechs: []string{"XOAUTH2"}}
	srv := startServer(t, be, modeTLS)
	srv.OAuth2 = &tokens{first: "stale", next: "stale2"}
	err := TestLogin(ctx, srv)
	var tre *lbsync.TokenRefusedError
	var e *Error
	if !errors.Is(err, lbsync.ErrAuth) || !errors.As(err, &tre) || !errors.As(err, &e) || e.Code != 535 || tre.Challenge.Status != "invalid_token" ||
		!strings.Contains(err.Error(), "invalid_token") {
		t.Fatalf("refused: %v", err)
	}

	be.set(func(b *backend) {
		b.oauthFinal = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Temporary authentication failure"}
	})
	src := &tokens{first: "stale", next: "good"}
	srv.OAuth2 = src
	if err := TestLogin(ctx, srv); !lbsync.IsTemporary(err) || len(src.refused) != 0 {
		t.Fatalf("454: %v, refused %q", err, src.refused)
	}

	plain := startServer(t, &backend{login: "ann@example.test", password: "pw"}, modeTLS)
	plain.OAuth2 = &tokens{first: "good"}
	if err := TestLogin(ctx, plain); lbsync.KindOf(err) != lbsync.Permanent || !errors.Is(err, ErrNoAuth) {
		t.Fatalf("no OAuth2 mechanism: %v", err)
	}
}
