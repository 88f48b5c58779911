package imapsync

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// testMsg builds a message with Message-ID <mid> and a body of about
// size bytes.
func testMsg(mid string, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Bob <bob@example.test>\r\nTo: Ann <ann@example.test>\r\nSubject: message %s\r\n", mid)
	fmt.Fprintf(&b, "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <%s>\r\nContent-Type: text/plain\r\n\r\n", mid)
	for line := 0; b.Len() < size; line++ {
		fmt.Fprintf(&b, "line %d of %s: the quick brown fox jumps over the lazy dog\r\n", line, mid)
	}
	return b.Bytes()
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func testOptions(p *peer) Options {
	return Options{Account: "test", Server: p.config(), AllMailboxes: true}
}

// mustSync runs a sync that must succeed.
func mustSync(t *testing.T, st *store.Store, opts Options) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Sync(ctx, st, opts)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return res
}

// admin talks to the server directly, one connection per call, to seed
// and inspect it as another client would.
type admin struct {
	t *testing.T
	p *peer
}

func (a admin) do(fn func(c *imapclient.Client) error) {
	a.t.Helper()
	// Our server can fail a FETCH with NO [SERVERBUG] when another
	// session's flag change renamed the message file under it (a store
	// race, reported); reads are retried rather than failing the test.
	var err error
	for try := 0; try < 3; try++ {
		if err = a.try(fn); err == nil || !isNo(err, imap.ResponseCodeServerBug) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		a.t.Fatal(err)
	}
}

func (a admin) try(fn func(c *imapclient.Client) error) error {
	c, err := imapclient.DialInsecure(a.p.direct, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(testUser, testPass).Wait(); err != nil {
		return err
	}
	if err := fn(c); err != nil {
		return err
	}
	c.Logout().Wait()
	return nil
}

func (a admin) append(mb string, raw []byte, flags []string, date time.Time) {
	a.t.Helper()
	a.do(func(c *imapclient.Client) error {
		var fl []imap.Flag
		for _, f := range flags {
			fl = append(fl, imap.Flag(f))
		}
		cmd := c.Append(mb, int64(len(raw)), &imap.AppendOptions{Flags: fl, Time: date})
		cmd.Write(raw)
		cmd.Close()
		_, err := cmd.Wait()
		return err
	})
}

// seed appends n messages "<prefix>-<i>" of about size bytes to mb.
func (a admin) seed(mb, prefix string, n, size int) []string {
	a.t.Helper()
	var mids []string
	for i := range n {
		mid := fmt.Sprintf("%s-%d@example.test", prefix, i)
		a.append(mb, testMsg(mid, size), nil, time.Now())
		mids = append(mids, mid)
	}
	return mids
}

func (a admin) create(mb string) {
	a.t.Helper()
	a.do(func(c *imapclient.Client) error {
		if err := c.Create(mb, nil).Wait(); err != nil && !isNo(err, imap.ResponseCodeAlreadyExists) {
			return err
		}
		return c.Subscribe(mb).Wait()
	})
}

func (a admin) deleteMailbox(mb string) {
	a.t.Helper()
	a.do(func(c *imapclient.Client) error { return c.Delete(mb).Wait() })
}

// onMessage selects mb and calls fn with the UID of Message-ID mid.
func (a admin) onMessage(mb, mid string, fn func(c *imapclient.Client, set imap.UIDSet) error) {
	a.t.Helper()
	a.do(func(c *imapclient.Client) error {
		if _, err := c.Select(mb, nil).Wait(); err != nil {
			return err
		}
		crit := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + mid + ">"}}}
		data, err := c.UIDSearch(crit, nil).Wait()
		if err != nil {
			return err
		}
		set, _ := data.All.(imap.UIDSet)
		if len(set) == 0 {
			return fmt.Errorf("%s: no message %s", mb, mid)
		}
		return fn(c, set)
	})
}

func (a admin) flag(mb, mid string, op imap.StoreFlagsOp, flags ...string) {
	a.t.Helper()
	a.onMessage(mb, mid, func(c *imapclient.Client, set imap.UIDSet) error {
		var fl []imap.Flag
		for _, f := range flags {
			fl = append(fl, imap.Flag(f))
		}
		return c.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: fl}, nil).Close()
	})
}

func (a admin) expunge(mb, mid string) {
	a.t.Helper()
	a.onMessage(mb, mid, func(c *imapclient.Client, set imap.UIDSet) error {
		if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return err
		}
		return c.UIDExpunge(set).Close()
	})
}

func (a admin) move(mb, mid, dst string) {
	a.t.Helper()
	a.onMessage(mb, mid, func(c *imapclient.Client, set imap.UIDSet) error {
		_, err := c.Move(set, dst).Wait()
		return err
	})
}

// boxState maps Message-ID to sorted flags; dups lists Message-IDs
// seen more than once.
type boxState struct {
	flags  map[string]string
	bodies map[string][]byte
	dups   []string
}

var midSection = &imap.FetchItemBodySection{Peek: true}

// state reads mailbox mb from the server, bodies included.
func (a admin) state(mb string) boxState {
	a.t.Helper()
	s := boxState{flags: map[string]string{}, bodies: map[string][]byte{}}
	a.do(func(c *imapclient.Client) error {
		sel, err := c.Select(mb, nil).Wait()
		if err != nil || sel.NumMessages == 0 {
			return err
		}
		msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true,
			BodySection: []*imap.FetchItemBodySection{midSection}}).Collect()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			raw := m.FindBodySection(midSection)
			s.add(messageID(raw), flagString(cleanFlags(m.Flags)), raw)
		}
		return nil
	})
	return s
}

func (s *boxState) add(mid, flags string, raw []byte) {
	if _, ok := s.flags[mid]; ok {
		s.dups = append(s.dups, mid)
	}
	s.flags[mid] = flags
	s.bodies[mid] = raw
}

func flagString(flags []string) string {
	c, _ := store.CanonicalFlags(flags)
	return strings.Join(c, " ")
}

// localState reads mailbox mb from the store; partial counts messages
// with only their header.
func localState(t *testing.T, st *store.Store, mb string) (s boxState, partial int) {
	t.Helper()
	ctx := context.Background()
	s = boxState{flags: map[string]string{}, bodies: map[string][]byte{}}
	ri, err := st.RemoteIndex(ctx, mb)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Fetch(ctx, mb, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ri {
		if r.Partial && !r.Elsewhere {
			partial++
		}
	}
	for _, m := range msgs {
		f, err := st.OpenRaw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(f)
		f.Close()
		s.add(normMID(m.MessageID), flagString(m.Flags), raw)
	}
	return s, partial
}

// sameState fails the test unless store and server agree on mailbox mb:
// the same Message-IDs with the same flags, no duplicates on either
// side, and (with bodies) byte-identical messages.
func sameState(t *testing.T, st *store.Store, a admin, mb string, bodies bool) {
	t.Helper()
	srv := a.state(mb)
	loc, partial := localState(t, st, mb)
	if len(srv.dups) > 0 || len(loc.dups) > 0 {
		t.Errorf("%s: duplicates on server %v, in store %v", mb, srv.dups, loc.dups)
	}
	for mid, f := range srv.flags {
		lf, ok := loc.flags[mid]
		switch {
		case !ok:
			t.Errorf("%s: %s on the server, not in the store", mb, mid)
		case lf != f:
			t.Errorf("%s: %s flags: store %q, server %q", mb, mid, lf, f)
		case bodies && !bytes.Equal(loc.bodies[mid], srv.bodies[mid]):
			t.Errorf("%s: %s: store body (%d bytes) differs from server's (%d)", mb, mid, len(loc.bodies[mid]), len(srv.bodies[mid]))
		}
	}
	for mid := range loc.flags {
		if _, ok := srv.flags[mid]; !ok {
			t.Errorf("%s: %s in the store, not on the server", mb, mid)
		}
	}
	if bodies && partial > 0 {
		t.Errorf("%s: %d messages still partial", mb, partial)
	}
}

// localUID returns the local UID of Message-ID mid in mb.
func localUID(t *testing.T, st *store.Store, mb, mid string) uint32 {
	t.Helper()
	msgs, err := st.Fetch(context.Background(), mb, nil)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(msgs, func(m store.Message) bool { return normMID(m.MessageID) == mid })
	if i < 0 {
		t.Fatalf("%s: no local message %s", mb, mid)
	}
	return msgs[i].UID
}

// events records progress events.
type events struct {
	mu   sync.Mutex
	list []lbsync.Event
}

func (ev *events) reporter() lbsync.Reporter {
	return func(e lbsync.Event) {
		ev.mu.Lock()
		ev.list = append(ev.list, e)
		ev.mu.Unlock()
	}
}

func (ev *events) notes() []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var out []string
	for _, e := range ev.list {
		if e.Note != "" {
			out = append(out, e.Note)
		}
	}
	return out
}
