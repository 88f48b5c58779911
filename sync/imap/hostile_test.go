package imapsync

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// listWith makes the fake answer LIST with out, then stall.
func (f *fakeIMAP) listWith(out func(w io.Writer)) {
	f.reply["LIST"] = func(tag, _ string, w io.Writer) {
		out(w)
		f.stall()
	}
}

// TestHostileServer: a server that sends an endless line, an endless
// literal or a literal count past any bound fails the sync with a clear
// Protocol error, and the client holds a small, bounded amount of memory
// while the server sends 64 MiB (before the guard, the client read a
// line of any length: 300 MB of greeting took it to 915 MB).
func TestHostileServer(t *testing.T) {
	const flood64 = 64 << 20
	tests := []struct {
		name  string
		setup func(f *fakeIMAP)
		cfg   func(c *Config)
		want  string
	}{
		{"endless greeting", func(f *fakeIMAP) {
			f.greet = func(w io.Writer) { flood(w, "* OK ", flood64); f.stall() }
		}, nil, "imap connect 127.0.0.1:%s: server line longer than 1 MiB: hostile or broken server"},
		{"endless line", func(f *fakeIMAP) {
			f.listWith(func(w io.Writer) { flood(w, `* LIST () "/" `, flood64) })
		}, nil, "imap list: server line longer than 1 MiB: hostile or broken server"},
		{"literal over the limit", func(f *fakeIMAP) {
			f.listWith(func(w io.Writer) { flood(w, "* LIST () \"/\" {50000000}\r\n", 50000000) })
		}, func(c *Config) { c.MaxLiteral = 1 << 20 }, "imap list: server literal of 50000000 bytes exceeds the limit of 1 MiB: hostile or broken server"},
		{"huge literal count", func(f *fakeIMAP) {
			f.listWith(func(w io.Writer) { io.WriteString(w, "* LIST () \"/\" {99999999999999999999999}\r\n") })
		}, nil, "imap list: server literal count 999999999999999999… too large: hostile or broken server"},
		{"endless literal count", func(f *fakeIMAP) {
			f.listWith(func(w io.Writer) { flood(w, "* LIST () \"/\" {", flood64) })
		}, nil, "imap list: server line longer than 1 MiB: hostile or broken server"},
		{"endless folder listing", func(f *fakeIMAP) {
			// Lines within the bound, without end: before, go-imap
			// collected them until memory ran out.
			f.listWith(func(w io.Writer) {
				var b strings.Builder
				for i := range 1000 {
					fmt.Fprintf(&b, "* LIST () \"/\" box-%d\r\n", i)
				}
				buf := []byte(b.String())
				for {
					if _, err := w.Write(buf); err != nil {
						return
					}
				}
			})
		}, nil, "imap list: folder listing of more than 262144 folders: hostile or broken server"},
		{"endless folder listing of long lines", func(f *fakeIMAP) {
			f.listWith(func(w io.Writer) {
				buf := []byte("* LIST () \"/\" " + strings.Repeat("n", 500000) + "\r\n")
				for {
					if _, err := w.Write(buf); err != nil {
						return
					}
				}
			})
		}, nil, "imap list: folder listing longer than 32 MiB: hostile or broken server"},
		{"endless FETCH answer", func(f *fakeIMAP) {
			// Each response within the line bound, each with a new
			// UID, without end: before, the flags of all of them were
			// kept until memory ran out.
			f.mailbox(1)
			f.reply["UID FETCH"] = func(tag, line string, w io.Writer) {
				var b strings.Builder
				for uid := 1; ; uid++ {
					fmt.Fprintf(&b, "* %d FETCH (UID %d FLAGS (\\Seen) RFC822.SIZE 1000 INTERNALDATE \"01-Jan-2026 00:00:00 +0000\")\r\n", uid, uid)
					if uid%1000 == 0 {
						if _, err := io.WriteString(w, b.String()); err != nil {
							return
						}
						b.Reset()
					}
				}
			}
		}, nil, "more FETCH responses than the mailbox's 1 messages: hostile or broken server"},
		{"literal over the limit in a FETCH", func(f *fakeIMAP) {
			f.mailbox(1)
			f.reply["UID FETCH"] = func(tag, line string, w io.Writer) {
				if !strings.Contains(line, "BODY.PEEK[") {
					io.WriteString(w, "* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 1000)\r\n"+tag+" OK done\r\n")
					return
				}
				flood(w, "* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 1000 "+bodySection(line)+" {90000000}\r\n", flood64)
				f.stall()
			}
		}, func(c *Config) { c.MaxLiteral = 32 << 20 }, "imap fetch INBOX: server literal of 90000000 bytes exceeds the limit of 32 MiB: hostile or broken server"},
		{"endless literal in a FETCH", func(f *fakeIMAP) {
			// Within the bound (100 MiB): the message said to be 1000
			// bytes goes to a temporary file, not to memory, until the
			// server stops sending.
			f.mailbox(1)
			f.reply["UID FETCH"] = func(tag, line string, w io.Writer) {
				if !strings.Contains(line, "BODY.PEEK[") {
					io.WriteString(w, "* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 1000)\r\n"+tag+" OK done\r\n")
					return
				}
				flood(w, "* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 1000 "+bodySection(line)+" {100000000}\r\n", flood64)
				f.stall()
			}
		}, func(c *Config) { c.CommandTimeout = 500 * time.Millisecond }, "imap fetch INBOX timed out: server silent for 500ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIMAP(t)
			tc.setup(f)
			f.start()
			opts := Options{Account: "t", Server: Config{Addr: f.addr(), Security: SecurityNone, Login: "u", Password: "p",
				CommandTimeout: 10 * time.Second}}
			if tc.cfg != nil {
				tc.cfg(&opts.Server)
			}
			var err error
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			alloc := testpeer.AllocDuring(func() { _, err = Sync(ctx, newStore(t), opts) })
			want := tc.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, f.addr()[len("127.0.0.1:"):])
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want %q", err, want)
			}
			kind := lbsync.Protocol
			if strings.Contains(want, "timed out") {
				kind = lbsync.Temporary
			}
			if k := lbsync.KindOf(err); k != kind {
				t.Errorf("error %v is of kind %v, want %v", err, k, kind)
			}
			bound := uint64(24 << 20)
			if strings.HasPrefix(tc.name, "endless folder listing") || tc.name == "endless FETCH answer" {
				// The folders are kept until the bound: 262144 of
				// them, or 32 MiB of names (each copied as it is
				// parsed).
				bound = 400 << 20
			}
			if alloc > bound {
				t.Errorf("the client allocated %d MiB while the server flooded it", alloc>>20)
			}
			t.Logf("allocated %.1f MiB: %v", float64(alloc)/(1<<20), err)
		})
	}
}

// bodySection is the section a FETCH command line asks for, as the
// server names it in its answer: BODY[HEADER] or BODY[] (a few new
// messages are fetched whole, many headers first).
func bodySection(line string) string {
	if strings.Contains(line, "BODY.PEEK[HEADER]") {
		return "BODY[HEADER]"
	}
	return "BODY[]"
}

// mailbox makes the fake list INBOX and select it with n messages.
func (f *fakeIMAP) mailbox(n int) {
	f.reply["LIST"] = func(tag, _ string, w io.Writer) {
		io.WriteString(w, "* LIST () \"/\" INBOX\r\n"+tag+" OK done\r\n")
	}
	f.reply["SELECT"] = func(tag, _ string, w io.Writer) {
		fmt.Fprintf(w, "* %d EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT %d] ok\r\n%s OK [READ-WRITE] done\r\n", n, n+1, tag)
	}
}
