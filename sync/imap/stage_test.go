package imapsync

import (
	"testing"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// TestLargeSyncCommitsInBatches: the whole messages of a large initial
// sync are staged chunk by chunk and committed commitMsgs at a time, not a
// commit per fetched chunk (issue 17: a commit is a full-text segment, a
// syncfs and a WAL commit); the newest headers are committed at once,
// and every message arrives.
func TestLargeSyncCommitsInBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 2,600 messages")
	}
	// Against letterbox serve only: what is tested is the client's
	// batching, and Dovecot takes a minute and a half for the appends.
	p := startOurs(t)
	a := admin{t, p}
	// Chunks of fullChunk small messages, commits of at least 1,000.
	const commitMsgs = 2 * fullChunk
	const n = firstHeaderChunk + 2*commitMsgs + 400
	a.seed("INBOX", "big", n, 600)
	st := newStore(t)
	opts := testOptions(p)
	opts.commitMsgs = commitMsgs
	var ev events
	opts.Report = ev.reporter()
	res := mustSync(t, st, opts)
	if res.New != n {
		t.Fatalf("%d new, want %d", res.New, n)
	}
	// One progress event per commit of new messages.
	var commits []int
	ev.mu.Lock()
	for _, e := range ev.list {
		if e.Mailbox == "INBOX" && e.Phase == lbsync.PhaseHeaders && e.Done > 0 && e.Err == nil {
			commits = append(commits, e.Done)
		}
	}
	ev.mu.Unlock()
	// The header chunk, then commits of at least commitMsgs (chunks of
	// fullChunk merged; two writers stage at once, so which chunks go
	// together varies), the rest last: 3 or 4 commits, not 1 + 5.
	if len(commits) < 3 || len(commits) > 4 || commits[0] != firstHeaderChunk || commits[len(commits)-1] != n {
		t.Fatalf("commits at %v messages, want %d headers, then commits of at least %d, %d in all", commits, firstHeaderChunk, commitMsgs, n)
	}
	for i := 1; i < len(commits)-1; i++ {
		if d := commits[i] - commits[i-1]; d < commitMsgs {
			t.Errorf("commits at %v: one of %d messages before the last", commits, d)
		}
	}
	sameState(t, st, a, "INBOX", true)
}
