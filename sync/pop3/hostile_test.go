package pop3

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// TestHostileServer: a POP3 server that answers with a listing that never
// ends (short lines, each under the line bound) or a message that never
// ends fails the sync with a clear Protocol error once a bound is
// passed, instead of growing the client's memory (the listing) or the
// disk (the message) until killed (issue 13 item 2: bound everything the
// client reads).
func TestHostileServer(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *script)
		max   int64
		want  string
		alloc uint64 // bound on the bytes allocated (before: without bound)
	}{
		{"endless UIDL listing", func(s *script) {
			s.reply["UIDL"] = "+OK\r\n"
			s.flood["UIDL"] = "1 a\r\n"
		}, 0, "UIDL: listing of more than 1048576 lines: hostile or broken server", 256 << 20},
		{"endless UIDL listing of long lines", func(s *script) {
			s.reply["UIDL"] = "+OK\r\n"
			s.flood["UIDL"] = "1 " + strings.Repeat("u", 60000) + "\r\n"
			// Each long line is copied as it grows: more is allocated
			// than held (at most 64 MiB of lines).
		}, 0, "UIDL: listing longer than 64 MiB: hostile or broken server", 512 << 20},
		{"endless message", func(s *script) {
			s.reply["RETR"] = "+OK\r\nSubject: x\r\n\r\n"
			s.flood["RETR"] = strings.Repeat("y", 70) + "\r\n"
		}, 2 << 20, "RETR 1: message longer than 2 MiB: hostile or broken server (max_message_size)", 64 << 20},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			s := newScript(t, "+OK ready\r\n")
			tc.setup(s)
			root := t.TempDir()
			st, err := store.Open(context.Background(), root, &store.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			alloc := testpeer.AllocDuring(func() {
				_, err = Sync(ctx, st, Options{Account: "t", Client: Config{Addr: s.addr(), Security: SecurityNone,
					Login: "u", Password: "p", MaxMessage: tc.max}})
			})
			if ctx.Err() != nil {
				t.Fatalf("the sync ran until the test's deadline: %v", err)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if lbsync.KindOf(err) != lbsync.Protocol {
				t.Errorf("error %v: kind %v, want Protocol", err, lbsync.KindOf(err))
			}
			if alloc > tc.alloc {
				t.Errorf("allocated %d MiB, want at most %d MiB", alloc>>20, tc.alloc>>20)
			}
			if mb, err := st.Mailbox(context.Background(), store.Inbox); err == nil && mb.Total != 0 {
				t.Errorf("INBOX holds %d messages", mb.Total)
			}
			t.Logf("allocated %.1f MiB: %v", float64(alloc)/(1<<20), err)
		})
	}
}
