package pop3

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

// TestDownloadThroughput measures a first download of 10,000 generated
// messages (LETTERBOX_POP3_BENCH_N to change) from Dovecot over POP3S
// into a durable store, and fetchmail's on the same Dovecot when it is
// installed. It runs only with LETTERBOX_POP3_BENCH=1; it is the check of
// the "no slower than fetchmail, peak RSS under 150 MB".
func TestDownloadThroughput(t *testing.T) {
	if os.Getenv("LETTERBOX_POP3_BENCH") != "1" {
		t.Skip("set LETTERBOX_POP3_BENCH=1 to measure a 10,000-message download")
	}
	n := 10000
	if s := os.Getenv("LETTERBOX_POP3_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	const user = "bench@example.test"
	d := testpeer.StartDovecot(t, map[string]string{user: "pw"})
	written, err := mailgen.WriteMaildir(d.MailDir(user), mailgen.Options{Seed: 7, Count: n})
	if err != nil {
		t.Fatal(err)
	}
	d.Chown(t, d.MailDir(user))
	cfg := Config{Addr: d.POP3S, Security: SecurityTLS, TLS: d.TLSConfig(), Login: user, Password: "pw"}
	ctx := context.Background()
	// Let Dovecot index the Maildir first, so neither client pays for it.
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	count, size, err := c.Stat(ctx)
	if err != nil || count != written {
		t.Fatalf("STAT: %d %d %v", count, size, err)
	}
	c.Quit(ctx)

	st := openStore(t, t.TempDir(), true)
	resetPeakRSS()
	start := time.Now()
	res, err := Sync(ctx, st, Options{Client: cfg})
	elapsed := time.Since(start)
	if err != nil || res.Downloaded != n {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	rss := peakRSS()
	t.Logf("letterbox: %d messages, %.1f MB in %v: %.0f msgs/s, %.1f MB/s; peak RSS %d MB (Go heap sys %d MB)",
		n, float64(res.Bytes)/1e6, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
		float64(res.Bytes)/1e6/elapsed.Seconds(), rss>>20, heapSys()>>20)
	if rss > 150<<20 {
		t.Errorf("peak RSS %d MB, over 150 MB", rss>>20)
	}
	if fm, err := exec.LookPath("fetchmail"); err == nil {
		fmElapsed := runFetchmail(t, fm, d, user, n)
		t.Logf("fetchmail: %d messages in %v: %.0f msgs/s (letterbox %.2fx)", n, fmElapsed.Round(time.Millisecond),
			float64(n)/fmElapsed.Seconds(), fmElapsed.Seconds()/elapsed.Seconds())
		if elapsed > fmElapsed {
			t.Errorf("slower than fetchmail: %v against %v", elapsed, fmElapsed)
		}
	}
}

// runFetchmail downloads the mailbox (keeping it on the server) with a
// hermetic fetchmail over POP3S, delivering each message into a file of
// its own through an MDA, and returns how long it took.
func runFetchmail(t *testing.T, fetchmail string, d *testpeer.Dovecot, user string, n int) time.Duration {
	t.Helper()
	home, out := t.TempDir(), t.TempDir()
	host, port, _ := net.SplitHostPort(d.POP3S)
	rc := fmt.Sprintf(`set no syslog
set no bouncemail
set invisible
poll %s with proto POP3 port %s timeout 60
  user "%s" there with password "pw" is "root" here
  options ssl sslcertck sslcertfile "%s" sslcommonname "localhost" fetchall keep norewrite
  mda "/bin/sh -c 'cat > $(mktemp %s/msg.XXXXXX)'"
`, host, port, user, d.CAFile, out)
	rcFile := filepath.Join(home, "fetchmailrc")
	if err := os.WriteFile(rcFile, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(fetchmail, "-f", rcFile, "--nodetach")
	cmd.Env = append(os.Environ(), "HOME="+home, "FETCHMAILHOME="+home, "LC_ALL=C")
	start := time.Now()
	transcript, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("fetchmail: %v\n%s", err, transcript)
	}
	files, _ := filepath.Glob(filepath.Join(out, "msg.*"))
	if len(files) != n {
		t.Fatalf("fetchmail delivered %d of %d\n%s", len(files), n, transcript)
	}
	return elapsed
}

// resetPeakRSS restarts the kernel's peak RSS count of this process
// (Linux; a no-op elsewhere).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM of this process in bytes, or 0 when unknown.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func heapSys() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapSys
}
