package pop3

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// tokens is a TokenSource with a fixed first token; Refused hands out
// next once and records what was refused.
type tokens struct {
	mu      sync.Mutex
	first   string
	next    string
	err     error
	refused []string
}

func (s *tokens) Token(context.Context) (string, error) { return s.first, nil }

func (s *tokens) Refused(_ context.Context, tok string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused = append(s.refused, tok)
	n := s.next
	s.next = ""
	return n, s.err
}

// oauthFake accepts the token "good"; any other gets the JSON challenge
// and then final, once the client answered as its mechanism wants
// (anything else is a protocol error here).
func oauthFake(capa []string, final string) *fake {
	f := &fake{capa: append(append([]string(nil), defaultCapa...), capa...), msgs: []string{"Subject: a\r\n\r\nhi\r\n"}}
	f.auth = func(arg string, read func() (string, error), say func(string)) {
		mech, ir, _ := strings.Cut(arg, " ")
		if ir == "" {
			say("+ ")
			var err error
			if ir, err = read(); err != nil {
				return
			}
		}
		msg, _ := base64.StdEncoding.DecodeString(ir)
		if strings.Contains(string(msg), "auth=Bearer good\x01") {
			say("+OK signed in")
			return
		}
		say("+ " + base64.StdEncoding.EncodeToString([]byte(`{"status":"invalid_token"}`)))
		answer, err := read()
		if err != nil {
			return
		}
		want := map[string]string{"OAUTHBEARER": "AQ==", "XOAUTH2": ""}[mech]
		if answer != want {
			say("-ERR [SYS/PERM] bad answer to the challenge")
			return
		}
		say(final)
	}
	return f
}

// TestOAuth2 signs in with AUTH OAUTHBEARER or XOAUTH2 (the token after
// "+", being too long for RFC 5034's line), refreshes a refused token
// once, and classifies the refusals.
func TestOAuth2(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("x", 300) // does not fit on the AUTH line
	for _, mech := range []string{"OAUTHBEARER", "XOAUTH2"} {
		capa := []string{"SASL PLAIN " + mech}
		f := oauthFake(capa, "-ERR [AUTH] Authentication failed.")
		addr := f.start(t)
		src := &tokens{first: long, next: "good"}
		c, err := Dial(ctx, Config{Addr: addr, Security: SecurityNone, Login: "ann@example.test", OAuth2: src})
		if err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		c.Close()
		f.wait(t)
		cmds := f.commands()
		if len(src.refused) != 1 || src.refused[0] != long || !strings.HasPrefix(cmds[1], "AUTH "+mech) {
			t.Fatalf("%s: refused %d, commands %q", mech, len(src.refused), cmds)
		}
		for _, c := range cmds {
			if strings.HasPrefix(c, "AUTH") && len(c)+2 > maxAuthLine {
				t.Fatalf("%s: AUTH line of %d octets", mech, len(c)+2)
			}
		}
		if cmds[1] != "AUTH "+mech {
			t.Errorf("%s: the long token went on the command line: %.40q", mech, cmds[1])
		}
	}

	// Refused twice: Auth, with the challenge.
	f := oauthFake([]string{"SASL XOAUTH2"}, "-ERR [AUTH] Authentication failed.")
	addr := f.start(t)
	src := &tokens{first: "stale", next: "stale2"}
	_, err := Dial(ctx, Config{Addr: addr, Security: SecurityNone, Login: "ann@example.test", OAuth2: src})
	var tre *lbsync.TokenRefusedError
	if !errors.Is(err, lbsync.ErrAuth) || !errors.As(err, &tre) || tre.Challenge.Status != "invalid_token" || len(src.refused) != 1 {
		t.Fatalf("refused twice: %v", err)
	}
	// Temporary: no refresh asked for.
	f = oauthFake([]string{"SASL XOAUTH2"}, "-ERR [SYS/TEMP] token service down")
	addr = f.start(t)
	src = &tokens{first: "stale", next: "good"}
	_, err = Dial(ctx, Config{Addr: addr, Security: SecurityNone, Login: "ann@example.test", OAuth2: src})
	if !lbsync.IsTemporary(err) || len(src.refused) != 0 {
		t.Fatalf("SYS/TEMP: %v (%v), refused %q", err, lbsync.KindOf(err), src.refused)
	}
	// No OAuth2 mechanism: permanent, nothing sent.
	f = oauthFake(nil, "")
	addr = f.start(t)
	_, err = Dial(ctx, Config{Addr: addr, Security: SecurityNone, Login: "ann@example.test", OAuth2: &tokens{first: "good"}})
	if lbsync.KindOf(err) != lbsync.Permanent || !strings.Contains(err.Error(), "no OAuth2 login") {
		t.Fatalf("no mechanism: %v", err)
	}
}
