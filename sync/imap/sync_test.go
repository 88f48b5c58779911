package imapsync

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// TestInitialSync: headers of every message are in the store before the
// first body is fetched, then every body arrives, byte for byte. A few
// new messages (fewer than firstHeaderChunk) come whole in one pass;
// only the one over bodyMemMax has its body fetched afterwards.
func TestInitialSync(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		a := admin{t, p}
		a.seed("INBOX", "init", 30, 3000)
		a.append("INBOX", testMsg("big@example.test", 1500<<10), []string{`\Seen`, "$Label1"}, time.Now())
		a.create("Work")
		a.seed("Work", "work", 5, 500)
		st := newStore(t)
		opts := testOptions(p)
		var headersAtFirstBody = -1
		var ev events
		rep := ev.reporter()
		opts.Report = func(e lbsync.Event) {
			rep(e)
			if e.Phase == lbsync.PhaseBodies && headersAtFirstBody < 0 {
				msgs, _ := st.Fetch(context.Background(), "INBOX", nil)
				headersAtFirstBody = len(msgs)
			}
		}
		res := mustSync(t, st, opts)
		if headersAtFirstBody != 31 {
			t.Errorf("INBOX had %d headers when bodies began, want 31", headersAtFirstBody)
		}
		if res.New != 36 || res.Bodies != 1 {
			t.Errorf("result %+v, want 36 new and 1 body fetched after its header", res)
		}
		sameState(t, st, a, "INBOX", true)
		sameState(t, st, a, "Work", true)
		mb, err := st.Mailbox(context.Background(), "Trash")
		if err != nil || mb.SpecialUse != store.SpecialTrash {
			t.Errorf("Trash: %+v, %v; want the \\Trash role", mb, err)
		}
		// A second sync finds nothing to do.
		res = mustSync(t, st, opts)
		if res.New+res.Flags+res.Expunged+res.Bodies != 0 {
			t.Errorf("no-change sync did %+v", res)
		}
	})
}

// TestIncremental: new mail, server flag changes and expunges arrive.
func TestIncremental(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		a := admin{t, p}
		mids := a.seed("INBOX", "inc", 10, 800)
		st := newStore(t)
		opts := testOptions(p)
		mustSync(t, st, opts)
		a.seed("INBOX", "inc2", 3, 800)
		a.flag("INBOX", mids[0], imap.StoreFlagsAdd, `\Seen`, `\Flagged`)
		a.flag("INBOX", mids[1], imap.StoreFlagsAdd, "$Work")
		a.expunge("INBOX", mids[2])
		res := mustSync(t, st, opts)
		if res.New != 3 || res.Flags != 2 || res.Expunged != 1 {
			t.Errorf("result %+v, want 3 new, 2 flag changes, 1 expunge", res)
		}
		sameState(t, st, a, "INBOX", true)
		a.flag("INBOX", mids[0], imap.StoreFlagsDel, `\Flagged`)
		mustSync(t, st, opts)
		sameState(t, st, a, "INBOX", true)
	})
}

// TestLocalActions: flags, moves, deletes and appends made locally reach
// the server.
func TestLocalActions(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		a := admin{t, p}
		a.create("Archive")
		mids := a.seed("INBOX", "loc", 8, 600)
		st := newStore(t)
		opts := testOptions(p)
		mustSync(t, st, opts)
		l := &Local{Store: st}
		steps := []struct {
			name string
			do   func() error
		}{
			{"flag", func() error {
				_, err := l.SetFlags(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[0])}, store.FlagsAdd, []string{`\Seen`, "$Todo"})
				return err
			}},
			{"unflag", func() error {
				_, err := l.SetFlags(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[0])}, store.FlagsRemove, []string{"$Todo"})
				return err
			}},
			{"replace", func() error {
				_, err := l.SetFlags(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[1])}, store.FlagsReplace, []string{`\Answered`})
				return err
			}},
			{"move", func() error {
				_, err := l.Move(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[2]), localUID(t, st, "INBOX", mids[3])}, "Archive")
				return err
			}},
			{"delete to trash", func() error {
				return l.Delete(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[4])}, "Trash")
			}},
			{"delete for good", func() error {
				return l.Delete(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[5])}, "")
			}},
			{"append", func() error {
				_, err := l.Append(ctx, "Sent", bytes.NewReader(testMsg("sent-1@example.test", 400)), []string{`\Seen`})
				return err
			}},
			{"append then move", func() error {
				res, err := l.Append(ctx, "Drafts", bytes.NewReader(testMsg("draft-1@example.test", 400)), []string{`\Draft`})
				if err != nil {
					return err
				}
				_, err = l.Move(ctx, "Drafts", []uint32{res.UID}, "Archive")
				return err
			}},
			{"move then flag", func() error {
				pairs, err := l.Move(ctx, "INBOX", []uint32{localUID(t, st, "INBOX", mids[6])}, "Archive")
				if err != nil {
					return err
				}
				_, err = l.SetFlags(ctx, "Archive", []uint32{pairs[0].Dst}, store.FlagsAdd, []string{`\Flagged`})
				return err
			}},
		}
		for _, s := range steps {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		res := mustSync(t, st, opts)
		if res.Replayed != len(steps)+2 || res.Failed+res.Dropped != 0 {
			t.Errorf("result %+v, want %d replayed", res, len(steps)+2)
		}
		if j, _ := st.Journal(ctx); len(j) != 0 {
			t.Errorf("journal not drained: %d entries", len(j))
		}
		for _, mb := range []string{"INBOX", "Archive", "Trash", "Sent", "Drafts"} {
			sameState(t, st, a, mb, true)
		}
		arch := a.state("Archive")
		for _, mid := range []string{mids[2], mids[3], mids[6], "draft-1@example.test"} {
			if _, ok := arch.flags[mid]; !ok {
				t.Errorf("Archive on the server lacks %s", mid)
			}
		}
		if f := arch.flags[mids[6]]; f != `\Flagged` {
			t.Errorf("moved then flagged message has %q on the server", f)
		}
		if f := a.state("INBOX").flags[mids[1]]; f != `\Answered` {
			t.Errorf("replaced flags are %q on the server", f)
		}
		// Nothing is downloaded again.
		res = mustSync(t, st, opts)
		if res.New != 0 || res.Expunged != 0 {
			t.Errorf("second sync %+v", res)
		}
	})
}

// TestTwoDevices: two stores on one account converge, each seeing what
// the other did.
func TestTwoDevices(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		a := admin{t, p}
		a.create("Archive")
		mids := a.seed("INBOX", "two", 10, 700)
		stA, stB := newStore(t), newStore(t)
		opts := testOptions(p)
		mustSync(t, stA, opts)
		mustSync(t, stB, opts)
		la, lb := &Local{Store: stA}, &Local{Store: stB}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		_, err := la.SetFlags(ctx, "INBOX", []uint32{localUID(t, stA, "INBOX", mids[0])}, store.FlagsAdd, []string{`\Seen`})
		must(err)
		_, err = la.Move(ctx, "INBOX", []uint32{localUID(t, stA, "INBOX", mids[1])}, "Archive")
		must(err)
		must(la.Delete(ctx, "INBOX", []uint32{localUID(t, stA, "INBOX", mids[2])}, "Trash"))
		_, err = la.Append(ctx, "Sent", bytes.NewReader(testMsg("from-a@example.test", 300)), []string{`\Seen`})
		must(err)
		_, err = lb.SetFlags(ctx, "INBOX", []uint32{localUID(t, stB, "INBOX", mids[3])}, store.FlagsAdd, []string{`\Flagged`})
		must(err)
		must(lb.Delete(ctx, "INBOX", []uint32{localUID(t, stB, "INBOX", mids[4])}, ""))
		_, err = lb.Append(ctx, "Drafts", bytes.NewReader(testMsg("from-b@example.test", 300)), nil)
		must(err)
		for range 2 {
			mustSync(t, stA, opts)
			mustSync(t, stB, opts)
		}
		for _, mb := range []string{"INBOX", "Archive", "Trash", "Sent", "Drafts"} {
			sameState(t, stA, a, mb, true)
			sameState(t, stB, a, mb, true)
		}
	})
}

// TestSubscribedOnly: without AllMailboxes only subscribed mailboxes (and
// INBOX) are synced.
func TestSubscribedOnly(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		a := admin{t, p}
		a.create("Hidden")
		a.seed("Hidden", "hid", 2, 300)
		a.do(func(c *imapclient.Client) error { return c.Unsubscribe("Hidden").Wait() })
		a.seed("INBOX", "vis", 2, 300)
		st := newStore(t)
		opts := testOptions(p)
		opts.AllMailboxes = false
		mustSync(t, st, opts)
		sameState(t, st, a, "INBOX", true)
		if _, err := st.Mailbox(context.Background(), "Hidden"); err == nil {
			msgs, _ := st.Fetch(context.Background(), "Hidden", nil)
			if len(msgs) != 0 {
				t.Errorf("unsubscribed mailbox synced: %d messages", len(msgs))
			}
		}
		opts.Mailboxes = []string{"Hidden"}
		mustSync(t, st, opts)
		sameState(t, st, a, "Hidden", true)
	})
}

// TestBodyPolicy: OnOpen leaves bodies for FetchBody; Days fetches recent
// ones only.
func TestBodyPolicy(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		a := admin{t, p}
		a.append("INBOX", testMsg("old@example.test", 2000), nil, time.Now().AddDate(0, 0, -40))
		a.append("INBOX", testMsg("new@example.test", 2000), nil, time.Now())
		for _, tc := range []struct {
			name    string
			policy  BodyPolicy
			partial int
		}{
			{"on open", BodyPolicy{OnOpen: true}, 2},
			{"days", BodyPolicy{Days: 30}, 1},
			{"all", BodyPolicy{}, 0},
		} {
			st := newStore(t)
			opts := testOptions(p)
			opts.Bodies = tc.policy
			mustSync(t, st, opts)
			if _, partial := localState(t, st, "INBOX"); partial != tc.partial {
				t.Errorf("%s: %d partial, want %d", tc.name, partial, tc.partial)
			}
			if tc.partial == 0 {
				continue
			}
			if err := FetchBody(ctx, st, opts, "INBOX", localUID(t, st, "INBOX", "old@example.test")); err != nil {
				t.Fatalf("%s: fetch body: %v", tc.name, err)
			}
			if _, partial := localState(t, st, "INBOX"); partial != tc.partial-1 {
				t.Errorf("%s: after FetchBody %d partial, want %d", tc.name, partial, tc.partial-1)
			}
		}
	})
}

func TestLoginFailure(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		opts := testOptions(p)
		opts.Server.Password = "wrong"
		_, err := Sync(context.Background(), newStore(t), opts)
		if !errors.Is(err, lbsync.ErrAuth) || lbsync.IsTemporary(err) {
			t.Fatalf("err = %v, want lbsync.ErrAuth and not temporary", err)
		}
	})
}

// TestPasswordFunc: a password from PasswordFunc logs in; its error ends
// the sync as is (not as a login or network failure), and a dial that
// fails cancels the lookup.
func TestPasswordFunc(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		admin{t, p}.seed("INBOX", "pwfunc", 2, 300)
		good := testOptions(p)
		pw := good.Server.Password
		for _, tc := range []struct {
			name    string
			fn      func(context.Context) (string, error)
			wantErr error
		}{
			{"right", func(context.Context) (string, error) { return pw, nil }, nil},
			{"wrong", func(context.Context) (string, error) { return "wrong", nil }, lbsync.ErrAuth},
			{"lookup fails", func(context.Context) (string, error) { return "", errNoSecret }, errNoSecret},
		} {
			opts := testOptions(p)
			opts.Server.Password = ""
			opts.Server.PasswordFunc = tc.fn
			st := newStore(t)
			res, err := Sync(context.Background(), st, opts)
			if tc.wantErr == nil {
				if err != nil || res.New != 2 {
					t.Errorf("%s: res %+v, err %v; want 2 new", tc.name, res, err)
				}
				continue
			}
			if !errors.Is(err, tc.wantErr) || lbsync.IsTemporary(err) {
				t.Errorf("%s: err = %v, want %v and not temporary", tc.name, err, tc.wantErr)
			}
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cancelled := make(chan struct{})
		opts := Options{Server: Config{Addr: addr, Security: SecurityNone, Login: "x",
			PasswordFunc: func(ctx context.Context) (string, error) {
				<-ctx.Done()
				close(cancelled)
				return "", ctx.Err()
			}}}
		if _, err := Sync(context.Background(), newStore(t), opts); err == nil || !lbsync.IsTemporary(err) {
			t.Fatalf("Sync to a closed port: %v, want a temporary error", err)
		}
		select {
		case <-cancelled:
		case <-time.After(10 * time.Second):
			t.Fatal("the password lookup was not cancelled when the dial failed")
		}
	})
}

var errNoSecret = errors.New("no secret here")

// TestSecurity: implicit TLS and STARTTLS work with a trusted
// certificate; an untrusted one is a permanent error, not a retry.
func TestSecurity(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		admin{t, p}.seed("INBOX", "tls", 2, 300)
		for _, tc := range []struct {
			name, addr, security string
			trusted              bool
		}{
			{"tls", p.tlsAddr, SecurityTLS, true},
			{"starttls", p.startTLSAddr, SecurityStartTLS, true},
			{"untrusted", p.tlsAddr, SecurityTLS, false},
		} {
			st := newStore(t)
			opts := testOptions(p)
			opts.Server.Addr, opts.Server.Security = tc.addr, tc.security
			opts.Server.TLS = &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "127.0.0.1"}
			if tc.trusted {
				opts.Server.TLS.RootCAs = p.roots
			}
			_, err := Sync(context.Background(), st, opts)
			switch {
			case tc.trusted && err != nil:
				t.Errorf("%s: %v", tc.name, err)
			case !tc.trusted && (err == nil || lbsync.IsTemporary(err)):
				t.Errorf("%s: err = %v, want a permanent error", tc.name, err)
			case tc.trusted:
				if n, _ := st.UIDs(context.Background(), "INBOX"); len(n) != 2 {
					t.Errorf("%s: %d messages synced, want 2", tc.name, len(n))
				}
			}
		}
	})
}
