package delivery

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/server/backend"
	smtpd "github.com/letterbox-mail/letterbox/server/smtp"
)

// newTestDeliverer returns a Deliverer for the local domain a.test with
// the users bob and carol, no queue, and the given inbound options.
func newTestDeliverer(t *testing.T, in Inbound) *Deliverer {
	t.Helper()
	be, err := backend.New(t.TempDir(), backend.Options{Domains: []string{"a.test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	for _, u := range []string{"bob@a.test", "carol@a.test"} {
		if err := be.Users.Add(u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	return New(be, nil, Options{Hostname: "mx.a.test", Inbound: in})
}

// stored returns the raw messages in a user's INBOX.
func stored(t *testing.T, d *Deliverer, user string) []string {
	t.Helper()
	ctx := context.Background()
	s, err := d.be.Store(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Fetch(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		rc, err := s.OpenRaw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out = append(out, string(b))
	}
	return out
}

// header returns the header of a raw message.
func header(msg string) string {
	h, _, _ := strings.Cut(msg, "\r\n\r\n")
	return h
}

// senderZones is the DNS of sender.test: SPF allowing 192.0.2.10, a
// DKIM key, DMARC p=reject; and of other.test, with no records.
func senderZones(t *testing.T) (map[string]testpeer.Zone, *dkim.SignOptions) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]testpeer.Zone{
		"sender.test.":                {TXT: []string{"v=spf1 ip4:192.0.2.10 -all"}},
		"sel._domainkey.sender.test.": {TXT: []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}},
		"_dmarc.sender.test.":         {TXT: []string{"v=DMARC1; p=reject"}},
		"_dmarc.quarantine.test.":     {TXT: []string{"v=DMARC1; p=quarantine"}},
		"_dmarc.broken.test.":         {Err: &net.DNSError{Err: "server misbehaving", Name: "_dmarc.broken.test", IsTemporary: true}},
		"broken.test.":                {Err: &net.DNSError{Err: "server misbehaving", Name: "broken.test", IsTemporary: true}},
	}
	return zones, &dkim.SignOptions{Domain: "sender.test", Selector: "sel", Signer: priv}
}

func sign(t *testing.T, msg string, opts *dkim.SignOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := dkim.Sign(&b, strings.NewReader(msg), opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestInboundAuthentication(t *testing.T) {
	zones, signOpts := senderZones(t)
	remote := &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 40000}
	stranger := &net.TCPAddr{IP: net.ParseIP("198.51.100.7"), Port: 40000}
	msg := func(from string) string {
		return "From: Sender <" + from + ">\r\nTo: bob@a.test\r\nSubject: hi\r\nMessage-ID: <1@sender.test>\r\n\r\nhello\r\n"
	}
	tests := []struct {
		name        string
		reject      bool
		env         smtpd.Envelope
		body        string
		wantRefused bool
		want        []string // in the Authentication-Results field
	}{
		{"all pass", true, smtpd.Envelope{From: "news@sender.test", Remote: remote, Helo: "mail.sender.test"},
			sign(t, msg("news@sender.test"), signOpts), false,
			[]string{"Authentication-Results: mx.a.test;", "spf=pass smtp.mailfrom=news@sender.test", "dkim=pass header.d=sender.test", "dmarc=pass header.from=sender.test"}},
		{"DKIM alone aligns", true, smtpd.Envelope{From: "bounces@other.test", Remote: stranger, Helo: "x.other.test"},
			sign(t, msg("news@sender.test"), signOpts), false,
			[]string{"spf=none", "dkim=pass", "dmarc=pass"}},
		{"SPF alone aligns", true, smtpd.Envelope{From: "news@sender.test", Remote: remote, Helo: "mail.sender.test"},
			msg("news@sender.test"), false,
			[]string{"spf=pass", "dkim=none;", "dmarc=pass"}},
		{"spoofed, policy reject, rejecting", true, smtpd.Envelope{From: "x@other.test", Remote: stranger, Helo: "evil.test"},
			msg("ceo@sender.test"), true, nil},
		{"spoofed, policy reject, marking only", false, smtpd.Envelope{From: "x@other.test", Remote: stranger, Helo: "evil.test"},
			msg("ceo@sender.test"), false, []string{"spf=none", `dmarc=fail reason="p=reject" header.from=sender.test`}},
		{"SPF fail", true, smtpd.Envelope{From: "news@sender.test", Remote: stranger, Helo: "evil.test"},
			sign(t, msg("news@sender.test"), signOpts), false, []string{"spf=fail", "dkim=pass", "dmarc=pass"}},
		{"tampered signature", true, smtpd.Envelope{From: "x@other.test", Remote: stranger, Helo: "evil.test"},
			strings.Replace(sign(t, msg("news@sender.test"), signOpts), "hello", "HELLO", 1), true, nil},
		{"quarantine is only marked", true, smtpd.Envelope{From: "x@other.test", Remote: stranger, Helo: "evil.test"},
			msg("boss@quarantine.test"), false, []string{`dmarc=fail reason="p=quarantine"`}},
		{"DNS failure is not a rejection", true, smtpd.Envelope{From: "x@broken.test", Remote: stranger, Helo: "evil.test"},
			msg("boss@broken.test"), false, []string{"spf=temperror", "dmarc=temperror"}},
		{"null sender checks HELO", true, smtpd.Envelope{From: "", Remote: remote, Helo: "sender.test"},
			msg("mailer-daemon@sender.test"), false, []string{"spf=pass smtp.helo=sender.test", "dmarc=pass"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDeliverer(t, Inbound{DMARCReject: tt.reject, Resolver: &testpeer.DNS{Zones: zones}})
			env := tt.env
			env.To, env.ID = []string{"bob@a.test"}, "T1"
			err := d.Deliver(context.Background(), env, strings.NewReader(tt.body))
			var se *smtp.SMTPError
			if tt.wantRefused {
				if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) {
					t.Fatalf("Deliver = %v, want 550 5.7.1", err)
				}
				if got := stored(t, d, "bob@a.test"); len(got) != 0 {
					t.Fatalf("refused message stored")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := stored(t, d, "bob@a.test")
			if len(got) != 1 || !strings.HasSuffix(got[0], tt.body) {
				t.Fatalf("stored = %q", got)
			}
			h := strings.ReplaceAll(header(got[0]), "\r\n\t", " ")
			if strings.Count(h, "Authentication-Results:") != 1 {
				t.Fatalf("want one Authentication-Results field:\n%s", h)
			}
			for _, w := range tt.want {
				if !strings.Contains(h, w) {
					t.Errorf("header lacks %q:\n%s", w, h)
				}
			}
		})
	}
}

// TestForgedAuthResultsStripped: results claiming our authserv-id are
// removed from incoming mail (RFC 8601 section 5), others kept; mail from
// loopback (local injection) is not checked unless asked.
func TestForgedAuthResultsStripped(t *testing.T) {
	zones, _ := senderZones(t)
	d := newTestDeliverer(t, Inbound{Resolver: &testpeer.DNS{Zones: zones}})
	body := "Authentication-Results: mx.a.test;\r\n\tdkim=pass header.d=bank.test\r\n" +
		"Authentication-Results: (comment) MX.A.TEST 1; spf=pass\r\n" +
		"Authentication-Results: relay.other.test; spf=pass smtp.mailfrom=x@other.test\r\n" +
		"From: x@other.test\r\nSubject: s\r\n\r\nAuthentication-Results: mx.a.test; in the body stays\r\n"
	env := smtpd.Envelope{From: "x@other.test", To: []string{"bob@a.test"}, Remote: &net.TCPAddr{IP: net.IPv6loopback}, Helo: "h", ID: "T2"}
	if err := d.Deliver(context.Background(), env, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	got := stored(t, d, "bob@a.test")[0]
	want := "Authentication-Results: relay.other.test; spf=pass smtp.mailfrom=x@other.test\r\n" +
		"From: x@other.test\r\nSubject: s\r\n\r\nAuthentication-Results: mx.a.test; in the body stays\r\n"
	if !strings.HasSuffix(got, want) || strings.Count(got, "mx.a.test;") != 1 || strings.Contains(got, "MX.A.TEST") {
		t.Fatalf("stored:\n%s", got)
	}
	if strings.Contains(header(got), "Authentication-Results: mx.a.test") {
		t.Errorf("loopback mail was checked:\n%s", got)
	}
}

func TestAuthservID(t *testing.T) {
	for in, want := range map[string]string{
		"Authentication-Results: mx.a.test; spf=pass":          "mx.a.test",
		"Authentication-Results:\r\n\tmx.a.test;\r\n\tnone":    "mx.a.test",
		"Authentication-Results: (c (nested)) mx.a.test 1; x":  "mx.a.test",
		"Authentication-Results: mx.a.test":                    "mx.a.test",
		"Authentication-Results: ":                             "",
		"Authentication-Results: (unterminated mx.a.test; x=y": "",
	} {
		if got := authservIDOf([]byte(in)); got != want {
			t.Errorf("authservIDOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzStripAuthResults: the filter never fails, never grows a message,
// drops only header fields, and keeps every message without such fields
// byte for byte.
func FuzzStripAuthResults(f *testing.F) {
	for _, s := range []string{
		"Authentication-Results: mx.a.test; spf=pass\r\nFrom: a@b\r\n\r\nbody\r\n",
		"From: a@b\r\nAuthentication-Results: other; x\r\n\tcontinued\r\n\r\n",
		"no header at all\r\n",
		"A: " + strings.Repeat("x", 20000) + "\r\nAuthentication-Results: mx.a.test\r\n\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		if err := stripAuthResults(&out, bufio.NewReader(bytes.NewReader(in)), "mx.a.test"); err != nil {
			t.Fatal(err)
		}
		if out.Len() > len(in) {
			t.Fatalf("output longer than input")
		}
		if !bytes.Contains(bytes.ToLower(in), []byte("authentication-results")) && !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("message without Authentication-Results changed:\n%q\n%q", in, out.Bytes())
		}
	})
}
