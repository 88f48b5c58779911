package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPrepareCommitAbort: a prepared message is invisible and unannounced
// until Commit; Abort leaves nothing behind.
func TestPrepareCommitAbort(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	sub := s.Subscribe()
	defer sub.Close()

	kept, err := s.Prepare(ctx, "inbox", strings.NewReader(coreMsg("kept@x", "kept", "b")), AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dropped, err := s.Prepare(ctx, "INBOX", strings.NewReader(coreMsg("dropped@x", "dropped", "b")), AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(coreMsg("kept@x", "kept", "b"))); kept.Size() != want {
		t.Errorf("Size = %d, want %d", kept.Size(), want)
	}
	if msgs, _ := s.Fetch(ctx, "INBOX", nil); len(msgs) != 0 {
		t.Fatalf("prepared messages visible before Commit: %+v", msgs)
	}
	select {
	case <-sub.C:
		t.Fatalf("change published before Commit: %+v", sub.Pull())
	default:
	}
	dropped.Abort()
	res, err := kept.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Commit(ctx); err == nil {
		t.Error("second Commit accepted")
	}
	kept.Abort() // no effect after Commit
	dropped.Abort()
	msgs, _ := s.Fetch(ctx, "INBOX", nil)
	if len(msgs) != 1 || msgs[0].UID != res.UID || msgs[0].Subject != "kept" {
		t.Fatalf("INBOX = %+v", msgs)
	}
	<-sub.C
	if ch := sub.Pull(); len(ch) != 1 || ch[0].Kind != ChangeMessageAdded || ch[0].UID != res.UID {
		t.Fatalf("changes = %+v", ch)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "mail", "INBOX", "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ keeps %d files after Commit and Abort", len(ents))
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() {
		t.Fatalf("check: %v %+v", err, rep)
	}
	if _, err := s.Prepare(ctx, "nosuchbox", strings.NewReader("x"), AppendOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Prepare into a missing mailbox: %v", err)
	}
}

// preparedChildEnv makes the test binary a child that prepares one
// message and stages stagedInChild more in each of two stores, says
// "prepared" and waits to be killed.
const preparedChildEnv = "LETTERBOX_PREPARED_CHILD"

const stagedInChild = batchSyncMin + 6

func preparedChild(roots string) int {
	ctx := context.Background()
	for _, root := range strings.Split(roots, "|") {
		s, err := Open(ctx, root, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := s.Prepare(ctx, "INBOX", strings.NewReader(coreMsg("p@x", "prepared", "b")), AppendOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// And a staged batch, large enough to be left unsynced for
		// its Commit (Stage).
		if _, err := s.Stage(ctx, "INBOX", stageItems(stagedInChild, "c")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Println("prepared")
	time.Sleep(time.Hour) // killed by the parent
	return 0
}

// TestCrashBetweenPrepareAndCommit kills a process holding prepared and
// staged messages in two stores: after reopening, neither store has the message
// and both check clean.
func TestCrashBetweenPrepareAndCommit(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	roots := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), preparedChildEnv+"="+strings.Join(roots, "|"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	cmd.Process.Kill()
	cmd.Wait()
	if line != "prepared\n" {
		t.Fatalf("child said %q", line)
	}
	ctx := context.Background()
	for _, root := range roots {
		if ents, _ := os.ReadDir(filepath.Join(root, "mail", "INBOX", "tmp")); len(ents) != 1+stagedInChild {
			t.Fatalf("%s: %d files in tmp/ before reopening, want the prepared and staged ones", root, len(ents))
		}
		s, err := Open(ctx, root, nil)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := s.Fetch(ctx, "INBOX", nil)
		if err != nil || len(msgs) != 0 {
			t.Errorf("%s: INBOX after crash = %+v, %v; want empty", root, msgs, err)
		}
		if ents, _ := os.ReadDir(filepath.Join(root, "mail", "INBOX", "tmp")); len(ents) != 0 {
			t.Errorf("%s: tmp/ not cleared on open", root)
		}
		if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() {
			t.Errorf("%s: check: %v %+v", root, err, rep)
		}
		s.Close()
	}
}
