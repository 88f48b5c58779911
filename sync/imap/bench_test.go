package imapsync

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// TestBenchInitialSync measures a full initial sync of a 10,000-message
// Dovecot INBOX (headers complete, bodies complete, peak RSS), a
// no-change re-sync, and the same with mbsync when it is installed. Each
// sync runs in a child process, so its peak RSS is its own. It runs only
// with LETTERBOX_IMAP_BENCH=1 (LETTERBOX_IMAP_BENCH_N changes the count).
func TestBenchInitialSync(t *testing.T) {
	if os.Getenv("LETTERBOX_IMAP_BENCH") != "1" {
		t.Skip("set LETTERBOX_IMAP_BENCH=1 to run the 10,000-message sync benchmark")
	}
	n := 10000
	fmt.Sscan(os.Getenv("LETTERBOX_IMAP_BENCH_N"), &n)
	d := testpeer.StartDovecot(t, map[string]string{testUser: testPass})
	bytesTotal := fillMaildir(t, d.MailDir(testUser), n)
	d.Chown(t, d.MailDir(testUser))
	t.Logf("INBOX: %d messages, %.1f MB", n, float64(bytesTotal)/(1<<20))
	p := &peer{name: "dovecot", direct: d.IMAP}
	// Warm Dovecot's index and the page cache, so neither tool pays for it.
	a := admin{t, p}
	if s := a.state("INBOX"); len(s.flags) != n {
		t.Fatalf("server has %d messages, want %d", len(s.flags), n)
	}
	dir := t.TempDir()
	ours := func(label string) {
		out, _, wall := runChild(t, exec.Command(os.Args[0], "-test.run=^TestBenchChild$", "-test.v"),
			"LETTERBOX_IMAP_BENCH_CHILD="+dir, "LETTERBOX_IMAP_BENCH_ADDR="+d.IMAP, "LETTERBOX_IMAP_BENCH_LABEL="+label)
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "BENCH") {
				line = strings.TrimSpace(l)
			}
		}
		if line == "" {
			t.Fatalf("child output: %s", out)
		}
		t.Logf("letterbox %-9s %s process=%v", label, line, wall.Round(time.Millisecond))
	}
	// mbsync runs before and after ours, each time into a fresh Maildir,
	// so the order does not favour either.
	mbsync := func(label string) func(string) {
		if _, err := exec.LookPath("mbsync"); err != nil {
			return func(string) {}
		}
		mdir := t.TempDir()
		os.MkdirAll(filepath.Join(mdir, "mail"), 0o700)
		conf := filepath.Join(mdir, "mbsyncrc")
		host, port, _ := strings.Cut(d.IMAP, ":")
		os.WriteFile(conf, []byte(fmt.Sprintf(mbsyncConf, host, port, testUser, testPass, mdir, mdir)), 0o600)
		return func(label string) {
			cmd := exec.Command("mbsync", "-q", "-c", conf, "bench")
			if _, err := os.Stat("/usr/bin/time"); err == nil {
				cmd = exec.Command("/usr/bin/time", "-f", "MAXRSS %M", "mbsync", "-q", "-c", conf, "bench")
			}
			out, _, wall := runChild(t, cmd)
			rss := "?"
			if i := strings.Index(out, "MAXRSS "); i >= 0 {
				rss = strings.TrimSpace(out[i+7:]) + "kB"
			}
			t.Logf("mbsync    %-9s time=%v peakRSS=%s", label, wall.Round(time.Millisecond), rss)
		}
	}
	if _, err := exec.LookPath("mbsync"); err != nil {
		t.Log("mbsync not installed: no comparison")
	}
	mbsync("a")("full")
	ours("full")
	ours("no-change")
	again := mbsync("b")
	again("full")
	again("no-change")
}

const mbsyncConf = `IMAPAccount bench
Host %s
Port %s
User %s
Pass %s
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path %s/mail/
Inbox %s/mail/INBOX
SubFolders Verbatim

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
`

// runChild runs cmd with extra environment and returns its output, peak
// RSS in KiB as wait4 reports it and wall time.
func runChild(t *testing.T, cmd *exec.Cmd, env ...string) (string, int64, time.Duration) {
	t.Helper()
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd.Path, err, out.String())
	}
	wall := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss
	}
	return out.String(), rss, wall
}

// TestBenchChild is the child of TestBenchInitialSync: one sync of the
// store in LETTERBOX_IMAP_BENCH_CHILD with production settings (fsync).
func TestBenchChild(t *testing.T) {
	dir := os.Getenv("LETTERBOX_IMAP_BENCH_CHILD")
	if dir == "" {
		t.Skip("run by TestBenchInitialSync")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if pf := os.Getenv("LETTERBOX_IMAP_BENCH_PROFILE"); pf != "" {
		f, err := os.Create(pf + "." + os.Getenv("LETTERBOX_IMAP_BENCH_LABEL"))
		if err != nil {
			t.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	var headers time.Duration
	opts := Options{Account: "bench", Mailboxes: []string{"INBOX"},
		Server: Config{Addr: os.Getenv("LETTERBOX_IMAP_BENCH_ADDR"), Security: SecurityNone, Login: testUser, Password: testPass},
		Report: func(e lbsync.Event) {
			if e.Phase == lbsync.PhaseHeaders && e.Total > 0 && e.Done == e.Total {
				headers = time.Since(start)
			}
		}}
	res, err := Sync(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	hwm := "?"
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmHWM:") {
				hwm = strings.Join(strings.Fields(l)[1:], "")
			}
		}
	}
	fmt.Printf("BENCH headers=%v full=%v new=%d bodies=%d VmHWM=%s\n", headers.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), res.New, res.Bodies, hwm)
}

// fillMaildir writes n messages into the Maildir dir (cur/), sizes mostly
// 2-12 KB with a few large ones, and returns the total size.
func fillMaildir(t *testing.T, dir string, n int) int64 {
	t.Helper()
	cur := filepath.Join(dir, "cur")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var total int64
	for i := range n {
		size := 2000 + rng.IntN(10000)
		if i%200 == 0 {
			size = 200000 + rng.IntN(800000)
		}
		raw := testMsg(fmt.Sprintf("bench-%d@example.test", i), size)
		flags := ""
		if rng.IntN(3) > 0 {
			flags = "S"
		}
		name := fmt.Sprintf("%d.M%dP1Q%d.bench:2,%s", 1700000000+i, i, i, flags)
		if err := os.WriteFile(filepath.Join(cur, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		total += int64(len(raw))
	}
	return total
}
