package testpeer

import (
	"crypto/tls"
	"net/textproto"
	"strings"
	"testing"
)

// TestDovecotStarts checks the harness itself: Dovecot answers IMAPS with
// a certificate the returned roots trust, and a stop/restart keeps ports.
func TestDovecotStarts(t *testing.T) {
	d := StartDovecot(t, map[string]string{"ann@example.test": "secret"})
	login := func() {
		c, err := tls.Dial("tcp", d.IMAPS, d.TLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		tp := textproto.NewConn(c)
		greet, _ := tp.ReadLine()
		if !strings.HasPrefix(greet, "* OK") {
			t.Fatalf("greeting %q", greet)
		}
		tp.PrintfLine("a LOGIN ann@example.test secret")
		for {
			l, err := tp.ReadLine()
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(l, "a ") {
				if !strings.HasPrefix(l, "a OK") {
					t.Fatalf("login: %q", l)
				}
				return
			}
		}
	}
	login()
	d.Stop()
	d.Restart(t)
	login()
}
