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
	const n = firstHeaderChunk + 2*commitMsgs + 400
	a.seed("INBOX", "big", n, 600)
	st := newStore(t)
	opts := testOptions(p)
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
	// The header chunk, then commits of commitMsgs (chunks of
	// fullChunk merged), then the rest.
	if len(commits) != 4 || commits[0] != firstHeaderChunk || commits[3] != n {
		t.Errorf("commits at %v messages, want 4: %d headers, two of %d, the rest", commits, firstHeaderChunk, commitMsgs)
	}
	sameState(t, st, a, "INBOX", true)
}
