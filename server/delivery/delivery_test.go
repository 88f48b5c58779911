package delivery

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/server/queue"
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

// TestSecondStoreFailsNothingAnywhere: bob's copy is prepared, carol's
// store fails: neither store nor the queue keeps anything, and bob's
// store announces nothing.
func TestSecondStoreFailsNothingAnywhere(t *testing.T) {
	d := newTestDeliverer(t, Inbound{Off: true})
	qd, err := queue.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d.q = qd
	ctx := context.Background()
	bob, err := d.be.Store(ctx, "bob@a.test")
	if err != nil {
		t.Fatal(err)
	}
	sub := bob.Subscribe()
	defer sub.Close()
	carol, err := d.be.Store(ctx, "carol@a.test")
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(carol.Root(), "mail", "INBOX", "tmp")
	os.RemoveAll(tmp)
	os.WriteFile(tmp, nil, 0o600) // no file can be made in carol's INBOX
	env := smtpd.Envelope{From: "alice@a.test", User: "alice@a.test", To: []string{"dave@b.test", "bob@a.test", "carol@a.test"},
		Remote: &net.TCPAddr{IP: net.ParseIP("192.0.2.1")}, Helo: "h", ID: "T4"}
	if err := d.Deliver(ctx, env, strings.NewReader("Subject: x\r\n\r\nbody\r\n")); err == nil {
		t.Fatal("delivery with a failing store succeeded")
	}
	if got := stored(t, d, "bob@a.test"); len(got) != 0 {
		t.Errorf("bob has %d messages", len(got))
	}
	if items, _ := qd.List(); len(items) != 0 {
		t.Errorf("queue has %d items", len(items))
	}
	for _, dir := range []string{filepath.Join(bob.Root(), "mail", "INBOX", "tmp"), filepath.Join(bob.Root(), "mail", "INBOX", "cur")} {
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s keeps %d files", dir, len(ents))
		}
	}
	select {
	case <-sub.C:
		t.Errorf("bob's store announced %+v", sub.Pull())
	default:
	}
	os.Remove(tmp)
	os.Mkdir(tmp, 0o700)
}
