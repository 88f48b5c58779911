package sync

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/server/backend"
)

// TestOAuthMessages: what our clients send is what our server's parsers
// (and so RFC 7628 and Google's format) read, escaping included.
func TestOAuthMessages(t *testing.T) {
	l := OAuthLogin{User: "a=b,c@example.test", Token: "eyJ.abc-_~+/==", Host: "imap.example.test", Port: 993}
	bearer, err := NewOAuthClient(MechOAuthBearer, l)
	if err != nil {
		t.Fatal(err)
	}
	mech, ir, _ := bearer.Start()
	got, err := backend.ParseOAuthBearer(ir)
	if mech != MechOAuthBearer || err != nil || got.Authzid != l.User || got.Token != l.Token || got.Host != l.Host || got.Port != l.Port {
		t.Fatalf("OAUTHBEARER %q parsed as %+v, %v", ir, got, err)
	}
	x, err := NewOAuthClient(MechXOAuth2, OAuthLogin{User: "ann@example.test", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	_, ir, _ = x.Start()
	if string(ir) != "user=ann@example.test\x01auth=Bearer tok\x01\x01" {
		t.Fatalf("XOAUTH2 %q", ir)
	}
	if got, err := backend.ParseXOAuth2(ir); err != nil || got.Token != "tok" || got.Authzid != "ann@example.test" {
		t.Fatalf("XOAUTH2 parsed as %+v, %v", got, err)
	}
	for _, bad := range []OAuthLogin{{User: "ann", Token: ""}, {User: "ann", Token: "a b"}, {User: "ann", Token: "t\x01auth=x"},
		{User: "an\x01n", Token: "tok"}, {User: "", Token: "tok"}, {User: "ann", Token: "tok", Host: "h\r\n"}} {
		if _, err := NewOAuthClient(MechOAuthBearer, bad); err == nil {
			t.Errorf("NewOAuthClient(%+v) accepted", bad)
		}
	}
	if _, err := NewOAuthClient("PLAIN", l); err == nil {
		t.Error("PLAIN accepted as an OAuth2 mechanism")
	}
}

// TestOAuthChallengeAnswer: the error challenge is kept and answered so
// that the server can finish with its refusal (RFC 7628 section 3.2.3).
func TestOAuthChallengeAnswer(t *testing.T) {
	for _, tc := range []struct {
		mech, challenge, status, scope string
		answer                         []byte
	}{
		{MechOAuthBearer, `{"status":"invalid_token","scope":"mail","openid-configuration":"https://idp/.well-known/openid-configuration"}`, "invalid_token", "mail", []byte{1}},
		{MechXOAuth2, `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`, "400", "https://mail.google.com/", []byte{}},
		{MechXOAuth2, `{"status":401}`, "401", "", []byte{}},
		{MechOAuthBearer, `not json`, "unreadable challenge: ", "", []byte{1}},
	} {
		c, err := NewOAuthClient(tc.mech, OAuthLogin{User: "ann", Token: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		answer, err := c.Next([]byte(tc.challenge))
		if err != nil || string(answer) != string(tc.answer) || answer == nil {
			t.Errorf("%s %s: answer %q, %v", tc.mech, tc.challenge, answer, err)
		}
		ch := c.Challenge()
		if ch == nil || !strings.HasPrefix(ch.Status, tc.status) || ch.Scope != tc.scope {
			t.Errorf("%s %s: challenge %+v", tc.mech, tc.challenge, ch)
		}
		if _, err := c.Next([]byte(tc.challenge)); !errors.Is(err, ErrProtocol) {
			t.Errorf("second challenge: %v", err)
		}
	}
	for _, bad := range []string{"", "[]", `{"scope":"x"}`, `{"status":""}`, `{"status":{}}`, strings.Repeat(" ", maxChallenge+1)} {
		if ch, err := ParseOAuthChallenge([]byte(bad)); err == nil {
			t.Errorf("ParseOAuthChallenge(%.20q) = %+v", bad, ch)
		}
	}
}

func TestChooseOAuthMech(t *testing.T) {
	for _, tc := range []struct {
		offered []string
		want    string
	}{
		{[]string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}, MechOAuthBearer},
		{[]string{"XOAUTH2"}, MechXOAuth2},
		{[]string{"PLAIN", "LOGIN"}, ""},
	} {
		got := ChooseOAuthMech(func(m string) bool {
			for _, o := range tc.offered {
				if o == m {
					return true
				}
			}
			return false
		})
		if got != tc.want {
			t.Errorf("%v: %q, want %q", tc.offered, got, tc.want)
		}
	}
}

// fakeSource is a TokenSource whose Refused hands out next once.
type fakeSource struct {
	next     string
	err      error
	refusals []string
}

func (f *fakeSource) Token(context.Context) (string, error) { return "first", nil }
func (f *fakeSource) Refused(_ context.Context, tok string) (string, error) {
	f.refusals = append(f.refusals, tok)
	return f.next, f.err
}

// TestOAuthRetry: a refused token is refreshed once and tried once more;
// a refused refresh wins; other failures end it at once.
func TestOAuthRetry(t *testing.T) {
	refused := &TokenRefusedError{Mech: MechXOAuth2, Err: errors.New("NO")}
	expired := &Error{Op: "refresh", Kind: Auth, Err: errors.New("the sign-in has expired")}
	down := &Error{Op: "connect", Kind: Temporary, Err: errors.New("reset")}
	for _, tc := range []struct {
		name     string
		src      *fakeSource
		results  map[string]error
		want     error
		attempts int
	}{
		{"ok", &fakeSource{}, map[string]error{"first": nil}, nil, 1},
		{"refreshed", &fakeSource{next: "second"}, map[string]error{"first": refused, "second": nil}, nil, 2},
		{"refused twice", &fakeSource{next: "second"}, map[string]error{"first": refused, "second": refused}, refused, 2},
		{"no new token", &fakeSource{next: ""}, map[string]error{"first": refused}, refused, 1},
		{"same token", &fakeSource{next: "first"}, map[string]error{"first": refused}, refused, 1},
		{"refresh refused", &fakeSource{err: expired}, map[string]error{"first": refused}, expired, 1},
		{"temporary", &fakeSource{next: "second"}, map[string]error{"first": down}, down, 1},
	} {
		n := 0
		err := OAuthRetry(context.Background(), tc.src, "first", func(tok string) error {
			n++
			return tc.results[tok]
		})
		if err != tc.want || n != tc.attempts {
			t.Errorf("%s: %v after %d attempts, want %v after %d", tc.name, err, n, tc.want, tc.attempts)
		}
	}
	if !errors.Is(refused, ErrAuth) || KindOf(refused) != Auth {
		t.Error("TokenRefusedError is not of kind Auth")
	}
}

// FuzzOAuthChallenge: the challenge decoder never panics, and what it
// accepts has a status without control characters.
func FuzzOAuthChallenge(f *testing.F) {
	for _, s := range []string{`{"status":"invalid_token","scope":"mail"}`, `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`,
		`{"status":401}`, `{"status":"401","schemes":"bearer","scope":"mail"}`, `{"status":"\u0001\n"}`, `[]`, `{`, `{"status":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ch, err := ParseOAuthChallenge(b)
		if err != nil {
			return
		}
		if ch.Status == "" || strings.ContainsFunc(ch.Status+ch.Scope+ch.OpenIDConfiguration, func(r rune) bool { return r < 0x20 }) {
			t.Fatalf("accepted %q as %+v", b, ch)
		}
		_ = ch.Describe()
	})
}
