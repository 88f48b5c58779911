package server

import (
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// TestInboundThroughMX: SPF, DKIM and DMARC on the MX port of a running
// server, with [inbound] from its configuration: mail whose From domain
// publishes p=reject and that nothing authenticates gets 550 5.7.1 when
// dmarc_reject is on and is only marked when it is off; aligned mail is
// delivered with an Authentication-Results field saying so.
func TestInboundThroughMX(t *testing.T) {
	dns := &testpeer.DNS{Zones: map[string]testpeer.Zone{
		"good.test.":        {TXT: []string{"v=spf1 ip4:127.0.0.1 -all"}},
		"_dmarc.good.test.": {TXT: []string{"v=DMARC1; p=reject"}},
		"bank.test.":        {TXT: []string{"v=spf1 ip4:192.0.2.1 -all"}},
		"_dmarc.bank.test.": {TXT: []string{"v=DMARC1; p=reject"}},
	}}
	for _, reject := range []bool{true, false} {
		t.Run(fmt.Sprintf("dmarc_reject=%v", reject), func(t *testing.T) {
			s := testServer(t, "a.test", []string{"bob@a.test"}, func(s *Server) {
				s.cfg.Inbound.DMARCReject = reject
				s.InboundResolver, s.InboundLoopback = dns, true
			})
			mx := s.Addr("smtp").String()
			err := sendMX(mx, "ceo@bank.test", "From: CEO <ceo@bank.test>\r\nSubject: wire money\r\n\r\nnow\r\n")
			var te *textproto.Error
			if reject {
				if !errors.As(err, &te) || te.Code != 550 || !strings.HasPrefix(te.Msg, "5.7.1") {
					t.Fatalf("spoofed p=reject mail: %v, want 550 5.7.1", err)
				}
			} else if err != nil {
				t.Fatalf("spoofed mail with dmarc_reject off: %v", err)
			}
			if err := sendMX(mx, "news@good.test", "From: News <news@good.test>\r\nSubject: hello\r\n\r\nhi\r\n"); err != nil {
				t.Fatal(err)
			}
			got := inbox(t, s, "bob@a.test")
			want := map[string][]string{
				"hello":      {"spf=pass smtp.mailfrom=news@good.test", "dmarc=pass header.from=good.test"},
				"wire money": {"spf=fail smtp.mailfrom=ceo@bank.test", `dmarc=fail reason="p=reject" header.from=bank.test`},
			}
			if n := len(want) - map[bool]int{true: 1}[reject]; len(got) != n {
				t.Fatalf("bob has %d messages, want %d", len(got), n)
			}
			for _, m := range got {
				h, _, _ := strings.Cut(m, "\r\n\r\n")
				h = strings.ReplaceAll(h, "\r\n\t", " ")
				subj := h[strings.Index(h, "Subject: ")+len("Subject: "):]
				subj, _, _ = strings.Cut(subj, "\r\n")
				if !strings.Contains(h, "Authentication-Results: mx.a.test;") {
					t.Errorf("%q has no Authentication-Results:\n%s", subj, h)
				}
				for _, w := range want[subj] {
					if !strings.Contains(h, w) {
						t.Errorf("%q: header lacks %q:\n%s", subj, w, h)
					}
				}
			}
		})
	}
}

// sendMX sends one message to bob@a.test over the MX port, in clear.
func sendMX(addr, from, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt("bob@a.test"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
