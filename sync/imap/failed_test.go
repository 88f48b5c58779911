package imapsync

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/store"
)

// failedEntries returns the journal entries marked failed.
func failedEntries(t *testing.T, st *store.Store) []store.JournalEntry {
	t.Helper()
	j, err := st.Journal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(j, func(je store.JournalEntry) bool { return !je.Failed })
}

// TestFailedChangeKept: a change the server refuses (a rename onto a
// folder another device created meanwhile) is tried maxAttempts times,
// then kept among the failed changes with the server's words, never
// dropped on its own and no longer sent; the server's folder of the old
// name does not come back locally meanwhile. Dropping it renames the
// folder back, and the next sync leaves the store equal to the server,
// one copy of everything.
func TestFailedChangeKept(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		ctx := context.Background()
		a := admin{t, p}
		a.create("Plans")
		mids := a.seed("Plans", "fc", 3, 300)
		st := newStore(t)
		opts := testOptions(p)
		var ev events
		opts.Report = ev.reporter()
		mustSync(t, st, opts)
		l := &Local{Store: st}
		if err := l.RenameMailbox(ctx, "Plans", "Ideas"); err != nil {
			t.Fatal(err)
		}
		a.create("Ideas") // another device, meanwhile
		for i := range maxAttempts + 1 {
			res := mustSync(t, st, opts)
			if want := min(1, maxAttempts-i); res.Failed != want {
				t.Errorf("sync %d: %d refused, want %d", i+1, res.Failed, want)
			}
			if _, err := st.Mailbox(ctx, "Plans"); err == nil {
				t.Errorf("sync %d: the server's Plans came back locally while the rename waits", i+1)
			}
		}
		failed := failedEntries(t, st)
		if len(failed) != 1 || failed[0].Op != opRename || failed[0].Attempts != maxAttempts || failed[0].LastError == "" {
			t.Fatalf("failed changes: %+v", failed)
		}
		t.Logf("%s: %s: %s", p.name, Describe(failed[0]), failed[0].LastError)
		if d := Describe(failed[0]); d != "rename folder Plans to Ideas" {
			t.Errorf("Describe = %q", d)
		}
		if err := Drop(ctx, st, failed[0].ID); err != nil {
			t.Fatal(err)
		}
		res := mustSync(t, st, opts)
		if res.New != 0 {
			t.Errorf("after the drop, %d messages downloaded again", res.New)
		}
		sameState(t, st, a, "Plans", true)
		sameState(t, st, a, "Ideas", true)
		if got := a.state("Plans"); len(got.flags) != len(mids) {
			t.Errorf("server Plans: %v", got.flags)
		}
		if j, _ := st.Journal(ctx); len(j) != 0 {
			t.Errorf("journal: %+v", j)
		}
	})
}

// TestFailedMoveDropped: a move into a folder Dovecot refuses to create
// ("~" is not allowed to begin a name there) fails for good, stays
// visible, is retried on demand, and once dropped puts the message back
// where the server has it.
func TestFailedMoveDropped(t *testing.T) {
	p := startDovecot(t)
	ctx := context.Background()
	a := admin{t, p}
	mids := a.seed("INBOX", "fm", 2, 300)
	st := newStore(t)
	opts := testOptions(p)
	mustSync(t, st, opts)
	l := &Local{Store: st}
	if err := l.CreateMailbox(ctx, "~home", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Move(ctx, store.Inbox, []uint32{localUID(t, st, store.Inbox, mids[0])}, "~home"); err != nil {
		t.Fatal(err)
	}
	for range maxAttempts {
		mustSync(t, st, opts)
	}
	failed := failedEntries(t, st)
	if len(failed) != 2 {
		t.Fatalf("failed changes: %+v", failed)
	}
	for _, f := range failed {
		if !strings.Contains(f.LastError, "~") {
			t.Errorf("%s: last error %q lacks the server's words", Describe(f), f.LastError)
		}
	}
	if err := Retry(ctx, st, failed[1].ID); err != nil {
		t.Fatal(err)
	}
	if f := failedEntries(t, st); len(f) != 1 {
		t.Errorf("after retry, failed: %+v", f)
	}
	mustSync(t, st, opts) // refused again: one attempt
	for _, f := range failed {
		if err := Drop(ctx, st, f.ID); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, st, opts)
	sameState(t, st, a, store.Inbox, true)
	if j, _ := st.Journal(ctx); len(j) != 0 {
		t.Errorf("journal: %+v", j)
	}
}
