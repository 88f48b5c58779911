package submit

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// TestHostileServer: an SMTP server whose greeting never ends (one
// endless line, or endless continuation lines) or whose reply to EHLO
// never ends fails the send with a clear Protocol error once 1 MiB came
// without the reply ending, and the client holds little meanwhile
// (issue 13 item 2: the greeting was read by net/textproto, which has
// no line bound; go-smtp bounds a line but not a multi-line reply).
func TestHostileServer(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *smtpScript)
	}{
		{"endless greeting line", func(s *smtpScript) { s.greet, s.flood[""] = "220 ", "x" }},
		{"endless greeting", func(s *smtpScript) { s.greet, s.flood[""] = "220-hello\r\n", "220-more\r\n" }},
		{"endless EHLO reply", func(s *smtpScript) { s.reply["EHLO"], s.flood["EHLO"] = "250-hello\r\n", "250-PIPELINING\r\n" }},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			s := newSMTPScript(t)
			tc.setup(s)
			s.start()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srv := Server{Host: "127.0.0.1", Port: s.ln.Addr().(*net.TCPAddr).Port, Security: SecurityNone,
				ConnectTimeout: 20 * time.Second, Timeout: 20 * time.Second}
			var err error
			alloc := testpeer.AllocDuring(func() {
				err = Send(ctx, srv, "ann@example.test", []string{"bob@example.test"}, strings.NewReader("Subject: x\r\n\r\nhi\r\n"))
			})
			if ctx.Err() != nil {
				t.Fatalf("the send ran until the test's deadline: %v", err)
			}
			const want = "server reply longer than 1 MiB: hostile or broken server"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want %q", err, want)
			}
			if lbsync.KindOf(err) != lbsync.Protocol {
				t.Errorf("error %v: kind %v, want Protocol", err, lbsync.KindOf(err))
			}
			if alloc > 64<<20 {
				t.Errorf("allocated %d MiB, want at most 64 MiB", alloc>>20)
			}
			t.Logf("allocated %.1f MiB: %v", float64(alloc)/(1<<20), err)
		})
	}
}
