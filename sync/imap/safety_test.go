package imapsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// seedMany appends n messages "<prefix>-<i>" to mb over one connection.
func (a admin) seedMany(mb, prefix string, n, size int) {
	a.t.Helper()
	a.do(func(c *imapclient.Client) error {
		for i := range n {
			raw := testMsg(fmt.Sprintf("%s-%d@example.test", prefix, i), size)
			cmd := c.Append(mb, int64(len(raw)), nil)
			cmd.Write(raw)
			cmd.Close()
			if _, err := cmd.Wait(); err != nil {
				return err
			}
		}
		return nil
	})
}

// expungeFirst expunges the n lowest UIDs of mb.
func (a admin) expungeFirst(mb string, n int) {
	a.t.Helper()
	a.do(func(c *imapclient.Client) error {
		if _, err := c.Select(mb, nil).Wait(); err != nil {
			return err
		}
		set := imap.SeqSet{imap.SeqRange{Start: 1, Stop: uint32(n)}}
		if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return err
		}
		return c.Expunge().Close()
	})
}

func count(t *testing.T, st *store.Store, mb string) int {
	t.Helper()
	msgs, err := st.Fetch(context.Background(), mb, nil)
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

// TestMassDelete: a sync that would delete more than half of a mailbox
// (and over 100 messages) on either side stops with *MassDeleteError
// until forced; other mailboxes still sync.
func TestMassDelete(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		a := admin{t, p}
		a.create("Bulk")
		a.create("Bulk2")
		a.seedMany("Bulk", "bulk", 150, 300)
		a.seedMany("Bulk2", "bulk2", 150, 300)
		st := newStore(t)
		opts := testOptions(p)
		mustSync(t, st, opts)

		a.expungeFirst("Bulk", 120)
		a.seed("INBOX", "still", 1, 300)
		uids, _ := st.UIDs(ctx, "Bulk2")
		if err := (&Local{Store: st}).Delete(ctx, "Bulk2", uids[:110], ""); err != nil {
			t.Fatal(err)
		}
		_, err := Sync(ctx, st, opts)
		var local, server *MassDeleteError
		for _, e := range flatten(err) {
			var md *MassDeleteError
			if errors.As(e, &md) {
				if md.OnServer {
					server = md
				} else {
					local = md
				}
			}
		}
		if !errors.Is(err, ErrMassDelete) || local == nil || server == nil {
			t.Fatalf("err = %v, want mass-delete errors for both sides", err)
		}
		if *local != (MassDeleteError{Mailbox: "Bulk", Deletions: 120, Total: 150}) {
			t.Errorf("local guard: %+v", *local)
		}
		if *server != (MassDeleteError{Mailbox: "Bulk2", OnServer: true, Deletions: 110, Total: 150}) {
			t.Errorf("server guard: %+v", *server)
		}
		if n := count(t, st, "Bulk"); n != 150 {
			t.Errorf("Bulk has %d messages locally after the guard, want 150", n)
		}
		if n := len(a.state("Bulk2").flags); n != 150 {
			t.Errorf("Bulk2 has %d messages on the server after the guard, want 150", n)
		}
		sameState(t, st, a, "INBOX", true)

		opts.Force = true
		mustSync(t, st, opts)
		sameState(t, st, a, "Bulk", false)
		sameState(t, st, a, "Bulk2", false)
		if n := count(t, st, "Bulk"); n != 30 {
			t.Errorf("Bulk has %d messages after a forced sync, want 30", n)
		}
		if n := len(a.state("Bulk2").flags); n != 40 {
			t.Errorf("Bulk2 has %d messages on the server after a forced sync, want 40", n)
		}
	})
}

// flatten unpacks joined errors.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestOffline: with the server down local actions succeed, Sync fails
// with a temporary error, and when the server is back the journal drains
// and the server matches.
func TestOffline(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		a := admin{t, p}
		a.create("Archive")
		mids := a.seed("INBOX", "off", 6, 500)
		st := newStore(t)
		opts := testOptions(p)
		mustSync(t, st, opts)
		p.stop()
		l := &Local{Store: st}
		if _, err := l.SetFlags(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[0])}, store.FlagsAdd, []string{`\Seen`}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Move(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[1])}, "Archive"); err != nil {
			t.Fatal(err)
		}
		if err := l.Delete(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[2])}, "Trash"); err != nil {
			t.Fatal(err)
		}
		if err := l.Delete(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[3])}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(ctx, "Sent", bytes.NewReader(testMsg("offline-sent@example.test", 400)), []string{`\Seen`}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, st, "INBOX"); n != 3 {
			t.Errorf("INBOX has %d messages locally, want 3", n)
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := Sync(sctx, st, opts)
		cancel()
		if err == nil || !lbsync.IsTemporary(err) || !errors.Is(err, lbsync.ErrTemporary) {
			t.Fatalf("sync with the server down: %v, want a temporary error", err)
		}
		p.start()
		mustSync(t, st, opts)
		if j, _ := st.Journal(ctx); len(j) != 0 {
			t.Errorf("journal not drained: %d entries", len(j))
		}
		for _, mb := range []string{"INBOX", "Archive", "Trash", "Sent"} {
			sameState(t, st, a, mb, true)
		}
		if f := a.state("INBOX").flags[mids[0]]; f != `\Seen` {
			t.Errorf("flag made offline: %q on the server", f)
		}
	})
}

// TestUIDValidity: a mailbox recreated on the server is re-synced without
// downloading what the store has, keeping local-only changes, and says so.
func TestUIDValidity(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		a := admin{t, p}
		a.create("Work")
		mids := a.seed("Work", "w", 5, 600)
		st := newStore(t)
		opts := testOptions(p)
		var ev events
		opts.Report = ev.reporter()
		mustSync(t, st, opts)
		l := &Local{Store: st}
		if _, err := l.SetFlags(ctx, "Work", []uint32{localUID(t, st, "Work", mids[0])}, store.FlagsAdd, []string{`\Flagged`}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(ctx, "Work", bytes.NewReader(testMsg("local-only@example.test", 400)), nil); err != nil {
			t.Fatal(err)
		}
		a.deleteMailbox("Work")
		a.create("Work")
		for _, mid := range mids[:4] {
			a.append("Work", testMsg(mid, 600), nil, time.Now())
		}
		a.append("Work", testMsg("w-new@example.test", 600), nil, time.Now())
		res := mustSync(t, st, opts)
		if !strings.Contains(strings.Join(ev.notes(), "\n"), "UIDVALIDITY changed: re-synced") {
			t.Errorf("no UIDVALIDITY note in %q", ev.notes())
		}
		if res.New != 1 || res.Adopted != 5 {
			t.Errorf("result %+v, want 1 new (w-new) and 5 adopted (4 kept, 1 uploaded)", res)
		}
		sameState(t, st, a, "Work", true)
		srv := a.state("Work")
		if srv.flags[mids[0]] != `\Flagged` {
			t.Errorf("local flag lost: %q", srv.flags[mids[0]])
		}
		if _, ok := srv.flags["local-only@example.test"]; !ok {
			t.Errorf("local-only message not uploaded")
		}
		if _, ok := srv.flags[mids[4]]; ok {
			t.Errorf("%s is back on the server", mids[4])
		}
	})
}
