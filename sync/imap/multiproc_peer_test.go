package imapsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// Two processes sync one account at the same time while a third lists it
// and a fourth (the test, standing for the interface) holds the store
// open, subscribed, and makes local changes (issue 13, item 10). The
// processes are this test binary again, run as TestSyncChildProcess.
const syncChildEnv = "LETTERBOX_IMAP_SYNC_CHILD"

// syncChildSpec is what a child is told, as JSON in syncChildEnv.
type syncChildSpec struct {
	Role string // "sync" or "list"
	Root string
	Addr string
}

// TestSyncChildProcess is not a test: it is the body of the child
// processes of TestConcurrentSyncs, and skips when run as a test.
func TestSyncChildProcess(t *testing.T) {
	spec := os.Getenv(syncChildEnv)
	if spec == "" {
		t.Skip("helper process of TestConcurrentSyncs")
	}
	os.Exit(syncChild(spec))
}

func syncChild(spec string) int {
	var cs syncChildSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	switch cs.Role {
	case "sync":
		st, err := store.Open(ctx, cs.Root, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer st.Close()
		res, err := Sync(ctx, st, Options{Account: "test", AllMailboxes: true,
			Server: Config{Addr: cs.Addr, Security: SecurityNone, Login: testUser, Password: testPass}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		b, _ := json.Marshal(res)
		fmt.Printf("%s\n", b)
	case "list":
		// Open, list INBOX, close, until stdin ends: what `letterbox list`
		// in a loop does. Prints how many listings it made.
		stop := make(chan struct{})
		go func() { io.Copy(io.Discard, os.Stdin); close(stop) }()
		n := 0
		for {
			select {
			case <-stop:
				fmt.Printf("listed %d\n", n)
				return 0
			default:
			}
			st, err := store.Open(ctx, cs.Root, nil)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			_, err = st.List(ctx, store.ListOptions{Mailbox: store.Inbox, Limit: 50})
			st.Close()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			n++
		}
	}
	return 0
}

// child is a running child process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout bytes.Buffer
	stderr bytes.Buffer
}

func startSyncChild(t *testing.T, cs syncChildSpec) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(cs)
	c := &child{cmd: exec.Command(exe, "-test.run=^TestSyncChildProcess$")}
	c.cmd.Env = append(os.Environ(), syncChildEnv+"="+string(spec))
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
	return c
}

func (c *child) wait(t *testing.T, what string) string {
	t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, c.stderr.String())
	}
	return strings.TrimSpace(c.stdout.String())
}

// concurrently runs two sync processes and a listing one until both
// syncs end, and returns the syncs' results.
func concurrently(t *testing.T, root, addr string) []Result {
	t.Helper()
	lister := startSyncChild(t, syncChildSpec{Role: "list", Root: root})
	a := startSyncChild(t, syncChildSpec{Role: "sync", Root: root, Addr: addr})
	b := startSyncChild(t, syncChildSpec{Role: "sync", Root: root, Addr: addr})
	var out []Result
	for _, c := range []*child{a, b} {
		var r Result
		if err := json.Unmarshal([]byte(c.wait(t, "sync")), &r); err != nil {
			t.Fatalf("sync result: %v", err)
		}
		out = append(out, r)
	}
	t.Logf("syncs: %+v / %+v; lister: %s", out[0], out[1], lister.wait(t, "lister"))
	return out
}

func TestConcurrentSyncs(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test is slow")
	}
	p := startDovecot(t)
	a := admin{t, p}
	a.create("Archive")
	a.create("Sent")
	a.seed("INBOX", "in", 300, 2000)
	a.seed("Archive", "ar", 60, 2000)
	ctx := context.Background()
	root := t.TempDir()
	// The interface: the store open all along, subscribed.
	st, err := store.Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sub := st.Subscribe()
	defer sub.Close()

	// 1. Both download everything at once: one copy each.
	res := concurrently(t, root, p.direct)
	if n := res[0].New + res[1].New; n != 360 {
		t.Errorf("the two syncs stored %d messages, want 360 between them", n)
	}
	for _, mb := range []string{"INBOX", "Archive"} {
		sameState(t, st, a, mb, true)
	}
	added := 0
	for _, c := range sub.Pull() {
		if c.Kind == store.ChangeMessageAdded {
			added++
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for added < 360 && time.Now().Before(deadline) {
		select {
		case <-sub.C:
			for _, c := range sub.Pull() {
				if c.Kind == store.ChangeMessageAdded {
					added++
				}
			}
		case <-time.After(time.Until(deadline)):
		}
	}
	if added != 360 {
		t.Errorf("the interface heard of %d new messages, want 360", added)
	}

	// 2. Local changes made in the interface, new mail on the server,
	// then two syncs at once: every change reaches the server once.
	l := &Local{Store: st}
	msgs, err := st.Fetch(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	var flag, move []uint32
	for i, m := range msgs {
		switch {
		case i < 30:
			flag = append(flag, m.UID)
		case i < 50:
			move = append(move, m.UID)
		}
	}
	if _, err := l.SetFlags(ctx, "INBOX", flag, store.FlagsAdd, []string{store.FlagFlagged}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Move(ctx, "INBOX", move, "Archive"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := l.Append(ctx, "Sent", bytes.NewReader(testMsg(fmt.Sprintf("sent-%d@example.test", i), 1500)), []string{store.FlagSeen}); err != nil {
			t.Fatal(err)
		}
	}
	a.seed("INBOX", "more", 40, 2000)
	concurrently(t, root, p.direct)
	for _, mb := range []string{"INBOX", "Archive", "Sent"} {
		sameState(t, st, a, mb, true)
	}
	if n := len(a.state("Sent").flags); n != 5 {
		t.Errorf("Sent holds %d messages on the server, want the 5 appended once", n)
	}
	if n := len(a.state("Archive").flags); n != 80 {
		t.Errorf("Archive holds %d messages on the server, want 60 + 20 moved", n)
	}
	if j, err := st.Journal(ctx); err != nil || len(j) != 0 {
		t.Errorf("journal after the syncs: %d entries, %v", len(j), err)
	}
	rep, err := st.Check(ctx, false)
	if err != nil || !rep.Clean() {
		t.Errorf("check: %v %+v", err, rep)
	}
}
