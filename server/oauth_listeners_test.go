package server

import (
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testidp"
)

// TestOAuthPasswordOff: with password logins off on the implicit-TLS
// listeners, LOGIN, USER/PASS and AUTH PLAIN/LOGIN get a clear refusal
// there and are not offered, OAuth2 works there, and passwords still work
// on the STARTTLS listeners.
func TestOAuthPasswordOff(t *testing.T) {
	e := newOAuthEnv(t, "jwks", func(c *Config) { c.Auth.PasswordOff = []string{"imaps", "pop3s", "smtps"} })
	plain := b64([]byte("\x00alice@a.test\x00alice-pw"))

	t.Run("imaps", func(t *testing.T) {
		c := e.dial(t, "imaps")
		c.line()
		c.send("a CAPABILITY")
		caps := strings.Join(c.until("a "), "\n")
		if strings.Contains(caps, "AUTH=PLAIN") || !strings.Contains(caps, "AUTH=OAUTHBEARER") || !strings.Contains(caps, "AUTH=XOAUTH2") {
			t.Fatalf("capabilities:\n%s", caps)
		}
		for _, cmd := range []string{"b LOGIN alice@a.test alice-pw", "c AUTHENTICATE PLAIN " + plain} {
			c.send(cmd)
			if l := c.last(cmd[:2]); !strings.HasPrefix(l, cmd[:2]+"NO [CANNOT] Password login is disabled") {
				t.Fatalf("%s: %s", cmd, l)
			}
		}
		if l := imapProto.auth(c, "XOAUTH2", xoauth2Msg("alice@a.test", e.token(t, testidp.Grant{}))); !strings.Contains(l, "OK") {
			t.Fatalf("XOAUTH2: %s", l)
		}
	})
	t.Run("pop3s", func(t *testing.T) {
		c := e.dial(t, "pop3s")
		c.line()
		c.send("CAPA")
		capa := strings.Join(c.until("."), "\n")
		if strings.Contains(capa, "USER") || !strings.Contains(capa, "SASL OAUTHBEARER XOAUTH2") {
			t.Fatalf("CAPA:\n%s", capa)
		}
		for _, cmd := range []string{"USER alice@a.test", "AUTH PLAIN " + plain} {
			c.send(cmd)
			if l := c.line(); !strings.HasPrefix(l, "-ERR Password login is disabled") {
				t.Fatalf("%s: %s", cmd, l)
			}
		}
		if l := pop3Proto.auth(c, "OAUTHBEARER", bearerMsg("", e.token(t, testidp.Grant{}))); !strings.HasPrefix(l, "+OK") {
			t.Fatalf("OAUTHBEARER: %s", l)
		}
		pop3Proto.quit(c)
	})
	t.Run("smtps", func(t *testing.T) {
		c := e.dial(t, "smtps")
		c.line()
		c.send("EHLO client.test")
		ehlo := strings.Join(c.until("250 "), "\n")
		if strings.Contains(ehlo, "PLAIN") || !strings.Contains(ehlo, "AUTH OAUTHBEARER XOAUTH2") {
			t.Fatalf("EHLO:\n%s", ehlo)
		}
		for _, cmd := range []string{"AUTH PLAIN " + plain, "AUTH LOGIN"} {
			c.send(cmd)
			if l := c.line(); !strings.HasPrefix(l, "504 5.5.4 Password login is disabled") {
				t.Fatalf("%s: %s", cmd, l)
			}
		}
		if l := smtpProto.auth(c, "XOAUTH2", xoauth2Msg("alice@a.test", e.token(t, testidp.Grant{}))); !strings.HasPrefix(l, "235") {
			t.Fatalf("XOAUTH2: %s", l)
		}
	})
	// The STARTTLS listeners keep password logins.
	t.Run("imap STARTTLS", func(t *testing.T) {
		c := e.dial(t, "imap")
		c.line()
		c.send("a STARTTLS")
		c.last("a ")
		c.startTLS(e.tls)
		c.send("b LOGIN alice@a.test alice-pw")
		if l := c.last("b "); !strings.HasPrefix(l, "b OK") {
			t.Fatalf("LOGIN: %s", l)
		}
	})
	t.Run("pop3 STLS", func(t *testing.T) {
		c := e.dial(t, "pop3")
		c.line()
		c.send("STLS")
		c.line()
		c.startTLS(e.tls)
		c.send("AUTH PLAIN " + plain)
		if l := c.line(); !strings.HasPrefix(l, "+OK") {
			t.Fatalf("AUTH PLAIN: %s", l)
		}
		pop3Proto.quit(c)
	})
	t.Run("submission STARTTLS", func(t *testing.T) {
		c := e.dial(t, "submission")
		c.line()
		c.send("EHLO client.test")
		c.until("250 ")
		c.send("STARTTLS")
		c.line()
		c.startTLS(e.tls)
		c.send("EHLO client.test")
		c.until("250 ")
		c.send("AUTH PLAIN " + plain)
		if l := c.line(); !strings.HasPrefix(l, "235") {
			t.Fatalf("AUTH PLAIN: %s", l)
		}
	})
}

// TestOAuthNeedsTLS: like passwords, tokens are refused before TLS.
func TestOAuthNeedsTLS(t *testing.T) {
	e := newOAuthEnv(t, "jwks", nil)
	msg := b64(bearerMsg("", e.token(t, testidp.Grant{})))
	c := e.dial(t, "imap")
	c.line()
	c.send("a AUTHENTICATE OAUTHBEARER " + msg)
	if l := c.last("a "); !strings.HasPrefix(l, "a NO [PRIVACYREQUIRED]") {
		t.Errorf("IMAP before STARTTLS: %s", l)
	}
	c = e.dial(t, "pop3")
	c.line()
	c.send("AUTH OAUTHBEARER " + msg)
	if l := c.line(); !strings.HasPrefix(l, "-ERR [AUTH] Plaintext authentication disallowed") {
		t.Errorf("POP3 before STLS: %s", l)
	}
	c = e.dial(t, "submission")
	c.line()
	c.send("EHLO client.test")
	if ehlo := strings.Join(c.until("250 "), "\n"); strings.Contains(ehlo, "AUTH") {
		t.Errorf("submission offers AUTH before STARTTLS:\n%s", ehlo)
	}
	c.send("AUTH OAUTHBEARER " + msg)
	if l := c.line(); !strings.HasPrefix(l, "523 5.7.10") {
		t.Errorf("submission before STARTTLS: %s", l)
	}
}

// TestOAuthLockout: refused tokens count as failed logins: after
// max_auth_failures of them for alice from one address, even a good token
// (or password) for alice is refused as a temporary failure there.
func TestOAuthLockout(t *testing.T) {
	e := newOAuthEnv(t, "jwks", func(c *Config) { c.Limits.MaxAuthFailures = 2 })
	for range 2 {
		c := e.dial(t, "imaps")
		c.line()
		imapProto.auth(c, "XOAUTH2", xoauth2Msg("alice@a.test", e.token(t, testidp.Grant{AccessTTL: -time.Second})))
		if l := imapProto.dummy(c); !strings.Contains(l, "NO [AUTHENTICATIONFAILED]") {
			t.Fatalf("expired token: %s", l)
		}
	}
	for _, tc := range []struct {
		p    proto
		want string
	}{{imapProto, "NO [UNAVAILABLE]"}, {pop3Proto, "-ERR [SYS/TEMP]"}, {smtpProto, "454 4.7.0"}} {
		c := e.dial(t, tc.p.name)
		tc.p.greet(c)
		if l := tc.p.auth(c, "OAUTHBEARER", bearerMsg("", e.token(t, testidp.Grant{}))); !strings.Contains(l, tc.want) {
			t.Errorf("%s, good token after the lockout: %q, want %q", tc.p.name, l, tc.want)
		}
	}
	e.noTokenLogged(t)
}

// TestOAuthIssuerDown: a token that cannot be checked is a temporary
// failure, not a wrong token: no challenge, and the client keeps it.
func TestOAuthIssuerDown(t *testing.T) {
	e := newOAuthEnv(t, "introspection", nil)
	e.idp.SetFault(testidp.FaultDown, true)
	for _, tc := range []struct {
		p    proto
		want string
	}{{imapProto, "NO [UNAVAILABLE]"}, {pop3Proto, "-ERR [SYS/TEMP]"}, {smtpProto, "454 4.7.0"}} {
		c := e.dial(t, tc.p.name)
		tc.p.greet(c)
		if l := tc.p.auth(c, "XOAUTH2", xoauth2Msg("alice@a.test", e.token(t, testidp.Grant{}))); !strings.Contains(l, tc.want) {
			t.Errorf("%s, issuer down: %q, want %q", tc.p.name, l, tc.want)
		}
	}
	e.noTokenLogged(t)
}

func TestOAuthConfig(t *testing.T) {
	no := false
	for _, tc := range []struct {
		name string
		set  func(c *Config)
		want string
	}{
		{"passwords off without oauth2", func(c *Config) { c.Auth.Password = &no }, "nobody can log in"},
		{"password_off without oauth2", func(c *Config) { c.Auth.PasswordOff = []string{"imaps"} }, "nobody can log in"},
		{"password_off on the MX", func(c *Config) {
			c.OAuth2 = OAuth2Config{Issuer: "https://idp.test", Audience: "x"}
			c.Auth.PasswordOff = []string{"smtp"}
		}, "not a listener with logins"},
		{"jwks without audience", func(c *Config) { c.OAuth2 = OAuth2Config{Issuer: "https://idp.test"} }, "issuer and audience"},
		{"introspection without credentials", func(c *Config) {
			c.OAuth2 = OAuth2Config{IntrospectionURL: "https://idp.test/introspect"}
		}, "client_id"},
		{"unknown mode", func(c *Config) { c.OAuth2 = OAuth2Config{Issuer: "https://idp.test", Mode: "magic"} }, "not jwks or introspection"},
		{"good", func(c *Config) {
			c.OAuth2 = OAuth2Config{Issuer: "https://idp.test", Audience: "mail"}
			c.Auth.Password = &no
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{Dev: true, Data: t.TempDir()}
			tc.set(c)
			err := c.Finish()
			if tc.want == "" {
				if err != nil || c.PasswordAllowed("imaps") || c.OAuth2.Mode != "jwks" {
					t.Fatalf("%v %+v", err, c.OAuth2)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want an error about %q", err, tc.want)
			}
		})
	}
}

// TestOAuthIntrospectionNoAudience: introspection without an audience
// takes a token the issuer gave any of its clients; the server says so
// when it starts, and not when an audience is set.
func TestOAuthIntrospectionNoAudience(t *testing.T) {
	const warning = "oauth2: introspection without an audience"
	e := newOAuthEnv(t, "introspection", func(c *Config) { c.OAuth2.Audience = "" })
	if !strings.Contains(e.logs.String(), warning) {
		t.Fatalf("no warning in the log:\n%s", e.logs.String())
	}
	e = newOAuthEnv(t, "introspection", nil)
	if strings.Contains(e.logs.String(), warning) {
		t.Fatalf("a warning with an audience set:\n%s", e.logs.String())
	}
}
