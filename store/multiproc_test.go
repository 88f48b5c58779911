package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Many processes on one store (issue 13, item 10). The children are this
// test binary again, run as TestStoreChildProcess with multiChildEnv set
// ("ROOT|ROLE|ARG"); they report on stdout, one line per event.
const multiChildEnv = "LETTERBOX_STORE_CHILD"

// TestStoreChildProcess is not a test: it is the body of the child
// processes of the tests below, and skips when run as a test.
func TestStoreChildProcess(t *testing.T) {
	spec := os.Getenv(multiChildEnv)
	if spec == "" {
		t.Skip("helper process of the multi-process tests")
	}
	os.Exit(storeChild(spec))
}

// kid is a running child process.
type kid struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *bytes.Buffer
}

// startChild starts a child process with spec.
func startChild(t *testing.T, spec string) *kid {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	k := &kid{cmd: exec.Command(exe, "-test.run=^TestStoreChildProcess$"), stderr: &bytes.Buffer{}}
	k.cmd.Env = append(os.Environ(), multiChildEnv+"="+spec)
	out, err := k.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if k.stdin, err = k.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	k.cmd.Stderr = k.stderr
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	k.lines = bufio.NewScanner(out)
	t.Cleanup(func() { k.cmd.Process.Kill(); k.cmd.Wait() })
	return k
}

// say sends a line to the child and returns its answer line.
func (k *kid) say(t *testing.T, line string) string {
	t.Helper()
	if _, err := fmt.Fprintln(k.stdin, line); err != nil {
		t.Fatal(err)
	}
	if !k.lines.Scan() {
		k.cmd.Wait()
		t.Fatalf("child gave no answer to %q: %s", line, k.stderr.String())
	}
	return k.lines.Text()
}

func storeChild(spec string) int {
	parts := strings.Split(spec, "|")
	root, role := parts[0], parts[1]
	ctx := context.Background()
	var opts Options
	switch role {
	case "place-and-die":
		// Killed between placing its files and committing them.
		opts.afterPlace = func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	case "place-and-wait":
		// Stopped between placing and committing until told to go on.
		opts.afterPlace = func() {
			fmt.Println("placed")
			bufio.NewReader(os.Stdin).ReadString('\n')
		}
	}
	s, err := Open(ctx, root, &opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	defer s.Close()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	switch role {
	case "append":
		// N messages: single Appends from 4 goroutines, then AppendMany
		// batches, flags set on the way; every acknowledged one is
		// printed "ack MESSAGE-ID UID ID".
		tag := parts[2]
		n, _ := strconv.Atoi(parts[3])
		var mu sync.Mutex
		ack := func(mid string, r AppendResult) {
			mu.Lock()
			fmt.Fprintf(out, "ack %s %d %d\n", mid, r.UID, r.ID)
			mu.Unlock()
		}
		var wg sync.WaitGroup
		var failed error
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n/2; i += 4 {
					mid := fmt.Sprintf("%s-%d@test", tag, i)
					r, err := s.Append(ctx, Inbox, strings.NewReader(coreMsg(mid, "s "+mid, "body "+mid)), AppendOptions{})
					if err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
						return
					}
					ack(mid, r)
					if i%5 == 0 {
						if _, err := s.SetFlags(ctx, Inbox, []uint32{r.UID}, FlagsAdd, []string{FlagFlagged}); err != nil {
							mu.Lock()
							failed = err
							mu.Unlock()
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		if failed != nil {
			fmt.Fprintln(os.Stderr, failed)
			return 1
		}
		for start := n / 2; start < n; start += 25 {
			var items []AppendItem
			var mids []string
			for i := start; i < min(start+25, n); i++ {
				mid := fmt.Sprintf("%s-%d@test", tag, i)
				raw := coreMsg(mid, "s "+mid, "body "+mid)
				mids = append(mids, mid)
				items = append(items, AppendItem{Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(raw)), nil }})
			}
			res, err := s.AppendMany(ctx, Inbox, items)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			for i, r := range res {
				if r.Err == nil {
					ack(mids[i], r)
				}
			}
		}
		fmt.Fprintln(out, "done")
	case "write-on-line":
		// For each line read on stdin: append a message (line "add MID")
		// or flag one (line "flag UID"), then print "ok".
		in := bufio.NewScanner(os.Stdin)
		fmt.Fprintln(out, "ready")
		out.Flush()
		for in.Scan() {
			cmd, arg, _ := strings.Cut(in.Text(), " ")
			switch cmd {
			case "add":
				r, err := s.Append(ctx, Inbox, strings.NewReader(coreMsg(arg, "s", "b")), AppendOptions{})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				fmt.Fprintf(out, "ok %d\n", r.UID)
			case "flag":
				uid, _ := strconv.Atoi(arg)
				if _, err := s.SetFlags(ctx, Inbox, []uint32{uint32(uid)}, FlagsAdd, []string{FlagSeen}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				fmt.Fprintln(out, "ok")
			case "mkdir":
				if _, err := s.CreateMailbox(ctx, arg, ""); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				fmt.Fprintln(out, "ok")
			}
			out.Flush()
		}
	case "place-and-die", "place-and-wait":
		// Five messages of POP3 UIDLs "pop3:ROLE-i" in one batch.
		var items []AppendItem
		for i := range 5 {
			raw := coreMsg(fmt.Sprintf("%s-%d@test", role, i), "s", "b")
			items = append(items, AppendItem{Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(raw)), nil },
				Remote: Remote{ID: fmt.Sprintf("pop3:%s-%d", role, i)}})
		}
		if _, err := s.AppendMany(ctx, Inbox, items); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, "committed")
	default:
		fmt.Fprintln(os.Stderr, "unknown role", role)
		return 1
	}
	return 0
}

// Two processes append to one store at once (while the parent holds it
// open too): nothing acknowledged is lost, no UID or id is handed out
// twice, and Check finds nothing wrong.
func TestTwoProcessesAppend(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 200
	var kids []*kid
	for _, tag := range []string{"a", "b"} {
		kids = append(kids, startChild(t, fmt.Sprintf("%s|append|%s|%d", root, tag, n)))
	}
	acked := map[string][2]int64{}
	uids := map[int64]string{}
	ids := map[int64]string{}
	for _, k := range kids {
		k.stdin.Close()
		done := false
		for k.lines.Scan() {
			f := strings.Fields(k.lines.Text())
			if len(f) == 1 && f[0] == "done" {
				done = true
				continue
			}
			if len(f) != 4 || f[0] != "ack" {
				continue
			}
			uid, _ := strconv.ParseInt(f[2], 10, 64)
			id, _ := strconv.ParseInt(f[3], 10, 64)
			if other, dup := uids[uid]; dup {
				t.Errorf("UID %d handed out to %s and %s", uid, other, f[1])
			}
			if other, dup := ids[id]; dup {
				t.Errorf("id %d handed out to %s and %s", id, other, f[1])
			}
			uids[uid], ids[id], acked[f[1]] = f[1], f[1], [2]int64{uid, id}
		}
		if err := k.cmd.Wait(); err != nil || !done {
			t.Fatalf("child: %v (done %v)\n%s", err, done, k.stderr.String())
		}
	}
	if len(acked) != 2*n {
		t.Fatalf("%d messages acknowledged, want %d", len(acked), 2*n)
	}
	msgs, err := s.Fetch(ctx, Inbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2*n {
		t.Errorf("the parent sees %d messages, want %d", len(msgs), 2*n)
	}
	for _, m := range msgs {
		want, ok := acked[m.MessageID]
		if !ok || int64(m.UID) != want[0] || m.ID != want[1] {
			t.Errorf("message %s: uid %d id %d, acknowledged as %v", m.MessageID, m.UID, m.ID, want)
		}
		delete(acked, m.MessageID)
	}
	if len(acked) > 0 {
		t.Errorf("%d acknowledged messages lost", len(acked))
	}
	mb, err := s.Mailbox(ctx, Inbox)
	if err != nil || mb.Total != 2*n || int(mb.UIDNext) != 2*n+1 {
		t.Errorf("INBOX counters: %+v %v", mb, err)
	}
	checkClean(t, s)
}

// A change made by another process reaches a subscriber within a second:
// a new message, a flag, a new mailbox.
func TestChangeFromOtherProcess(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub := s.Subscribe()
	defer sub.Close()
	k := startChild(t, root+"|write-on-line")
	if !k.lines.Scan() || k.lines.Text() != "ready" {
		t.Fatalf("child did not start: %s", k.stderr.String())
	}
	ans := k.say(t, "add new@test")
	uid, err := strconv.Atoi(strings.TrimPrefix(ans, "ok "))
	if err != nil {
		t.Fatalf("add: %q", ans)
	}
	c := waitChange(t, sub, "new message", func(c Change) bool { return c.Kind == ChangeMessageAdded })
	if c.Mailbox != Inbox || c.UID != uint32(uid) || c.ID == 0 || c.ModSeq == 0 {
		t.Errorf("added: %+v", c)
	}
	if ans := k.say(t, fmt.Sprintf("flag %d", uid)); ans != "ok" {
		t.Fatalf("flag: %q", ans)
	}
	c = waitChange(t, sub, "flag", func(c Change) bool { return c.Kind == ChangeFlags })
	if c.UID != uint32(uid) || len(c.Flags) != 1 || c.Flags[0] != FlagSeen {
		t.Errorf("flags: %+v", c)
	}
	if ans := k.say(t, "mkdir Projects"); ans != "ok" {
		t.Fatalf("mkdir: %q", ans)
	}
	waitChange(t, sub, "new mailbox", func(c Change) bool { return c.Kind == ChangeMailboxCreated && c.Mailbox == "Projects" })
	// The parent's own change is published once, not again by the poll.
	r := mustAppend(t, s, Inbox, coreMsg("own@test", "s", "b"))
	waitChange(t, sub, "own message", func(c Change) bool { return c.Kind == ChangeMessageAdded && c.UID == r.UID })
	if ans := k.say(t, "add last@test"); !strings.HasPrefix(ans, "ok ") {
		t.Fatalf("add: %q", ans)
	}
	c = waitChange(t, sub, "last message", func(c Change) bool { return c.Kind == ChangeMessageAdded && c.UID != r.UID })
	if c.UID != r.UID+1 {
		t.Errorf("after own message %d: %+v", r.UID, c)
	}
}

// waitChange waits up to a second for a change matching fn.
func waitChange(t *testing.T, sub *Subscription, what string, fn func(Change) bool) Change {
	t.Helper()
	deadline := time.NewTimer(time.Second)
	defer deadline.Stop()
	for {
		select {
		case _, ok := <-sub.C:
			if !ok {
				t.Fatalf("%s: subscription closed", what)
			}
			for _, c := range sub.Pull() {
				if fn(c) {
					return c
				}
			}
		case <-deadline.C:
			t.Fatalf("%s: no change within a second", what)
		}
	}
}

// A process killed between placing files and committing them, while
// another keeps the store open: the survivor's next sync lock (LockSync)
// indexes the dead one's files with their POP3 UIDLs, so its sync does
// not fetch them again; the survivor never had to reopen.
func TestKilledWriterBesideOpenStore(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustAppend(t, s, Inbox, coreMsg("before@test", "s", "b")) // the survivor has written too
	k := startChild(t, root+"|place-and-die")
	if err := k.cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child: %v\n%s", err, k.stderr.String())
	}
	var ids []string
	for i := range 5 {
		ids = append(ids, fmt.Sprintf("pop3:place-and-die-%d", i))
	}
	unlock, err := s.LockSync(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	known, err := s.HasRemoteIDs(ctx, ids)
	if err != nil || len(known) != 5 {
		t.Fatalf("after LockSync the dead writer's UIDLs are known: %v %v", known, err)
	}
	if mb, _ := s.Mailbox(ctx, Inbox); mb.Total != 6 {
		t.Errorf("INBOX has %d messages, want 6", mb.Total)
	}
	checkClean(t, s)
	// The dead session is forgotten: a new open rescans nothing.
	s2, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if rep := s2.OpenReport(); len(rep.Rescanned) != 0 || len(rep.Indexed) != 0 {
		t.Errorf("open after recovery: %+v", rep)
	}
}

// Files another live process has placed but not yet committed are not
// orphans: neither an Open beside it nor Check(repair) indexes them, and
// when it commits there is one copy of each.
func TestOtherProcessInFlight(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	k := startChild(t, root+"|place-and-wait")
	if !k.lines.Scan() || k.lines.Text() != "placed" {
		t.Fatalf("child: %s", k.stderr.String())
	}
	s, err = Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep := s.OpenReport(); len(rep.Indexed) != 0 {
		t.Fatalf("open beside a writer indexed its files: %+v", rep)
	}
	rep, err := s.Check(ctx, true)
	if err != nil || !rep.Clean() {
		t.Fatalf("check beside a writer: %v %+v", err, rep)
	}
	if ans := k.say(t, "go on"); ans != "committed" {
		t.Fatalf("child: %q %s", ans, k.stderr.String())
	}
	k.stdin.Close()
	if err := k.cmd.Wait(); err != nil {
		t.Fatalf("child: %v %s", err, k.stderr.String())
	}
	if mb, _ := s.Mailbox(ctx, Inbox); mb.Total != 5 {
		t.Errorf("INBOX has %d messages, want 5", mb.Total)
	}
	checkClean(t, s)
}
