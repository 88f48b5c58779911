package imapsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// model is what the test expects on the server: Message-ID -> mailbox
// and flags. Local actions touch only "l-" and "a-" messages, server-side
// ones only "s-" messages, so the expected state is exact.
type model map[string]*modelMsg

type modelMsg struct {
	mb    string
	flags map[string]bool
}

func (m model) add(mid, mb string, flags ...string) {
	mm := &modelMsg{mb: mb, flags: map[string]bool{}}
	for _, f := range flags {
		mm.flags[f] = true
	}
	m[mid] = mm
}

func (m model) toggle(mid, flag string) {
	m[mid].flags[flag] = !m[mid].flags[flag]
}

// box returns the expected state of mailbox mb.
func (m model) box(mb string) map[string]string {
	out := map[string]string{}
	for mid, mm := range m {
		if mm.mb != mb {
			continue
		}
		var fl []string
		for f, on := range mm.flags {
			if on {
				fl = append(fl, f)
			}
		}
		out[mid] = flagString(fl)
	}
	return out
}

// TestFaults: 50 syncs in a row, each cut by the proxy at a random byte
// offset while local and server-side changes keep coming, then a clean
// sync: the store equals the server exactly (Message-IDs, flags and
// bytes), with no duplicates, and the server equals the model, so nothing
// was lost.
func TestFaults(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LETTERBOX_FAULT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	forEachPeer(t, func(t *testing.T, p *peer) {
		t.Logf("LETTERBOX_FAULT_SEED=%d", seed)
		rng := rand.New(rand.NewPCG(seed, 7))
		ctx := context.Background()
		a := admin{t, p}
		a.create("Archive")
		m := model{}
		for _, mid := range a.seed("INBOX", "l", 24, 2500) {
			m.add(mid, "INBOX")
		}
		a.append("INBOX", testMsg("l-big@example.test", 1200<<10), nil, time.Now())
		m.add("l-big@example.test", "INBOX")
		st := newStore(t)
		opts := testOptions(p)
		opts.Mailboxes = []string{"INBOX", "Archive", "Trash", "Sent"}
		// Every connection is cut at the round's offset, the resumed ones
		// too: one resume per round, at once.
		opts.Resume = lbsync.Resume{Attempts: 1, Delay: func(int) time.Duration { return 0 }}
		l := &Local{Store: st}
		serverSeq, appendSeq, completed := 0, 0, 0
		// Cuts fall log-uniformly below twice the traffic of the last
		// complete sync (the first one, which downloads everything, is
		// bigger), so most syncs are cut, at every stage.
		traffic := int64(3e6)
		for round := range 50 {
			serverStep(t, rng, a, m, &serverSeq)
			localStep(t, rng, ctx, st, l, m, &appendSeq)
			hi := float64(max(2*traffic, 4000))
			cut := int64(math.Exp(math.Log(40) + rng.Float64()*(math.Log(hi)-math.Log(40))))
			if p.keepsCutAppend && pendingAppend(t, st) {
				cut = 0
			}
			p.proxy.cut.Store(cut)
			sctx, cancel := context.WithTimeout(ctx, time.Minute)
			_, err := Sync(sctx, st, opts)
			cancel()
			switch {
			case err == nil:
				completed++
				p.proxy.waitIdle(t) // the connection's bytes are counted when it ends
				traffic = p.proxy.last.Load()
			case !lbsync.IsTemporary(err):
				t.Fatalf("round %d (cut at %d): not a temporary error: %v", round, cut, err)
			}
		}
		t.Logf("%d of 50 cut syncs completed before their cut", completed)
		p.proxy.cut.Store(0)
		mustSync(t, st, opts)
		if j, _ := st.Journal(ctx); len(j) != 0 {
			t.Errorf("journal not drained: %d entries", len(j))
		}
		for _, mb := range opts.Mailboxes {
			sameState(t, st, a, mb, true)
			got, want := a.state(mb).flags, m.box(mb)
			for mid, f := range want {
				if g, ok := got[mid]; !ok {
					t.Errorf("%s: lost %s", mb, mid)
				} else if g != f {
					t.Errorf("%s: %s has %q on the server, want %q", mb, mid, g, f)
				}
			}
			for mid := range got {
				if _, ok := want[mid]; !ok {
					t.Errorf("%s: unexpected %s on the server", mb, mid)
				}
			}
		}
	})
}

// serverStep makes a random change on the server as another client.
func serverStep(t *testing.T, rng *rand.Rand, a admin, m model, seq *int) {
	var mine []string
	for mid, mm := range m {
		if strings.HasPrefix(mid, "s-") && mm.mb == "INBOX" {
			mine = append(mine, mid)
		}
	}
	slices.Sort(mine)
	switch op := rng.IntN(4); {
	case op == 0 || len(mine) == 0:
		mid := fmt.Sprintf("s-%d@example.test", *seq)
		*seq++
		a.append("INBOX", testMsg(mid, 1000+rng.IntN(4000)), nil, time.Now())
		m.add(mid, "INBOX")
	case op == 1:
		mid := mine[rng.IntN(len(mine))]
		if m[mid].flags[`\Seen`] {
			a.flag("INBOX", mid, imap.StoreFlagsDel, `\Seen`)
		} else {
			a.flag("INBOX", mid, imap.StoreFlagsAdd, `\Seen`)
		}
		m.toggle(mid, `\Seen`)
	case op == 2:
		mid := mine[rng.IntN(len(mine))]
		a.expunge("INBOX", mid)
		delete(m, mid)
	}
}

// localStep makes a random local action on an "l-" message the store has.
func localStep(t *testing.T, rng *rand.Rand, ctx context.Context, st *store.Store, l *Local, m model, seq *int) {
	t.Helper()
	type loc struct {
		mb  string
		uid uint32
		mid string
	}
	var mine []loc
	for _, mb := range []string{"INBOX", "Archive", "Trash"} {
		msgs, err := st.Fetch(ctx, mb, nil)
		if errors.Is(err, store.ErrNotFound) {
			return // not synced yet
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range msgs {
			if mid := normMID(msg.MessageID); strings.HasPrefix(mid, "l-") {
				mine = append(mine, loc{mb, msg.UID, mid})
			}
		}
	}
	if len(mine) == 0 {
		return
	}
	x := mine[rng.IntN(len(mine))]
	var err error
	switch rng.IntN(5) {
	case 0:
		flag := []string{`\Seen`, `\Flagged`, "$Label"}[rng.IntN(3)]
		op := store.FlagsAdd
		if m[x.mid].flags[flag] {
			op = store.FlagsRemove
		}
		_, err = l.SetFlags(ctx, x.mb, []uint32{x.uid}, op, []string{flag})
		m.toggle(x.mid, flag)
	case 1:
		dst := map[string]string{"INBOX": "Archive", "Archive": "INBOX", "Trash": "INBOX"}[x.mb]
		_, err = l.Move(ctx, x.mb, []uint32{x.uid}, dst)
		m[x.mid].mb = dst
	case 2:
		err = l.Delete(ctx, x.mb, []uint32{x.uid}, "Trash")
		if x.mb == "Trash" {
			delete(m, x.mid)
		} else {
			m[x.mid].mb = "Trash"
		}
	case 3:
		mid := fmt.Sprintf("a-%d@example.test", *seq)
		*seq++
		_, err = l.Append(ctx, "Sent", bytes.NewReader(testMsg(mid, 800)), []string{`\Seen`})
		m.add(mid, "Sent", `\Seen`)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// pendingAppend reports whether the journal holds an upload.
func pendingAppend(t *testing.T, st *store.Store) bool {
	j, err := st.Journal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(j, func(e store.JournalEntry) bool { return e.Op == opAppend })
}
