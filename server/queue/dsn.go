package queue

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

var enhancedCode = regexp.MustCompile(`\b([245]\.\d{1,3}\.\d{1,3})\b`)

// bounce tells the sender which recipients failed, as a delivery status
// notification (RFC 3464, multipart/report of RFC 6522) carrying the
// original header. A bounce has the null sender, so it never bounces.
func (q *Queue) bounce(ctx context.Context, it *Item, failed []Rcpt) error {
	msg, err := q.dsn(it, failed)
	if err != nil {
		return err
	}
	if q.opts.IsLocal != nil && q.opts.LocalDeliver != nil && q.opts.IsLocal(it.From) {
		if err := q.opts.LocalDeliver(ctx, it.From, bytes.NewReader(msg)); err != nil {
			return fmt.Errorf("bounce to %s: %w", it.From, err)
		}
	} else if _, err := q.Enqueue(ctx, "", []string{it.From}, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("bounce to %s: %w", it.From, err)
	}
	q.log.Info("queue bounced", "id", it.ID, "to", it.From, "rcpts", len(failed))
	return nil
}

func (q *Queue) dsn(it *Item, failed []Rcpt) ([]byte, error) {
	header, err := originalHeader(q.MessagePath(it.ID))
	if err != nil {
		return nil, err
	}
	host := q.opts.Hostname
	boundary := "dsn-" + it.ID
	now := time.Now()
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\r\n", a...) }
	w("From: Mail Delivery System <MAILER-DAEMON@%s>", host)
	w("To: <%s>", it.From)
	w("Subject: Undelivered Mail Returned to Sender")
	w("Date: %s", now.Format(time.RFC1123Z))
	w("Message-ID: <%s.bounce@%s>", it.ID, host)
	w("Auto-Submitted: auto-replied")
	w("MIME-Version: 1.0")
	w("Content-Type: multipart/report; report-type=delivery-status; boundary=\"%s\"", boundary)
	w("")
	w("--%s", boundary)
	w("Content-Type: text/plain; charset=utf-8")
	w("")
	w("This is the mail system at %s.", host)
	w("")
	w("Your message could not be delivered to the following recipients:")
	w("")
	for _, r := range failed {
		w("  <%s>: %s", r.Addr, oneLine(r.Error))
	}
	w("")
	w("--%s", boundary)
	w("Content-Type: message/delivery-status")
	w("")
	w("Reporting-MTA: dns; %s", host)
	w("Arrival-Date: %s", it.Created.Format(time.RFC1123Z))
	for _, r := range failed {
		status := "5.0.0"
		if m := enhancedCode.FindString(r.Error); m != "" && m[0] == '5' {
			status = m
		} else if strings.HasPrefix(r.Error, "gave up") {
			status = "4.4.7" // delivery time expired (RFC 3463)
		}
		w("")
		w("Final-Recipient: rfc822; %s", r.Addr)
		w("Action: failed")
		w("Status: %s", status)
		w("Diagnostic-Code: smtp; %s", oneLine(r.Error))
	}
	w("")
	w("--%s", boundary)
	w("Content-Type: text/rfc822-headers")
	w("")
	b.Write(header)
	w("--%s--", boundary)
	return b.Bytes(), nil
}

// originalHeader returns the header of the queued message, CRLF-ended,
// capped at 64 KiB.
func originalHeader(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bounce: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var h bytes.Buffer
	for h.Len() < 64<<10 {
		line, err := br.ReadString('\n')
		trimmed := strings.TrimRight(line, "\r\n")
		if trimmed == "" {
			break
		}
		h.WriteString(trimmed + "\r\n")
		if err != nil {
			break
		}
	}
	return h.Bytes(), nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
