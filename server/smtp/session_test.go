package smtpd

import (
	"strings"
	"testing"
)

// TestLongLines: a DATA line far over RFC 5321's 1,000 octets is accepted
// and passed on unchanged (Postfix accepts such mail and senders send
// it); only the size limit refuses a message, and a line that alone
// passes it gets the size reply, not "line too long".
func TestLongLines(t *testing.T) {
	dl, dial := start(t, Options{Mode: ModeMX, MaxMessageBytes: 64 << 10})
	c := dial()
	c.cmd("EHLO client.test", "250 ")
	long := strings.Repeat("0123456789", 5000) // 50,000 octets, one line
	c.cmd("MAIL FROM:<x@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<bob@a.test>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: long\r\n\r\n" + long + "\r\nend\r\n.")
	c.expect("250 ")
	if len(dl.data) != 1 || dl.data[0] != "Subject: long\r\n\r\n"+long+"\r\nend\r\n" {
		t.Fatalf("long line not passed on unchanged (%d messages)", len(dl.data))
	}
	c.cmd("MAIL FROM:<x@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<bob@a.test>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: too long\r\n\r\n" + strings.Repeat(long, 2) + "\r\n.")
	c.expect("552 ")
	c.cmd("NOOP", "250 ") // the session goes on
}

// TestSMTPUTF8: SMTPUTF8 is advertised; a non-ASCII address is refused
// without it (RFC 6531 section 3.3) and accepted with it, and the
// envelope says so.
func TestSMTPUTF8(t *testing.T) {
	dl, dial := start(t, Options{Mode: ModeMX})
	c := dial()
	c.send("EHLO client.test")
	ehlo := ""
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		ehlo += line
		if line[3] == ' ' {
			break
		}
	}
	if !strings.Contains(ehlo, "SMTPUTF8") {
		t.Errorf("EHLO does not advertise SMTPUTF8:\n%s", ehlo)
	}
	c.cmd("MAIL FROM:<jörg@bücher.test>", "553 5.6.7")
	c.cmd("MAIL FROM:<x\xff@bücher.test> SMTPUTF8", "553 ") // not UTF-8 at all
	c.cmd("MAIL FROM:<ascii@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<bøb@a.test>", "553 5.6.7")
	c.cmd("RSET", "250 ")
	c.cmd("MAIL FROM:<jörg@bücher.test> SMTPUTF8", "250 ")
	c.cmd("RCPT TO:<bob@a.test>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: grüße\r\n\r\nhallo\r\n.")
	c.expect("250 ")
	if len(dl.envs) != 1 || dl.envs[0].From != "jörg@bücher.test" || !dl.envs[0].UTF8 {
		t.Fatalf("envelopes = %+v", dl.envs)
	}
	c.cmd("MAIL FROM:<ascii@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<bob@a.test>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: plain\r\n\r\nx\r\n.")
	c.expect("250 ")
	if len(dl.envs) != 2 || dl.envs[1].UTF8 {
		t.Fatalf("SMTPUTF8 outlived its transaction: %+v", dl.envs)
	}
}

// TestParamsNeedEHLO: after HELO no service extension was announced, so
// a MAIL or RCPT parameter (SMTPUTF8, SIZE, BODY, NOTIFY) is refused with
// 555 (RFC 5321 sections 3.3 and 4.1.1.11), the session goes on, and the
// same parameters are accepted after a later EHLO.
func TestParamsNeedEHLO(t *testing.T) {
	_, dial := start(t, Options{Mode: ModeMX})
	c := dial()
	c.cmd("HELO client.test", "250 ")
	for _, cmd := range []string{
		"MAIL FROM:<jörg@bücher.test> SMTPUTF8",
		"MAIL FROM:<ann@elsewhere.test> SIZE=100",
		"MAIL FROM:<ann@elsewhere.test> BODY=8BITMIME",
	} {
		c.cmd(cmd, "555 5.5.4")
	}
	c.cmd("MAIL FROM:<ann@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<bob@a.test> NOTIFY=NEVER", "555 5.5.4")
	c.cmd("RCPT TO:<bob@a.test>", "250 ")
	c.cmd("RSET", "250 ")
	c.send("EHLO client.test")
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line[3] == ' ' {
			break
		}
	}
	c.cmd("MAIL FROM:<ann@elsewhere.test> SIZE=100 BODY=8BITMIME", "250 ")
}
