package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// TestKillDuringReplay is issue 13's proof for the journal: 200 moves and
// 200 flag changes made offline are replayed by `letterbox sync` run as a
// child process behind a throttled proxy, and the child is killed with
// SIGKILL again and again while the replay is moving bytes (at least 30
// kills land after a replayed command went out and while the connection
// is in the middle of a transfer). A last sync runs to its end. Then the
// store equals the private Dovecot, which equals the model: each message
// once, in its folder, with its flags; the journal is empty and nothing
// failed.
func TestKillDuringReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 30+ sync processes")
	}
	const user, pw, n = "ann@example.test", "pw", 400
	d := testpeer.StartDovecot(t, map[string]string{user: pw})
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LETTERBOX_FAULT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("LETTERBOX_FAULT_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 13))

	// 400 messages in INBOX, appended on one connection.
	mid := func(i int) string { return fmt.Sprintf("k%03d@example.test", i) }
	admin(t, d.IMAP, user, pw, func(c *imapclient.Client) error {
		for i := range n {
			raw := fmt.Sprintf("From: bob@example.test\r\nTo: %s\r\nSubject: kill %d\r\nMessage-ID: <%s>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\n%s\r\n",
				user, i, mid(i), strings.Repeat("line of text\r\n", 20))
			cmd := c.Append("INBOX", int64(len(raw)), nil)
			cmd.Write([]byte(raw))
			cmd.Close()
			if _, err := cmd.Wait(); err != nil {
				return err
			}
		}
		return nil
	})

	px := newThrottledProxy(t, d.IMAP, 48<<10)
	_, port, _ := net.SplitHostPort(px.addr())
	dir := t.TempDir()
	cfgPath, data := filepath.Join(dir, "config.toml"), filepath.Join(dir, "data")
	cfg := fmt.Sprintf(`[[account]]
name = "ann"
email = %q
mode = "imap"
password_cmd = "echo %s"
[account.imap]
host = "127.0.0.1"
port = %s
security = "none"
[account.smtp]
host = "127.0.0.1"
port = 1
security = "none"
`, user, pw, port)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := cli(t, dir, "", "sync", "ann"); code != 0 {
		t.Fatalf("first sync: %s %s", out, errs)
	}

	// Offline: 200 moves to Archive (0..199) and 200 flag changes
	// (100..299 flagged), interleaved, one journal entry each; the flags
	// of 100..199 change before those messages move.
	want := map[string]string{} // Message-ID -> "folder flags"
	for i := range n {
		box, fl := "INBOX", ""
		if i < 200 {
			box = "Archive"
		}
		if i >= 100 && i < 300 {
			fl = `\Flagged`
		}
		want[mid(i)] = box + " " + fl
	}
	withAccount(context.Background(), &env{configFile: cfgPath, dataDir: data, getenv: os.Getenv, stderr: io.Discard}, "ann", func(a *accounts.Account) error {
		ctx := context.Background()
		ids := map[string]int64{}
		msgs, err := a.List(ctx, "INBOX", "", n+10)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			ids[m.MessageID] = m.ID
		}
		if len(ids) != n {
			t.Fatalf("%d messages after the first sync", len(ids))
		}
		for i := range 200 {
			if err := a.Move(ctx, []int64{ids[mid(i)]}, "Archive"); err != nil {
				return err
			}
			if err := a.SetFlags(ctx, []int64{ids[mid(i+100)]}, []string{accounts.FlagFlagged}, nil); err != nil {
				return err
			}
		}
		if j, _ := a.PendingChanges(ctx); len(j) != 400 {
			t.Fatalf("%d journal entries, want 400", len(j))
		}
		return nil
	})

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pending := func() int {
		var left int
		withAccount(context.Background(), &env{configFile: cfgPath, dataDir: data, getenv: os.Getenv, stderr: io.Discard}, "ann", func(a *accounts.Account) error {
			j, err := a.PendingChanges(context.Background())
			left = len(j)
			return err
		})
		return left
	}
	kills, replayKills, rounds := 0, 0, 0
	for left := 400; left > 0; rounds++ {
		if rounds > 400 {
			t.Fatalf("the journal does not drain: %d entries left after %d rounds", left, rounds)
		}
		// Kill at a random byte of the connection, once the replay has
		// begun; after enough kills, let a sync run to its end.
		cut := int64(0)
		if replayKills < 40 {
			// Past the bytes the last connection needed to start
			// replaying (login, LIST, SELECT), by a few commands at most.
			cut = 500 + rng.Int64N(6000)
			if at := px.replayAt.Load(); at > 0 {
				cut = at + 1 + rng.Int64N(1200)
			}
		}
		px.arm(cut)
		cmd := exec.Command(exe, "--config", cfgPath, "--data", data, "sync", "ann")
		cmd.Env = append(os.Environ(), "LETTERBOX_TEST_MAIN=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-px.stalled:
			// The connection is stopped mid-transfer: kill now.
			cmd.Process.Kill()
			<-exited
			kills++
			if px.replayed.Load() {
				replayKills++
			}
		case err := <-exited:
			if err != nil && cut == 0 {
				t.Fatalf("the last sync failed: %v\n%s", err, out.String())
			}
		}
		px.release()
		left = pending()
	}
	t.Logf("%d rounds, %d kills, %d of them while the replay was moving bytes", rounds, kills, replayKills)
	if replayKills < 30 {
		t.Errorf("only %d kills landed during the replay, want at least 30", replayKills)
	}
	px.arm(0)
	if code, out, errs := cli(t, dir, "", "sync", "ann"); code != 0 {
		t.Fatalf("final sync: %s %s", out, errs)
	}

	// The server equals the model, and the store equals the server.
	server := map[string]string{}
	admin(t, d.IMAP, user, pw, func(c *imapclient.Client) error {
		for _, box := range []string{"INBOX", "Archive"} {
			for id, fl := range serverBox(t, c, box) {
				if _, dup := server[id]; dup {
					t.Errorf("%s twice on the server", id)
				}
				server[id] = box + " " + fl
			}
		}
		return nil
	})
	local := map[string]string{}
	withAccount(context.Background(), &env{configFile: cfgPath, dataDir: data, getenv: os.Getenv, stderr: io.Discard}, "ann", func(a *accounts.Account) error {
		for _, box := range []string{"INBOX", "Archive"} {
			msgs, err := a.List(context.Background(), box, "", 2*n)
			if err != nil {
				return err
			}
			for _, m := range msgs {
				if _, dup := local[m.MessageID]; dup {
					t.Errorf("%s twice in the store", m.MessageID)
				}
				local[m.MessageID] = box + " " + flagText(m.Flags)
			}
		}
		j, err := a.PendingChanges(context.Background())
		if err != nil || len(j) != 0 {
			t.Errorf("journal after the final sync: %+v, %v", j, err)
		}
		return err
	})
	for id, w := range want {
		if server[id] != w {
			t.Errorf("server: %s is %q, want %q", id, server[id], w)
		}
		if local[id] != w {
			t.Errorf("store: %s is %q, want %q", id, local[id], w)
		}
	}
	if len(server) != n || len(local) != n {
		t.Errorf("%d messages on the server, %d in the store, want %d", len(server), len(local), n)
	}
}

// admin runs fn on a fresh logged-in connection to addr.
func admin(t *testing.T, addr, user, pw string, fn func(c *imapclient.Client) error) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := fn(c); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
}

// serverBox maps the Message-IDs of box to their flags (\Recent left out).
func serverBox(t *testing.T, c *imapclient.Client, box string) map[string]string {
	t.Helper()
	sel, err := c.Select(box, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	if sel.NumMessages == 0 {
		return out
	}
	hdr := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{hdr}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		v := string(m.FindBodySection(hdr))
		_, v, _ = strings.Cut(v, "<")
		v, _, _ = strings.Cut(v, ">")
		var fl []string
		for _, f := range m.Flags {
			if !strings.EqualFold(string(f), `\Recent`) {
				fl = append(fl, string(f))
			}
		}
		if _, dup := out[v]; dup {
			t.Errorf("%s twice in %s on the server", v, box)
		}
		out[v] = flagText(fl)
	}
	return out
}

func flagText(flags []string) string {
	s := slices.Clone(flags)
	slices.Sort(s)
	return strings.Join(s, " ")
}

// throttledProxy relays loopback connections to target at about rate
// bytes a second each way. Armed with a byte count, it stops relaying a
// connection once that many bytes went through (both ways), so the
// connection hangs mid-transfer, and signals stalled; replayed tells
// whether the client had sent a replayed change (UID MOVE or UID STORE)
// by then.
type throttledProxy struct {
	ln       net.Listener
	target   string
	rate     int
	cut      atomic.Int64
	stalled  chan struct{}
	replayed atomic.Bool
	// replayAt is the byte count at which the last connection that
	// replayed sent its first replayed change.
	replayAt atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
}

func newThrottledProxy(t *testing.T, target string, rate int) *throttledProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &throttledProxy{ln: ln, target: target, rate: rate, stalled: make(chan struct{}, 1), conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.release()
		p.wg.Wait()
	})
	return p
}

func (p *throttledProxy) addr() string { return p.ln.Addr().String() }

// arm sets the byte count of the next connections' stall (0: none).
func (p *throttledProxy) arm(cut int64) {
	p.replayed.Store(false)
	select {
	case <-p.stalled:
	default:
	}
	p.cut.Store(cut)
}

// release closes every relayed connection.
func (p *throttledProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *throttledProxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *throttledProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.pipe(c)
		}()
	}
}

func (p *throttledProxy) pipe(c net.Conn) {
	defer c.Close()
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer s.Close()
	p.track(c, true)
	p.track(s, true)
	defer p.track(c, false)
	defer p.track(s, false)
	cut := p.cut.Load()
	var used atomic.Int64
	var once sync.Once
	stall := func() {
		once.Do(func() {
			select {
			case p.stalled <- struct{}{}:
			default:
			}
		})
	}
	relay := func(dst, src net.Conn, fromClient bool) {
		defer dst.Close()
		defer src.Close()
		buf := make([]byte, 1024)
		var tail []byte // the end of the client's bytes, to spot commands cut in two reads
		for {
			nr, err := src.Read(buf)
			if nr > 0 {
				chunk := buf[:nr]
				if fromClient {
					tail = append(tail, chunk...)
					if !p.replayed.Load() && (bytes.Contains(tail, []byte("UID MOVE")) || bytes.Contains(tail, []byte("UID STORE")) ||
						bytes.Contains(tail, []byte("UID COPY"))) {
						p.replayed.Store(true)
						p.replayAt.Store(used.Load())
					}
					if len(tail) > 64 {
						tail = tail[len(tail)-64:]
					}
				}
				total := used.Add(int64(nr))
				if cut > 0 && total >= cut {
					// Let part of the chunk through, then hang: the
					// connection is cut mid-transfer by the kill.
					keep := max(0, int64(nr)-(total-cut))
					dst.Write(chunk[:keep])
					stall()
					io.Copy(io.Discard, src)
					return
				}
				time.Sleep(time.Duration(nr) * time.Second / time.Duration(p.rate))
				if _, werr := dst.Write(chunk); werr != nil {
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					return
				}
				return
			}
		}
	}
	done := make(chan struct{})
	go func() { relay(s, c, true); close(done) }()
	relay(c, s, false)
	<-done
}
