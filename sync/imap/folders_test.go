package imapsync

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/store"
)

// serverFolders lists the server's selectable folders and the subscribed
// ones.
func (a admin) folders() (all, subscribed []string) {
	a.t.Helper()
	a.do(func(c *imapclient.Client) error {
		data, err := c.List("", "*", &imap.ListOptions{ReturnSubscribed: true}).Collect()
		if err != nil {
			return err
		}
		for _, d := range data {
			sel := true
			for _, at := range d.Attrs {
				switch strings.ToLower(string(at)) {
				case `\noselect`, `\nonexistent`:
					sel = false
				case `\subscribed`:
					subscribed = append(subscribed, d.Mailbox)
				}
			}
			if sel {
				all = append(all, d.Mailbox)
			}
		}
		return nil
	})
	slices.Sort(all)
	slices.Sort(subscribed)
	return all, subscribed
}

// TestFoldersOffline: folders created, renamed, deleted and unsubscribed
// while offline, with messages moved into them, reach the server at the
// next sync in the order they were made; the store then equals the
// server, with one copy of everything, and a second sync downloads
// nothing. Replaying the same folder changes again (a crash before the
// journal noted them done) changes nothing.
func TestFoldersOffline(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		a := admin{t, p}
		a.create("Old")
		a.create("Old/Sub")
		a.create("Gone")
		inbox := a.seed("INBOX", "fo-in", 4, 300)
		old := a.seed("Old", "fo-old", 2, 300)
		a.seed("Old/Sub", "fo-sub", 1, 300)
		a.seed("Gone", "fo-gone", 1, 300)
		st := newStore(t)
		opts := testOptions(p)
		mustSync(t, st, opts)

		// Offline: the server is unreachable.
		p.proxy.cut.Store(1)
		l := &Local{Store: st}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(l.CreateMailbox(ctx, "Projects", ""))
		_, err := l.Move(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", inbox[0])}, "Projects")
		must(err)
		must(l.CreateMailbox(ctx, "Projects/2026", ""))
		_, err = l.Move(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", inbox[1])}, "Projects/2026")
		must(err)
		must(l.RenameMailbox(ctx, "Old", "New"))
		_, err = l.Move(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", inbox[2])}, "New")
		must(err)
		_, err = l.SetFlags(ctx, "New", []uint32{localUID(t, st, "New", old[0])}, store.FlagsAdd, []string{`\Flagged`})
		must(err)
		must(l.DeleteMailbox(ctx, "Gone"))
		must(l.SetSubscribed(ctx, "Projects/2026", false))
		if _, err := Sync(ctx, st, opts); err == nil {
			t.Fatal("sync succeeded offline")
		}
		p.proxy.cut.Store(0)

		mustSync(t, st, opts)
		all, subscribed := a.folders()
		for _, want := range []string{"Projects", "Projects/2026", "New", "New/Sub"} {
			if !slices.Contains(all, want) {
				t.Errorf("server folders %v lack %s", all, want)
			}
		}
		for _, gone := range []string{"Old", "Old/Sub", "Gone"} {
			if slices.Contains(all, gone) {
				t.Errorf("server folders %v still have %s", all, gone)
			}
		}
		if !slices.Contains(subscribed, "Projects") || slices.Contains(subscribed, "Projects/2026") {
			t.Errorf("subscribed on the server: %v", subscribed)
		}
		if f := a.state("New").flags[old[0]]; f != `\Flagged` {
			t.Errorf("flag on New/%s: %q", old[0], f)
		}
		local, err := st.Mailboxes(ctx)
		must(err)
		for _, mb := range local {
			if mb.Name == "Old" || mb.Name == "Gone" || mb.Name == "Old/Sub" {
				t.Errorf("local folder %s still there", mb.Name)
			}
		}
		check := func() {
			t.Helper()
			for _, mb := range []string{"INBOX", "Projects", "Projects/2026", "New", "New/Sub"} {
				sameState(t, st, a, mb, true)
			}
			if j, _ := st.Journal(ctx); len(j) != 0 {
				t.Errorf("journal not drained: %+v", j)
			}
		}
		check()
		if res := mustSync(t, st, opts); res.New != 0 {
			t.Errorf("second sync downloaded %d messages", res.New)
		}

		// A crash after the server made the changes, before the journal
		// said so: the same entries replay again.
		for _, e := range []struct {
			op string
			p  payload
		}{
			{opCreate, payload{Mailbox: "Projects"}},
			{opRename, payload{Mailbox: "Old", Dest: "New"}},
			{opRmbox, payload{Mailbox: "Gone"}},
			{opSubscribe, payload{Mailbox: "Projects/2026"}},
		} {
			b, _ := json.Marshal(e.p)
			if _, err := st.JournalAdd(ctx, e.op, b); err != nil {
				t.Fatal(err)
			}
		}
		res := mustSync(t, st, opts)
		if res.Failed != 0 || res.New != 0 {
			t.Errorf("replaying again: %+v", res)
		}
		all2, _ := a.folders()
		if !slices.Equal(all, all2) {
			t.Errorf("server folders changed by the repeated replay: %v, then %v", all, all2)
		}
		check()
	})
}

// TestSentCopyWithoutSentFolder: a server with no Sent folder gets one
// (marked \Sent where it has CREATE-SPECIAL-USE) and the Sent copy in
// it; the copy is never dropped. A draft saved to a Drafts folder the
// server lacks goes the same way.
func TestSentCopyWithoutSentFolder(t *testing.T) {
	bare := []struct {
		name  string
		start func(t *testing.T) *peer
	}{{"letterbox", startOurs}, {"dovecot", startBareDovecot}}
	for _, pc := range bare {
		t.Run(pc.name, func(t *testing.T) { testSentCopyWithoutSentFolder(t, pc.start(t)) })
	}
}

// startBareDovecot starts a Dovecot without Sent, Drafts, Trash, Archive
// and Junk folders.
func startBareDovecot(t *testing.T) *peer {
	t.Helper()
	d := testpeer.StartDovecotWith(t, map[string]string{testUser: testPass}, testpeer.DovecotOptions{NoSpecialFolders: true})
	p := &peer{name: "dovecot", direct: d.IMAP, condstore: true, tlsAddr: d.IMAPS, startTLSAddr: d.IMAP, roots: d.Roots}
	p.proxy = newProxy(t, d.IMAP)
	p.stop = d.Stop
	p.start = func() { d.Restart(t) }
	return p
}

func testSentCopyWithoutSentFolder(t *testing.T, p *peer) {
	{
		ctx := context.Background()
		a := admin{t, p}
		for _, mb := range []string{"Sent", "Drafts"} {
			if all, _ := a.folders(); slices.Contains(all, mb) {
				a.deleteMailbox(mb)
			}
		}
		if all, _ := a.folders(); slices.Contains(all, "Sent") {
			t.Fatalf("the server still has Sent after DELETE: %v", all)
		}
		st := newStore(t)
		opts := testOptions(p)
		var ev events
		opts.Report = ev.reporter()
		mustSync(t, st, opts)
		l := &Local{Store: st}
		for _, f := range []struct{ mb, use, mid string }{{"Sent", store.SpecialSent, "sent-1@example.test"}, {"Drafts", store.SpecialDrafts, "draft-1@example.test"}} {
			if _, err := st.CreateMailbox(ctx, f.mb, f.use); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Append(ctx, f.mb, strings.NewReader(string(testMsg(f.mid, 400))), []string{store.FlagSeen}); err != nil {
				t.Fatal(err)
			}
		}
		res := mustSync(t, st, opts)
		if res.Dropped != 0 || res.Failed != 0 {
			t.Errorf("result %+v: something was dropped or refused (notes %q)", res, ev.notes())
		}
		for _, f := range []struct{ mb, use, mid string }{{"Sent", `\Sent`, "sent-1@example.test"}, {"Drafts", `\Drafts`, "draft-1@example.test"}} {
			if _, ok := a.state(f.mb).flags[f.mid]; !ok {
				t.Errorf("%s: the copy is not on the server (notes %q)", f.mb, ev.notes())
			}
			sameState(t, st, a, f.mb, true)
			m, err := st.Mailbox(ctx, f.mb)
			if err != nil || m.SpecialUse != f.use {
				t.Errorf("local %s: %+v, %v; want the role %s kept", f.mb, m, err, f.use)
			}
		}
		var marked bool
		a.do(func(c *imapclient.Client) error {
			data, err := c.List("", "Sent", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
			for _, d := range data {
				marked = marked || slices.Contains(d.Attrs, imap.MailboxAttrSent)
			}
			if c.Caps().Has(imap.CapCreateSpecialUse) && !marked {
				t.Errorf("the server has CREATE-SPECIAL-USE, and Sent is not marked \\Sent: %+v", data)
			}
			return err
		})
		t.Logf("%s: Sent marked \\Sent on the server: %v; notes %q", p.name, marked, ev.notes())
		if j, _ := st.Journal(ctx); len(j) != 0 {
			t.Errorf("journal not drained: %+v", j)
		}
	}
}
