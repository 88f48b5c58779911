package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store/mailgen"

	"github.com/letterbox-mail/letterbox/store/mime"
)

// The crash test re-executes the test binary as a child that imports a
// Maildir and prints "ack ORIGIN" for every message of every batch that
// Import reported durable; the parent SIGKILLs it at a random moment and
// checks that every acknowledged message survived. In the "defer" mode
// the child defers full-text indexing (the server's mode) with a 1 ms
// pause, so kills also land in the background indexer's transactions.
const crashChildEnv = "LETTERBOX_CRASH_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		os.Exit(crashChild(spec))
	}
	if roots := os.Getenv(preparedChildEnv); roots != "" {
		os.Exit(preparedChild(roots))
	}
	if spec := os.Getenv(identityChildEnv); spec != "" {
		os.Exit(identityChild(spec))
	}
	os.Exit(m.Run())
}

func crashChild(spec string) int {
	src, rest, _ := strings.Cut(spec, "|")
	root, mode, _ := strings.Cut(rest, "|")
	ctx := context.Background()
	var opts *Options
	if mode == "defer" {
		opts = &Options{DeferText: true, textIdle: time.Millisecond}
	}
	s, err := Open(ctx, root, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	_, err = s.Import(ctx, []string{src}, ImportOptions{BatchSize: 16, Committed: func(origins []string, res []AppendResult) {
		for i, o := range origins {
			if res[i].Err == nil {
				fmt.Fprintf(out, "ack %s\n", o)
			}
		}
		out.Flush()
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s.Close()
	return 0
}

func TestCrashDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test is slow")
	}
	for _, c := range []struct {
		mode   string
		rounds int
	}{{"inline", 50}, {"defer", 25}} {
		t.Run(c.mode, func(t *testing.T) { testCrashDuringImport(t, c.mode, c.rounds) })
	}
}

func testCrashDuringImport(t *testing.T, mode string, rounds int) {
	src := filepath.Join(t.TempDir(), "src")
	const total = 400
	if _, err := mailgen.WriteMaildir(src, mailgen.Options{Seed: 7, Count: total}); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	killedMidway := 0
	var full time.Duration // how long an unkilled import takes; round 0 measures it
	for round := 0; round <= rounds; round++ {
		root := filepath.Join(t.TempDir(), "store")
		// The first round measures a full import to scale the kill times.
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+src+"|"+root+"|"+mode)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		started := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill anywhere from process start (before the store exists)
		// to just past the end of a full import.
		delay := time.Hour
		if round > 0 {
			delay = time.Duration(rng.Int63n(int64(full) * 11 / 10))
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-time.After(delay):
			cmd.Process.Kill()
			<-done
			killedMidway++
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: child failed: %v\n%s", round, err, stderr.String())
			}
			if round == 0 {
				full = time.Since(started)
			}
		}
		acked := map[string]bool{}
		for _, line := range strings.Split(stdout.String(), "\n") {
			if o, ok := strings.CutPrefix(line, "ack "); ok {
				acked[o] = true
			}
		}
		if round == 0 && len(acked) != total {
			t.Fatalf("full import acknowledged %d of %d messages", len(acked), total)
		}
		verifyAfterCrash(t, round, root, acked)
	}
	t.Logf("full import %s; %d rounds, %d killed before the import finished", full, rounds, killedMidway)
	if killedMidway < rounds/5 {
		t.Errorf("only %d of %d rounds killed the import midway; the kill times are miscalibrated", killedMidway, rounds)
	}
}

func verifyAfterCrash(t *testing.T, round int, root string, acked map[string]bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := os.Stat(root); os.IsNotExist(err) {
		if len(acked) > 0 {
			t.Fatalf("round %d: store missing but %d acked", round, len(acked))
		}
		return
	}
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	defer s.Close()
	msgs, err := s.Fetch(ctx, "INBOX", nil)
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	byMsgID := map[string]Message{}
	for _, m := range msgs {
		if _, dup := byMsgID[m.MessageID]; dup {
			t.Fatalf("round %d: message %s stored twice", round, m.MessageID)
		}
		byMsgID[m.MessageID] = m
	}
	for origin := range acked {
		want, err := os.ReadFile(origin)
		if err != nil {
			t.Fatal(err)
		}
		pm, _ := mime.Parse(bytes.NewReader(want))
		m, ok := byMsgID[pm.Envelope.MessageID]
		if !ok {
			t.Fatalf("round %d: acknowledged message %s (%s) lost", round, pm.Envelope.MessageID, origin)
		}
		got, err := os.ReadFile(filepath.Join(root, m.File))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("round %d: acknowledged message %s unreadable or changed: %v", round, origin, err)
		}
		if hits, err := s.Search(ctx, fmt.Sprintf("in:INBOX from:%q", addrOf(pm)), SearchOptions{Limit: -1}); err != nil || !containsID(hits, m.ID) {
			t.Fatalf("round %d: acknowledged message %s not found by search: %v", round, origin, err)
		}
	}
	rep, err := s.Check(ctx, false)
	if err != nil || !rep.Clean() {
		t.Fatalf("round %d: check after crash: %v %+v", round, err, rep)
	}
}

func addrOf(pm *mime.Parsed) string {
	if len(pm.Envelope.From) == 0 {
		return ""
	}
	return pm.Envelope.From[0].Addr
}

func containsID(msgs []Message, id int64) bool {
	for _, m := range msgs {
		if m.ID == id {
			return true
		}
	}
	return false
}
