package imapsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// delays records the resume delays asked for and waits none of them.
type delays struct {
	mu sync.Mutex
	n  []int
}

func (d *delays) resume(attempts int) lbsync.Resume {
	return lbsync.Resume{Attempts: attempts, Delay: func(n int) time.Duration {
		d.mu.Lock()
		d.n = append(d.n, n)
		d.mu.Unlock()
		return 0
	}}
}

// TestResumeBounds: a connection lost in the middle is resumed at most
// Resume.Attempts times, with the backoff asked for each time; a refused
// login or a hostile server on the way is not retried; and the first
// connection failing is not resumed (there is nothing to resume).
func TestResumeBounds(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeIMAP)
		conns int64
		kind  lbsync.Kind
	}{
		{"cut every time", func(f *fakeIMAP) {
			f.reply["LIST"] = func(_, _ string, w io.Writer) { cut(w) }
		}, 4, lbsync.Temporary},
		{"cut, then refused", func(f *fakeIMAP) {
			f.reply["LIST"] = func(_, _ string, w io.Writer) { cut(w) }
			login := f.reply["LOGIN"]
			f.reply["LOGIN"] = func(tag, line string, w io.Writer) {
				if f.conns.Load() > 1 {
					io.WriteString(w, tag+" NO [AUTHENTICATIONFAILED] no\r\n")
					return
				}
				login(tag, line, w)
			}
		}, 2, lbsync.Auth},
		{"cut, then hostile", func(f *fakeIMAP) {
			f.reply["LIST"] = func(_, _ string, w io.Writer) {
				if f.conns.Load() > 1 {
					flood(w, "* LIST () \"/\" ", 4<<20)
				}
				cut(w)
			}
		}, 2, lbsync.Protocol},
		{"timeout, then fine", func(f *fakeIMAP) {
			f.mailbox(0)
			list := f.reply["LIST"]
			f.reply["LIST"] = func(tag, line string, w io.Writer) {
				if f.conns.Load() == 1 {
					f.stall()
				}
				list(tag, line, w)
			}
		}, 2, lbsync.Other},
		{"first connection refused", func(f *fakeIMAP) {
			f.greet = func(w io.Writer) { io.WriteString(w, "* BYE busy\r\n") }
		}, 1, lbsync.Temporary},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIMAP(t)
			tc.setup(f)
			f.start()
			var d delays
			// A short inactivity timeout only where a stall is the case
			// under test: elsewhere a loaded machine pausing in a 4 MiB
			// flood must not turn into a timeout (and a third connection).
			timeout := 10 * time.Second
			if strings.HasPrefix(tc.name, "timeout") {
				timeout = 300 * time.Millisecond
			}
			opts := Options{Account: "t", Server: Config{Addr: f.addr(), Security: SecurityNone, Login: "u", Password: "p",
				CommandTimeout: timeout}, Resume: d.resume(3)}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := Sync(ctx, newStore(t), opts)
			if k := lbsync.KindOf(err); k != tc.kind {
				t.Errorf("error %v: kind %v, want %v", err, k, tc.kind)
			}
			if n := f.conns.Load(); n != tc.conns {
				t.Errorf("%d connections, want %d", n, tc.conns)
			}
			if want := int(tc.conns - 1); len(d.n) != want {
				t.Errorf("delays asked %v, want %d", d.n, want)
			}
			for i, n := range d.n {
				if n != i {
					t.Errorf("delays asked for %v, want 0, 1, 2...", d.n)
					break
				}
			}
		})
	}
}

// TestResumeNotes: a resumed sync says so in its notes.
func TestResumeNotes(t *testing.T) {
	f := newFakeIMAP(t)
	f.mailbox(0)
	list := f.reply["LIST"]
	f.reply["LIST"] = func(tag, line string, w io.Writer) {
		if f.conns.Load() == 1 {
			cut(w)
			return
		}
		list(tag, line, w)
	}
	f.start()
	var d delays
	res, err := Sync(context.Background(), newStore(t), Options{Account: "t",
		Server: Config{Addr: f.addr(), Security: SecurityNone, Login: "u", Password: "p"}, Resume: d.resume(0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "connection lost") || !strings.Contains(res.Notes[0], "resuming in 0s (1 of 3)") {
		t.Errorf("notes %q", res.Notes)
	}
	if !errors.Is(err, nil) {
		t.Fatal(err)
	}
}

// noDelay resumes at once, three times.
var noDelay = lbsync.Resume{Delay: func(int) time.Duration { return 0 }}

// TestResumeDownload: a first sync whose connection is cut (by the
// proxy, once) at 20%, 50% and 80% of its traffic reconnects and
// finishes in the same run: the store equals the server (bodies
// included, no duplicate), every message was stored once, and the bytes
// moved over both connections exceed a clean sync's by little more
// than what went before the cut, so nothing stored was fetched again.
// Before, the cut sync failed with a Temporary error.
func TestResumeDownload(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		a := admin{t, p}
		a.seed("INBOX", "r", 40, 20<<10)
		a.seed("INBOX", "big", 2, 1500<<10)
		opts := testOptions(p)
		opts.Mailboxes = []string{"INBOX"}
		opts.Resume = noDelay
		before := p.proxy.total.Load()
		mustSync(t, newStore(t), opts)
		p.proxy.waitIdle(t)
		full := p.proxy.total.Load() - before
		for _, frac := range []float64{0.2, 0.5, 0.8} {
			st := newStore(t)
			cut := int64(frac * float64(full))
			p.proxy.cut.Store(cut)
			p.proxy.cutN.Store(1)
			p.proxy.cutOnly.Store(true)
			before := p.proxy.total.Load()
			res, err := Sync(context.Background(), st, opts)
			p.proxy.cutOnly.Store(false)
			p.proxy.cut.Store(0)
			if err != nil {
				t.Fatalf("cut at %d of %d: %v", cut, full, err)
			}
			p.proxy.waitIdle(t)
			moved := p.proxy.total.Load() - before
			if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "resuming") {
				t.Errorf("cut at %d: not resumed? notes %q", cut, res.Notes)
			}
			if res.New != 42 {
				t.Errorf("cut at %d: %d messages stored, want each of the 42 once", cut, res.New)
			}
			if slack := int64(64 << 10); moved > full+cut+slack {
				t.Errorf("cut at %d: %d bytes moved, a clean sync moves %d: something was fetched again", cut, moved, full)
			}
			sameState(t, st, a, "INBOX", true)
			t.Logf("cut at %d of %d bytes: %d moved in all", cut, full, moved)
		}
	})
}

// TestResumeReplay: local moves and flag changes whose replay is cut
// (once, at a range of offsets) are resumed in the same sync: each moved
// message is in its destination once and no longer in its source, the
// flags are set, the journal is empty and the store equals the server.
// A MOVE the server did just before the cut is not done twice: the
// resumed replay finds the message in its destination (UIDPLUS results,
// or its Message-ID there).
func TestResumeReplay(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		a := admin{t, p}
		resumed := 0
		for i, cut := range []int64{1500, 2500, 3500, 4500, 6000, 8000, 11000} {
			src, dst := fmt.Sprintf("Src%d", i), fmt.Sprintf("Dst%d", i)
			a.create(src)
			a.create(dst)
			mids := a.seed(src, fmt.Sprintf("m%d", i), 12, 3000)
			st := newStore(t)
			opts := testOptions(p)
			opts.Mailboxes = []string{src, dst}
			opts.Resume = noDelay
			mustSync(t, st, opts)
			l := &Local{Store: st}
			var move, flag []uint32
			for k, mid := range mids {
				if k%2 == 0 {
					move = append(move, localUID(t, st, src, mid))
				} else if k%3 == 0 {
					flag = append(flag, localUID(t, st, src, mid))
				}
			}
			if _, err := l.Move(ctx, src, move, dst); err != nil {
				t.Fatal(err)
			}
			if _, err := l.SetFlags(ctx, src, flag, store.FlagsAdd, []string{`\Flagged`}); err != nil {
				t.Fatal(err)
			}
			p.proxy.cut.Store(cut)
			p.proxy.cutN.Store(1)
			p.proxy.cutOnly.Store(true)
			res, err := Sync(ctx, st, opts)
			p.proxy.cutOnly.Store(false)
			p.proxy.cut.Store(0)
			if err != nil {
				t.Fatalf("cut at %d: %v", cut, err)
			}
			if len(res.Notes) > 0 && strings.Contains(res.Notes[0], "resuming") {
				resumed++
			}
			if j, _ := st.Journal(ctx); len(j) != 0 {
				t.Errorf("cut at %d: %d journal entries left", cut, len(j))
			}
			srvSrc, srvDst := a.state(src), a.state(dst)
			if len(srvDst.flags) != len(move) || len(srvSrc.flags) != len(mids)-len(move) || len(srvSrc.dups)+len(srvDst.dups) > 0 {
				t.Errorf("cut at %d: server has %d in %s, %d in %s (dups %v %v); want %d and %d",
					cut, len(srvSrc.flags), src, len(srvDst.flags), dst, srvSrc.dups, srvDst.dups, len(mids)-len(move), len(move))
			}
			flagged := 0
			for _, f := range srvSrc.flags {
				if strings.Contains(f, `\Flagged`) {
					flagged++
				}
			}
			if flagged != len(flag) {
				t.Errorf("cut at %d: %d flagged on the server, want %d", cut, flagged, len(flag))
			}
			sameState(t, st, a, src, false)
			sameState(t, st, a, dst, false)
		}
		if resumed == 0 {
			t.Error("no cut landed: the offsets miss the sync")
		}
		t.Logf("%d of 7 syncs resumed", resumed)
	})
}
