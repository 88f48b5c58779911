package pop3

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// peer is a real POP3 server a test downloads from: our own server
// in-process, or a private Dovecot.
type peer struct {
	name string
	// cfg logs in over implicit TLS; plain is the address of the plain
	// port (STLS offered, plain-text login allowed).
	cfg   Config
	plain string
	// add delivers a message into the user's INBOX on the server;
	// remove deletes the n-th oldest one there (0-based), as another
	// client would.
	add    func(t testing.TB, raw []byte)
	remove func(t testing.TB, n int)
	// digests are those of the messages on the server, sorted.
	digests func(t testing.TB) []string
	// stop and restart take the server off the network and back (nil
	// when the peer cannot).
	stop, restart func(t testing.TB)
}

// forPeers runs fn against our server and against Dovecot.
func forPeers(t *testing.T, fn func(t *testing.T, p *peer)) {
	// Named subtests: the store cannot yet open a path with "#" in it,
	// which Go gives unnamed ones ("#00").
	peers := []struct {
		name string
		mk   func(testing.TB) *peer
	}{{"letterbox", letterboxPeer}, {"dovecot", dovecotPeer}}
	for _, pr := range peers {
		t.Run(pr.name, func(t *testing.T) { fn(t, pr.mk(t)) })
	}
}

// letterboxPeer starts `letterbox serve` in-process with POP3 listeners
// only, user bob@example.test.
func letterboxPeer(t testing.TB) *peer {
	t.Helper()
	lo, off := "127.0.0.1:0", "-"
	cfg := &server.Config{Dev: true, Hostname: "mx.example.test", Domains: []string{"example.test"}, Data: t.TempDir(),
		Listen: server.Listen{POP3: lo, POP3S: lo, SMTP: off, Submission: off, SMTPS: off, IMAP: off, IMAPS: off}}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	const user = "bob@example.test"
	if err := s.Backend.Users.Add(user, "pw"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	pem, err := os.ReadFile(s.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	st, err := s.Backend.Store(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	return &peer{
		name:  "letterbox",
		cfg:   Config{Addr: s.Addr("pop3s").String(), Security: SecurityTLS, TLS: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}, Login: user, Password: "pw"},
		plain: s.Addr("pop3").String(),
		add: func(t testing.TB, raw []byte) {
			if _, err := st.Append(ctx, store.Inbox, bytes.NewReader(raw), store.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		},
		remove: func(t testing.TB, n int) {
			uids, err := st.UIDs(ctx, store.Inbox)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Remove(ctx, store.Inbox, uids[n:n+1]); err != nil {
				t.Fatal(err)
			}
		},
		digests: func(t testing.TB) []string { return localDigests(t, st) },
	}
}

// dovecotPeer starts a private Dovecot with user ann@example.test (or
// skips, see testpeer).
func dovecotPeer(t testing.TB) *peer {
	t.Helper()
	const user = "ann@example.test"
	d := testpeer.StartDovecot(t, map[string]string{user: "pw"})
	dir := d.MailDir(user)
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d.Chown(t, dir)
	seq := 0
	files := func(t testing.TB) []string {
		var out []string
		for _, sub := range []string{"cur", "new"} {
			names, err := filepath.Glob(filepath.Join(dir, sub, "*"))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, names...)
		}
		// Oldest first: names start with the delivery time.
		slices.SortFunc(out, func(a, b string) int { return strings.Compare(filepath.Base(a), filepath.Base(b)) })
		return out
	}
	return &peer{
		name:  "dovecot",
		cfg:   Config{Addr: d.POP3S, Security: SecurityTLS, TLS: d.TLSConfig(), Login: user, Password: "pw"},
		plain: d.POP3,
		add: func(t testing.TB, raw []byte) {
			seq++
			name := fmt.Sprintf("%d.M%06dP%d.letterbox-test", time.Now().Unix(), seq, os.Getpid())
			p := filepath.Join(dir, "new", name)
			if err := os.WriteFile(filepath.Join(dir, "tmp", name), raw, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(dir, "tmp", name), p); err != nil {
				t.Fatal(err)
			}
			d.Chown(t, p)
		},
		remove: func(t testing.TB, n int) {
			if err := os.Remove(files(t)[n]); err != nil {
				t.Fatal(err)
			}
		},
		digests: func(t testing.TB) []string {
			var raw [][]byte
			for _, f := range files(t) {
				b, err := os.ReadFile(f)
				if err != nil && !os.IsNotExist(err) { // Dovecot may be expunging
					t.Fatal(err)
				}
				if err == nil {
					raw = append(raw, b)
				}
			}
			return digestsOf(raw)
		},
		stop:    func(testing.TB) { d.Stop() },
		restart: d.Restart,
	}
}

// testCorpus returns n generated messages plus the awkward ones: a line
// longer than 64 KiB, dot lines, bare LF line ends, no final line end.
// tag makes the awkward ones distinct between calls.
func testCorpus(seed int64, n int, tag string) [][]byte {
	g := mailgen.New(mailgen.Options{Seed: seed, Count: n})
	var out [][]byte
	for {
		m, ok := g.Next()
		if !ok {
			break
		}
		out = append(out, m.Raw)
	}
	hdr := func(id, subject, eol string) string {
		return "Message-ID: <" + id + "." + tag + "@test>" + eol + "Subject: " + subject + " " + tag + eol + eol
	}
	return append(out,
		[]byte(hdr("long", "one long line", "\r\n")+strings.Repeat("0123456789", 10<<10)+"\r\n"),
		[]byte(hdr("dots", "dot lines", "\r\n")+".\r\n..\r\n.x\r\n...\r\nend\r\n"),
		[]byte(hdr("lf", "bare LF", "\n")+"one\n.\ntwo\n"),
		[]byte(hdr("nonl", "no final line end", "\r\n")+"last line"),
	)
}

// fill delivers msgs to p and returns their digests, sorted.
func fill(t testing.TB, p *peer, msgs [][]byte) []string {
	t.Helper()
	for _, m := range msgs {
		p.add(t, m)
	}
	return digestsOf(msgs)
}
