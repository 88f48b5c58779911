package testpeer

import (
	"crypto/tls"
	"encoding/base64"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
)

// TestDovecotOAuth2 checks the OAuth2 option of the harness: Dovecot
// asks the provider about each token, accepts a live one for its user
// and answers a dead one with the JSON challenge of RFC 7628 section
// 3.2.2, then NO; password logins still work.
func TestDovecotOAuth2(t *testing.T) {
	idp := testidp.New(t, testidp.Options{User: testidp.User{Subject: "ann", Email: "ann@example.test"}})
	d := StartDovecotWith(t, map[string]string{"ann@example.test": "secret"}, DovecotOptions{OAuth2: &DovecotOAuth2{
		IntrospectionURL: idp.IntrospectionURL(), ClientID: testidp.DefaultServerClientID,
		ClientSecret: testidp.DefaultServerClientSecret, CAPEM: idp.CertPEM()}})
	good, err := idp.Issue(testidp.Grant{User: testidp.User{Subject: "ann", Email: "ann@example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := idp.Issue(testidp.Grant{User: testidp.User{Subject: "ann", Email: "ann@example.test"}, AccessTTL: -time.Second})
	if err != nil {
		t.Fatal(err)
	}
	xoauth2 := func(tok string) string {
		return base64.StdEncoding.EncodeToString([]byte("user=ann@example.test\x01auth=Bearer " + tok + "\x01\x01"))
	}
	imap := func(cmds ...string) []string {
		c, err := tls.Dial("tcp", d.IMAPS, d.TLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		tp := textproto.NewConn(c)
		tp.ReadLine()
		var out []string
		for _, cmd := range cmds {
			tp.PrintfLine("%s", cmd)
			l, err := tp.ReadLine()
			if err != nil {
				t.Fatal(err)
			}
			for strings.HasPrefix(l, "* ") {
				l, _ = tp.ReadLine()
			}
			out = append(out, l)
		}
		return out
	}
	if got := imap("a AUTHENTICATE XOAUTH2 " + xoauth2(good.AccessToken)); !strings.HasPrefix(got[0], "a OK") {
		t.Fatalf("good token: %q", got)
	}
	for _, answer := range []string{"", "AQ=="} {
		got := imap("a AUTHENTICATE XOAUTH2 "+xoauth2(dead.AccessToken), answer)
		t.Logf("answer %q: %q", answer, got)
		ch, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(got[0], "+ "))
		if !strings.HasPrefix(got[0], "+ ") || !strings.Contains(string(ch), "status") || !strings.HasPrefix(got[1], "a NO") {
			t.Fatalf("dead token, answer %q: %q (%s)", answer, got, ch)
		}
	}
	if got := imap("a LOGIN ann@example.test secret"); !strings.HasPrefix(got[0], "a OK") {
		t.Fatalf("password: %q", got)
	}
}
