package delivery

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	smtpd "github.com/letterbox-mail/letterbox/server/smtp"
)

// TestLargeMessageSpooled: a message past the in-memory spool goes
// through a temporary file, reaches every recipient whole with its own
// trace fields, and leaves no file behind.
func TestLargeMessageSpooled(t *testing.T) {
	d := newTestDeliverer(t, Inbound{Off: true})
	d.opts.SpoolDir = t.TempDir()
	body := "From: x@other.test\r\nSubject: big\r\n\r\n" + strings.Repeat(strings.Repeat("z", 998)+"\r\n", 3<<10)
	env := smtpd.Envelope{From: "x@other.test", To: []string{"bob@a.test", "carol@a.test"},
		Remote: &net.TCPAddr{IP: net.ParseIP("192.0.2.1")}, Helo: "h", ID: "T3"}
	if err := d.Deliver(context.Background(), env, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bob@a.test", "carol@a.test"} {
		got := stored(t, d, u)
		if len(got) != 1 || !strings.HasSuffix(got[0], body) {
			t.Fatalf("%s: %d messages, or the body changed", u, len(got))
		}
		if head := strings.TrimSuffix(got[0], body); !strings.Contains(head, "for <"+u+">") || strings.Count(head, "for <") != 1 {
			t.Errorf("%s's trace fields: %q", u, head)
		}
	}
	if ents, _ := os.ReadDir(d.opts.SpoolDir); len(ents) != 0 {
		t.Errorf("spool directory keeps %d files", len(ents))
	}
}
