package imapd

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/store"
)

// events collects a client's unilateral responses as strings.
type events chan string

func (ev events) handler() *imapclient.UnilateralDataHandler {
	return &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) { ev <- fmt.Sprintf("EXPUNGE %d", seq) },
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				ev <- fmt.Sprintf("EXISTS %d", *d.NumMessages)
			}
		},
		Fetch: func(m *imapclient.FetchMessageData) {
			buf, err := m.Collect()
			if err != nil {
				ev <- "FETCH error " + err.Error()
				return
			}
			ev <- fmt.Sprintf("FETCH %d %v", buf.SeqNum, flagStrings(buf.Flags))
		},
	}
}

func (ev events) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-ev:
			if got != w {
				t.Fatalf("got %q, want %q", got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for %q", w)
		}
	}
}

func (ev events) none(t *testing.T) {
	t.Helper()
	select {
	case got := <-ev:
		t.Fatalf("unexpected %q", got)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestIdle: a session in IDLE hears of messages appended and expunged by
// other IMAP sessions and by other protocols writing to the store (SMTP
// delivery, POP3 deletes), each exactly once and with its own sequence
// numbers.
func TestIdle(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	for i := 1; i <= 3; i++ {
		e.add("INBOX", testMsg(i, "s", "b"))
	}
	ev := make(events, 100)
	a := e.client(ev.handler())
	if _, err := a.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := a.Idle()
	if err != nil {
		t.Fatal(err)
	}

	// Another session appends.
	b := e.client(nil)
	raw := testMsg(4, "from b", "x")
	cmd := b.Append("INBOX", int64(len(raw)), nil)
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	ev.expect(t, "EXISTS 4")

	// A third session flags and expunges message 1.
	c := e.client(nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	ev.expect(t, `FETCH 1 [\Deleted]`)
	if _, err := c.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	ev.expect(t, "EXPUNGE 1")

	// Other protocols: a delivery and a POP3 delete, straight to the store.
	ctx := context.Background()
	res := e.add("INBOX", testMsg(5, "delivered", "y"))
	ev.expect(t, "EXISTS 4")
	if _, err := e.st.Remove(ctx, "INBOX", []uint32{2}); err != nil {
		t.Fatal(err)
	}
	ev.expect(t, "EXPUNGE 1")
	if _, err := e.st.SetFlags(ctx, "INBOX", []uint32{res.UID}, store.FlagsAdd, []string{store.FlagFlagged}); err != nil {
		t.Fatal(err)
	}
	ev.expect(t, `FETCH 3 [\Flagged]`)
	// Another mailbox changing is none of this session's business.
	e.add("Archive", testMsg(6, "elsewhere", "z"))
	ev.none(t)

	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	// Sequence numbers agree with the store after all that.
	msgs, err := a.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for i, m := range msgs {
		if m.SeqNum != uint32(i+1) {
			t.Fatalf("seq %d at %d", m.SeqNum, i)
		}
		got = append(got, uint32(m.UID))
	}
	want, _ := e.st.UIDs(ctx, "INBOX")
	if !slices.Equal(got, want) {
		t.Fatalf("UIDs %v, store %v", got, want)
	}
	// The session's own STORE is answered once, by the command itself.
	if err := a.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	ev.none(t)
}

// TestShutdown: Shutdown says BYE to connected clients and returns once
// they are gone.
func TestShutdown(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	c := e.client(nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Closed():
	case <-time.After(10 * time.Second):
		t.Fatal("client still connected")
	}
}
