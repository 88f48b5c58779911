package pop3

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// cutProxy forwards connections on 127.0.0.1 to target and cuts each one
// (closes both sides) once budget octets have passed, counting both
// directions together; a negative budget never cuts. When down, it
// closes every connection at once, like a server that is not there.
type cutProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	budget int64
	down   bool
	// once limits the budget to the next connection: the ones after go
	// through whole.
	once bool
	// octets counts what all connections moved.
	octets atomic.Int64
}

func startProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, budget: -1}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) set(budget int64, down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.budget, p.down = budget, down
}

func (p *cutProxy) handle(c net.Conn) {
	p.mu.Lock()
	budget, down := p.budget, p.down
	if p.once {
		p.budget, p.once = -1, false
	}
	p.mu.Unlock()
	if down {
		c.Close()
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	var mu sync.Mutex
	left := budget
	cut := func() { c.Close(); s.Close() }
	pump := func(dst, src net.Conn) {
		defer cut()
		buf := make([]byte, 16<<10)
		for {
			n, err := src.Read(buf)
			allow, last := n, false
			if budget >= 0 {
				mu.Lock()
				allow = int(min(int64(n), left))
				left -= int64(allow)
				last = left == 0
				mu.Unlock()
			}
			if allow > 0 {
				p.octets.Add(int64(allow))
				if _, err := dst.Write(buf[:allow]); err != nil {
					return
				}
			}
			if err != nil || last {
				return
			}
		}
	}
	go pump(s, c)
	pump(c, s)
}

// faultSeed is LETTERBOX_FAULT_SEED, or the clock; it is logged so a
// failing run can be repeated.
func faultSeed(t *testing.T) uint64 {
	if s := os.Getenv("LETTERBOX_FAULT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestInterruptedSyncs cuts the connection at a random octet in 50 syncs
// in a row, with the delete, keep and keep-days policies in turn and new
// mail arriving now and then, over plain text and STLS; then syncs
// cleanly. After every round, with the store reopened from disk: no
// message is stored twice, every message delivered is in the store or
// still on the server (so nothing was deleted there that is not stored
// durably), and every failure is temporary. At the end the store holds
// exactly what was delivered.
func TestInterruptedSyncs(t *testing.T) {
	forPeers(t, func(t *testing.T, p *peer) {
		seed := faultSeed(t)
		t.Logf("seed %d (LETTERBOX_FAULT_SEED to repeat)", seed)
		rng := rand.New(rand.NewPCG(seed, 0))
		size := map[string]int{}
		var delivered []string
		deliver := func(msgs [][]byte) {
			for _, m := range msgs {
				size[digest(m)] = len(m)
			}
			delivered = append(delivered, fill(t, p, msgs)...)
			slices.Sort(delivered)
		}
		deliver(testCorpus(int64(seed%1000), 40, "f"))
		proxy := startProxy(t, p.plain)
		dir := t.TempDir()
		local := func() []string {
			st := openStore(t, dir, true)
			defer st.Close()
			return localDigests(t, st)
		}
		policies := []Policy{{Kind: Delete}, {Kind: Keep}, {Kind: KeepDays, Days: 1}}
		start := time.Now()
		cuts, round := 0, 0
		// Until 50 syncs were interrupted: a cut placed past the end of
		// a session lets it complete, which is a round but no fault.
		for ; cuts < 50; round++ {
			if round > 200 {
				t.Fatalf("only %d of %d rounds interrupted", cuts, round)
			}
			if round%5 == 4 {
				deliver(testCorpus(int64(round), 3, "r"+strconv.Itoa(round)))
			}
			have := local()
			remaining := 0
			for _, d := range missing(delivered, have) {
				remaining += size[d]
			}
			cfg := Config{Addr: proxy.addr(), Security: SecurityNone, Login: p.cfg.Login, Password: p.cfg.Password, Timeout: 10 * time.Second}
			// The octets of a session besides the messages: greeting,
			// login, UIDL, DELE, QUIT (and TLS).
			overhead := int64(400 + 60*len(delivered))
			if round%4 == 3 {
				cfg.Security, cfg.TLS = SecurityStartTLS, p.cfg.TLS
				overhead += 4000
			}
			// Cut anywhere in the session, or, two times in five, past
			// the downloads: in the deletions and QUIT.
			budget := rng.Int64N(int64(remaining) + overhead)
			if rng.IntN(5) < 2 {
				budget = int64(remaining) + rng.Int64N(overhead)
			}
			proxy.set(budget, false)
			later := time.Now().Add(48 * time.Hour)
			// No resume: each round is one interrupted session.
			opts := Options{Client: cfg, Policy: policies[round%3], Now: func() time.Time { return later }, Resume: lbsync.Resume{Attempts: -1}}
			st := openStore(t, dir, true)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			res, err := Sync(ctx, st, opts)
			cancel()
			st.Close()
			t.Logf("round %d: %s, cut at %d of ~%d: %+v, %v", round, opts.Policy, budget, remaining, res, err)
			if err != nil {
				cuts++
				if !lbsync.IsTemporary(err) {
					t.Fatalf("round %d: an interruption is not a temporary error: %v", round, err)
				}
			}
			checkNothingLost(t, round, delivered, local(), p.digests(t))
		}
		t.Logf("%d rounds, %d interrupted, in %v", round, cuts, time.Since(start).Round(time.Millisecond))

		// Clean syncs: keep, then delete.
		proxy.set(-1, false)
		for _, policy := range []Policy{{Kind: Keep}, {Kind: Delete}} {
			st := openStore(t, dir, true)
			cfg := p.cfg
			cfg.Addr, cfg.Security = proxy.addr(), SecurityStartTLS
			var err error
			for try := 0; try < 50; try++ { // a cut session may hold the mailbox a moment
				if _, err = Sync(context.Background(), st, Options{Client: cfg, Policy: policy}); !errors.Is(err, ErrInUse) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			st.Close()
			if err != nil {
				t.Fatalf("clean sync (%s): %v", policy, err)
			}
			if got := local(); !slices.Equal(got, delivered) {
				t.Fatalf("after a clean sync (%s) the store has %d messages, want the %d delivered\nmissing %v\nextra %v",
					policy, len(got), len(delivered), missing(delivered, got), missing(got, delivered))
			}
		}
		if left := p.digests(t); len(left) != 0 {
			t.Fatalf("%d messages left on the server after a clean delete", len(left))
		}
	})
}

// checkNothingLost asserts the invariants of an interrupted sync.
func checkNothingLost(t *testing.T, round int, delivered, local, server []string) {
	t.Helper()
	if d := duplicates(local); len(d) > 0 {
		t.Fatalf("round %d: stored twice: %v", round, d)
	}
	if extra := missing(local, delivered); len(extra) > 0 {
		t.Fatalf("round %d: stored but never delivered: %v", round, extra)
	}
	both := slices.Concat(local, server)
	slices.Sort(both)
	if lost := missing(delivered, both); len(lost) > 0 {
		t.Fatalf("round %d: lost (deleted on the server, not stored): %v", round, lost)
	}
}

// TestOffline: with the server unreachable a Sync fails fast with a
// temporary error and changes nothing; when it is back, it completes.
func TestOffline(t *testing.T) {
	forPeers(t, func(t *testing.T, p *peer) {
		want := fill(t, p, testCorpus(5, 5, "o"))
		cfg := p.cfg
		offline, online := func() {}, func() {}
		if p.stop != nil {
			offline, online = func() { p.stop(t) }, func() { p.restart(t) }
		} else {
			proxy := startProxy(t, p.cfg.Addr)
			cfg.Addr = proxy.addr()
			offline, online = func() { proxy.set(-1, true) }, func() { proxy.set(-1, false) }
		}
		st := openStore(t, t.TempDir(), false)
		offline()
		start := time.Now()
		_, err := Sync(context.Background(), st, Options{Client: cfg, Policy: Policy{Kind: Delete}})
		if !lbsync.IsTemporary(err) || time.Since(start) > 5*time.Second {
			t.Fatalf("offline: %v after %v", err, time.Since(start))
		}
		ids, _ := st.RemoteIDs(context.Background())
		if got := localDigests(t, st); len(got) != 0 || len(ids) != 0 {
			t.Fatalf("offline sync changed the store: %d messages, %d ids", len(got), len(ids))
		}
		online()
		res, err := Sync(context.Background(), st, Options{Client: cfg, Policy: Policy{Kind: Delete}})
		if err != nil || res.Downloaded != len(want) {
			t.Fatalf("back online: %+v, %v", res, err)
		}
		if got := localDigests(t, st); !slices.Equal(got, want) {
			t.Fatalf("store %v, want %v", got, want)
		}
	})
}

// TestResumeDownload: a download whose connection is cut once (at the
// start, in the middle or at the end of the messages) is resumed in the
// same Sync: it ends without error, every message is stored exactly
// once, nothing stored is downloaded again (the octets moved stay within
// twice the messages plus what went before the cut), and with the delete
// policy the server keeps nothing the store does not have durably
// (nothing, at the end). Before, the cut ended the Sync with a
// Temporary error.
func TestResumeDownload(t *testing.T) {
	forPeers(t, func(t *testing.T, p *peer) {
		proxy := startProxy(t, p.plain)
		cfg := Config{Addr: proxy.addr(), Security: SecurityNone, Login: p.cfg.Login, Password: p.cfg.Password, Timeout: 10 * time.Second}
		// A server may hold the mailbox of the cut session a moment
		// ([IN-USE]): many quick resumes.
		resume := lbsync.Resume{Attempts: 20, Delay: func(int) time.Duration { return 100 * time.Millisecond }}
		var want []string
		for i, frac := range []float64{0.1, 0.5, 0.9, 0.999} {
			msgs := testCorpus(int64(10+i), 30, fmt.Sprintf("r%d", i))
			want = append(want, fill(t, p, msgs)...)
			slices.Sort(want)
			size := 0
			for _, m := range msgs {
				size += len(m)
			}
			cut := int64(frac * float64(size))
			proxy.mu.Lock()
			proxy.budget, proxy.once = cut, true
			proxy.mu.Unlock()
			st := openStore(t, t.TempDir()+"/s", true)
			before := proxy.octets.Load()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			resumed := 0
			report := func(e lbsync.Event) {
				if strings.Contains(e.Note, "resuming") {
					resumed++
				}
			}
			res, err := Sync(ctx, st, Options{Client: cfg, Policy: Policy{Kind: Delete}, Resume: resume, Report: report})
			cancel()
			if resumed == 0 {
				t.Errorf("cut at %d of %d: not resumed", cut, size)
			}
			if err != nil {
				t.Fatalf("cut at %d of %d: %v", cut, size, err)
			}
			got := localDigests(t, st)
			st.Close()
			if d := duplicates(got); len(d) > 0 {
				t.Fatalf("cut at %d: stored twice: %v", cut, d)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("cut at %d: store has %d messages, want %d", cut, len(got), len(want))
			}
			if left := p.digests(t); len(left) != 0 {
				t.Errorf("cut at %d: %d messages left on the server", cut, len(left))
			}
			if moved := proxy.octets.Load() - before; moved > int64(2*size)+cut {
				t.Errorf("cut at %d: %d octets moved for %d of messages: downloaded again?", cut, moved, size)
			}
			t.Logf("cut at %d of %d: %+v", cut, size, res)
			want = nil // delivered and deleted: the next round starts empty
		}
	})
}
