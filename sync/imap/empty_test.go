package imapsync

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/store"
)

// TestEmptyMessage: a message of zero bytes on the server is mirrored
// (as the placeholder), so the local count equals the server's, and the
// next sync neither fetches it again nor loses it. Dovecot refuses an
// empty APPEND ("Can't save a zero byte message"); the 493/492 case of
// the field test is an empty file in the Maildir (a broken delivery),
// reproduced here. Before the fix the message was skipped on every sync.
func TestEmptyMessage(t *testing.T) {
	d := testpeer.StartDovecot(t, map[string]string{testUser: testPass})
	p := &peer{name: "dovecot", direct: d.IMAP, dovecot: d}
	a := admin{t, p}
	a.seed("INBOX", "full", 2, 500)
	inbox := d.MailDir(testUser)
	empty := filepath.Join(inbox, "new", fmt.Sprintf("%d.M1P1.empty", time.Now().Unix()))
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d.Chown(t, empty)
	for _, policy := range []BodyPolicy{{}, {OnOpen: true}} {
		t.Run(fmt.Sprintf("on open %v", policy.OnOpen), func(t *testing.T) {
			st := newStore(t)
			opts := Options{Account: "t", Server: Config{Addr: d.IMAP, Security: SecurityNone, Login: testUser, Password: testPass},
				AllMailboxes: true, Bodies: policy}
			res := mustSync(t, st, opts)
			if res.New != 3 {
				t.Errorf("first sync: %d new, want 3", res.New)
			}
			checkEmptyMirrored(t, st, 3)
			res = mustSync(t, st, opts)
			if res.New != 0 || res.Bodies != 0 {
				t.Errorf("second sync fetched again: %+v", res)
			}
			checkEmptyMirrored(t, st, 3)
		})
	}
}

// TestEmptyMessageFake: the same with a server that sends the empty
// message's header and body as empty literals, and one that sends "".
func TestEmptyMessageFake(t *testing.T) {
	for _, empty := range []string{"{0}\r\n", `""`} {
		t.Run(empty, func(t *testing.T) {
			f := newFakeIMAP(t)
			f.mailbox(1)
			f.reply["UID FETCH"] = func(tag, line string, w io.Writer) {
				body := ""
				switch {
				case strings.Contains(line, "BODY.PEEK[HEADER]"):
					body = " BODY[HEADER] " + empty
				case strings.Contains(line, "BODY.PEEK[]"):
					body = " BODY[] " + empty
				}
				io.WriteString(w, "* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 0"+body+")\r\n"+tag+" OK done\r\n")
			}
			f.start()
			st := newStore(t)
			opts := Options{Account: "t", Server: Config{Addr: f.addr(), Security: SecurityNone, Login: "u", Password: "p"}}
			mustSync(t, st, opts)
			checkEmptyMirrored(t, st, 1)
			if res := mustSync(t, st, opts); res.New != 0 {
				t.Errorf("second sync: %d new", res.New)
			}
		})
	}
}

// checkEmptyMirrored checks that INBOX has n messages, one of them the
// placeholder, complete.
func checkEmptyMirrored(t *testing.T, st *store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	ri, err := st.RemoteIndex(ctx, store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Fetch(ctx, store.Inbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n || len(ri) != n {
		t.Fatalf("INBOX has %d messages (%d mapped), want %d as on the server", len(msgs), len(ri), n)
	}
	partial := map[uint32]bool{}
	for _, r := range ri {
		partial[r.UID] = r.Partial
	}
	found := false
	for _, m := range msgs {
		f, err := st.OpenRaw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(f)
		f.Close()
		if string(raw) == emptyPlaceholder {
			found = true
			if partial[m.UID] {
				t.Errorf("the placeholder is marked partial: it would be fetched again")
			}
		}
	}
	if !found {
		t.Error("no placeholder for the empty message")
	}
}
