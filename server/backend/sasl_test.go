package backend

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseOAuthBearer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want OAuthCredentials
		err  string
	}{
		// RFC 7628 section 4.1's example.
		{"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01",
			OAuthCredentials{Authzid: "user@example.com", Host: "server.example.com", Port: 143, Token: "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="}, ""},
		{"n,,\x01auth=bearer abc.def-ghi_~+/\x01\x01", OAuthCredentials{Token: "abc.def-ghi_~+/"}, ""},
		{"y,,\x01auth=BEARER  tok\x01mfa=otp 123\x01\x01", OAuthCredentials{Token: "tok"}, ""},
		{"n,a=a=2Cb=3Dc,\x01auth=Bearer t\x01\x01", OAuthCredentials{Authzid: "a,b=c", Token: "t"}, ""},
		{"\x01", OAuthCredentials{}, "no gs2 header"},
		{"", OAuthCredentials{}, "no gs2 header"},
		{"p=tls-unique,,\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "channel binding"},
		{"x,,\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "gs2-cb-flag"},
		{"n,b=u,\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "gs2-authzid"},
		{"n,a=u=2,\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "escape"},
		{"n,a=u=", OAuthCredentials{}, "gs2 header not ended"},
		{"n,a=u\x00,\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "control character"},
		{"n,a=u=,\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "escape"},
		{"n,,auth=Bearer t\x01\x01", OAuthCredentials{}, "no kvsep"},
		{"n,,\x01auth=Bearer t\x01", OAuthCredentials{}, "not ended"},
		{"n,,\x01auth=Bearer t", OAuthCredentials{}, "not ended"},
		{"n,,\x01\x01", OAuthCredentials{}, "no auth"},
		{"n,,\x01host=h\x01\x01", OAuthCredentials{}, "no auth"},
		{"n,,\x01auth=Basic dXNlcjpwdw==\x01\x01", OAuthCredentials{}, "not a Bearer"},
		{"n,,\x01auth=Bearer \x01\x01", OAuthCredentials{}, "empty token"},
		{"n,,\x01auth=Bearer ===\x01\x01", OAuthCredentials{}, "empty token"},
		{"n,,\x01auth=Bearer a b\x01\x01", OAuthCredentials{}, "bad character"},
		{"n,,\x01auth=Bearer t\x01auth=Bearer u\x01\x01", OAuthCredentials{}, "two auth"},
		{"n,,\x01au th=x\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "not alphabetic"},
		{"n,,\x01=x\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "without key"},
		{"n,,\x01port=99999\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "bad port"},
		{"n,,\x01host=\x00\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "bad character in a value"},
		{"n,,\x01auth=Bearer " + strings.Repeat("a", maxSASLMessage) + "\x01\x01", OAuthCredentials{}, "too long"},
	} {
		got, err := ParseOAuthBearer([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error about %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseXOAuth2(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want OAuthCredentials
		err  string
	}{
		// Google's example (the token shortened).
		{"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01",
			OAuthCredentials{Authzid: "someuser@example.com", Token: "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"}, ""},
		{"user=u\x01auth=bearer t\x01\x01", OAuthCredentials{Authzid: "u", Token: "t"}, ""},
		{"user=\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "no user"},
		{"auth=Bearer t\x01\x01", OAuthCredentials{}, "no user"},
		{"user=a b\x01auth=Bearer t\x01\x01", OAuthCredentials{}, "bad character"},
		{"user=u\x01auth=Bearer t\x01", OAuthCredentials{}, "not ended"},
		{"user=u\x01\x01", OAuthCredentials{}, "no auth"},
		{"user=u\x01auth=Bearer t", OAuthCredentials{}, "not ended"},
		{"", OAuthCredentials{}, "no user"},
		{"\x01", OAuthCredentials{}, "no user"},
	} {
		got, err := ParseXOAuth2([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error about %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.in, got, err, tc.want)
		}
	}
}

// encodeBearer writes c as an OAUTHBEARER message.
func encodeBearer(c OAuthCredentials) []byte {
	a := ""
	if c.Authzid != "" {
		a = "a=" + strings.NewReplacer("=", "=3D", ",", "=2C").Replace(c.Authzid)
	}
	s := "n," + a + ","
	if c.Host != "" {
		s += "\x01host=" + c.Host
	}
	if c.Port != 0 {
		s += "\x01port=" + strconv.Itoa(c.Port)
	}
	return []byte(s + "\x01auth=Bearer " + c.Token + "\x01\x01")
}

// checkCreds is what every parsed message must satisfy: a token of
// b64token characters, and an encoding that parses back the same.
func checkCreds(t *testing.T, c OAuthCredentials) {
	if _, err := bearer("Bearer " + c.Token); err != nil {
		t.Fatalf("parsed token %q is not a b64token: %v", c.Token, err)
	}
	if strings.ContainsAny(c.Host, "\x01") || c.Port < 0 || c.Port > 65535 {
		t.Fatalf("parsed %+v", c)
	}
}

var saslSeeds = []string{
	"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01",
	"n,,\x01auth=Bearer t\x01\x01",
	"y,a=a=2Cb,\x01x=y\x01auth=bearer t\x01\x01",
	"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01",
	"\x01", "", "n,,\x01\x01", "p=x,,\x01auth=Bearer t\x01\x01",
}

func FuzzParseOAuthBearer(f *testing.F) {
	for _, s := range saslSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		c, err := ParseOAuthBearer(msg)
		if err != nil {
			return
		}
		checkCreds(t, c)
		c.Host = "" // hosts may hold what the test encoder does not re-escape
		again, err := ParseOAuthBearer(encodeBearer(c))
		if err != nil || again != c {
			t.Fatalf("%+v encoded parses as %+v, %v", c, again, err)
		}
	})
}

func FuzzParseXOAuth2(f *testing.F) {
	for _, s := range saslSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		c, err := ParseXOAuth2(msg)
		if err != nil {
			return
		}
		checkCreds(t, c)
		if c.Authzid == "" {
			t.Fatal("XOAUTH2 parsed without a user")
		}
		again, err := ParseXOAuth2([]byte("user=" + c.Authzid + "\x01auth=Bearer " + c.Token + "\x01\x01"))
		if err != nil || again.Authzid != c.Authzid || again.Token != c.Token {
			t.Fatalf("%+v encoded parses as %+v, %v", c, again, err)
		}
	})
}
