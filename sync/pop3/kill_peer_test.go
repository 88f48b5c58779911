package pop3

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// The kill test (issue 13, item 1): POP3 downloads with the delete
// policy, each a real child process (this test binary again), killed
// with SIGKILL mid-transfer behind a proxy that slows the server's bytes,
// at least 30 times; then one clean sync. The store must end with exactly
// one copy of every message, and the server with none.
const killChildEnv = "LETTERBOX_POP3_KILL_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(killChildEnv); spec != "" {
		os.Exit(killChild(spec))
	}
	os.Exit(m.Run())
}

// killSpec is what the child is told, as JSON in killChildEnv.
type killSpec struct {
	Store, Addr, Login, Password string
}

// killChild runs one delete-policy Sync into the store, over plain text.
func killChild(spec string) int {
	var ks killSpec
	if err := json.Unmarshal([]byte(spec), &ks); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, ks.Store, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	res, err := Sync(ctx, st, Options{
		Client: Config{Addr: ks.Addr, Security: SecurityNone, Login: ks.Login, Password: ks.Password},
		Policy: Policy{Kind: Delete},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("downloaded %d deleted %d\n", res.Downloaded, res.Deleted)
	return 0
}

// slowProxy forwards connections to target, passing the server's bytes at
// about rate bytes a second. Once the client has sent its first RETR, it
// counts the server's bytes; when they pass the connection's threshold
// (negative: never) it sends on hit, once.
type slowProxy struct {
	ln     net.Listener
	target string

	mu        sync.Mutex
	rate      int
	threshold int64
	hit       chan struct{}
	open      atomic.Int32 // connections open
}

func startSlowProxy(t testing.TB, target string, rate int) *slowProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &slowProxy{ln: ln, target: target, rate: rate, threshold: -1}
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

// arm sets the threshold of the next connections and returns the channel
// that says it was passed.
func (p *slowProxy) arm(threshold int64) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.threshold, p.hit = threshold, make(chan struct{}, 1)
	return p.hit
}

func (p *slowProxy) handle(c net.Conn) {
	p.mu.Lock()
	threshold, hit, rate := p.threshold, p.hit, p.rate
	p.mu.Unlock()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.open.Add(1)
	var once sync.Once
	done := func() {
		once.Do(func() {
			c.Close()
			s.Close()
			p.open.Add(-1)
		})
	}
	var retr atomic.Bool
	go func() { // client to server, watching for RETR
		defer done()
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if bytes.Contains(buf[:n], []byte("RETR ")) {
				retr.Store(true)
			}
			if n > 0 {
				if _, werr := s.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	defer done()
	const piece = 512
	buf := make([]byte, piece)
	var counted int64
	next := time.Now()
	for {
		n, err := s.Read(buf)
		if n > 0 {
			// Pace: piece bytes every piece/rate seconds.
			next = next.Add(time.Duration(n) * time.Second / time.Duration(rate))
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			} else {
				next = time.Now()
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
			if retr.Load() {
				counted += int64(n)
				if threshold >= 0 && counted >= threshold {
					select {
					case hit <- struct{}{}:
					default:
					}
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func TestKillDuringDeleteDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test is slow")
	}
	p := dovecotPeer(t)
	const total = 600
	msgs := testCorpus(11, total-4, "kill")
	want := fill(t, p, msgs)
	// About 1 MB/s: a message takes some 30 ms to arrive, so a kill lands
	// while earlier messages are being stored.
	proxy := startSlowProxy(t, p.plain, 1<<20)
	root := filepath.Join(t.TempDir(), "store")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(killSpec{Store: root, Addr: proxy.ln.Addr().String(), Login: p.cfg.Login, Password: p.cfg.Password})
	run := func(threshold int64) (killedMid bool, out string, err error) {
		hit := proxy.arm(threshold)
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), killChildEnv+"="+string(spec))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-hit:
			mid := proxy.open.Load() > 0
			cmd.Process.Kill()
			<-exited
			return mid, stdout.String(), nil
		case err := <-exited:
			if err != nil {
				return false, stdout.String(), fmt.Errorf("%v: %s", err, stderr.String())
			}
			return false, stdout.String(), nil
		}
	}
	seed := faultSeed(t)
	t.Logf("seed %d (LETTERBOX_FAULT_SEED to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	kills := 0
	for round := 0; kills < 30; round++ {
		if round == 100 {
			t.Fatalf("only %d of 100 kills landed mid-transfer", kills)
		}
		mid, out, err := run(1 + rng.Int64N(192<<10))
		if err != nil {
			t.Fatalf("round %d: child failed: %v", round, err)
		}
		if !mid {
			t.Fatalf("round %d: the download finished before the kill (%s): too few messages for 30 kills", round, out)
		}
		kills++
		noDuplicates(t, round, root)
	}
	proxy.mu.Lock()
	proxy.rate = 1 << 30 // the clean sync need not crawl
	proxy.mu.Unlock()
	if _, out, err := run(-1); err != nil {
		t.Fatalf("clean sync: %v", err)
	} else {
		t.Logf("%d kills mid-transfer; clean sync: %s", kills, out)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	local := localDigests(t, st)
	if d := duplicates(local); len(d) > 0 || !slices.Equal(local, want) {
		t.Errorf("store holds %d messages for %d delivered; %d duplicated, %d missing", len(local), len(want), len(d), len(missing(want, local)))
	}
	if left := p.digests(t); len(left) != 0 {
		t.Errorf("%d messages left on the server after a clean delete-policy sync", len(left))
	}
	rep, err := st.Check(ctx, false)
	if err != nil || !rep.Clean() {
		t.Errorf("check: %v %+v", err, rep)
	}
}

// noDuplicates reopens the store after a kill and fails on a message
// stored twice.
func noDuplicates(t *testing.T, round int, root string) {
	t.Helper()
	if _, err := os.Stat(root); os.IsNotExist(err) {
		return
	}
	st, err := store.Open(context.Background(), root, nil)
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	defer st.Close()
	if d := duplicates(localDigests(t, st)); len(d) > 0 {
		t.Fatalf("round %d: %d messages stored twice after the kill: %v", round, len(d), d)
	}
}
