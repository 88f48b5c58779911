package server

import (
	"bytes"
	"context"
	"fmt"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// killChildEnv names the data directory of a server that this test binary
// runs as a child process (TestMain), to be killed with SIGKILL.
const killChildEnv = "LETTERBOX_TEST_KILL_CHILD"

// killUsers are the local recipients of every message in TestKill9.
var killUsers = []string{"alice@a.test", "bob@a.test"}

func TestMain(m *testing.M) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		if err := runKillChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "kill child:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// runKillChild serves SMTP (MX) for a.test from dir on 127.0.0.1:0, writes
// the address to dir/smtp.addr and serves until it is killed.
func runKillChild(dir string) error {
	cfg := &Config{Dev: true, Hostname: "mx.a.test", Domains: []string{"a.test"}, Data: dir,
		Listen: Listen{SMTP: "127.0.0.1:0", Submission: "off", SMTPS: "off", IMAP: "off", IMAPS: "off", POP3: "off", POP3S: "off"}}
	if err := cfg.Finish(); err != nil {
		return err
	}
	s, err := New(cfg, nil)
	if err != nil {
		return err
	}
	for _, u := range killUsers {
		if !s.Backend.Users.Exists(u) {
			if err := s.Backend.Users.Add(u, "pw"); err != nil {
				return err
			}
		}
	}
	if err := s.Start(context.Background()); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "smtp.addr.tmp")
	if err := os.WriteFile(tmp, []byte(s.Addr("smtp").String()), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "smtp.addr")); err != nil {
		return err
	}
	select {}
}

// TestKill9 is the durability promise under load: senders deliver to two
// local users at once over the MX port while the server process is killed
// with SIGKILL, three times, each time restarted on the same data. Every
// message the server acknowledged (250 after DATA) is then in both INBOXes
// exactly once; one it did not acknowledge may be in either or neither
// (its sender would retry).
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const rounds, senders, perRound = 3, 6, 40
	var mu sync.Mutex
	acked := map[string]bool{}
	sent := 0
	for round := range rounds {
		addrFile := filepath.Join(dir, "smtp.addr")
		os.Remove(addrFile)
		var stderr bytes.Buffer
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var addr string
		waitFor(t, "the server to listen", 60*time.Second, func() bool {
			select {
			case err := <-exited:
				t.Fatalf("round %d: server exited: %v\n%s", round, err, stderr.Bytes())
			default:
			}
			b, err := os.ReadFile(addrFile)
			addr = string(b)
			return err == nil
		})
		var n atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("r%d.g%d.%d@kill.test", round, g, i)
					mu.Lock()
					sent++
					mu.Unlock()
					if sendOne(addr, id) == nil {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
						n.Add(1)
					}
				}
			}()
		}
		waitFor(t, "acknowledged mail", 60*time.Second, func() bool { return n.Load() >= perRound })
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-exited
		close(stop)
		wg.Wait()
	}

	ctx := context.Background()
	for _, u := range killUsers {
		st, err := store.Open(ctx, filepath.Join(dir, "mail", u), nil)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := st.Fetch(ctx, "INBOX", nil)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, m := range msgs {
			count[strings.Trim(m.MessageID, "<>")]++
		}
		extra := 0
		for id, c := range count {
			if c > 1 {
				t.Errorf("%s: %s stored %d times", u, id, c)
			}
			if !acked[id] {
				extra++
			}
		}
		for id := range acked {
			if count[id] == 0 {
				t.Errorf("%s: acknowledged %s is missing", u, id)
			}
		}
		t.Logf("%s: %d acknowledged of %d attempts, %d stored, %d of them never acknowledged", u, len(acked), sent, len(msgs), extra)
	}
}

// sendOne sends one message with Message-ID id to killUsers, in clear.
func sendOne(addr, id string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("sender.test"); err != nil {
		return err
	}
	if err := c.Mail("s@sender.test"); err != nil {
		return err
	}
	for _, u := range killUsers {
		if err := c.Rcpt(u); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: s@sender.test\r\nTo: alice@a.test, bob@a.test\r\nSubject: kill %s\r\nMessage-ID: <%s>\r\n\r\n%s\r\n",
		id, id, strings.Repeat("durable mail\r\n", 50))
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
