package imapsync

import (
	"context"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/store"
)

// A journal entry that cannot be decoded is never deleted without a
// word: it stays, marked failed with the reason, and is not replayed.
func TestUndecodableEntryKeptFailed(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	bad, err := st.JournalAdd(ctx, opMove, []byte(`{"mailbox": 7`))
	if err != nil {
		t.Fatal(err)
	}
	good, _ := st.JournalAdd(ctx, opFlags, []byte(`{"mailbox":"INBOX"}`))
	entries, err := pendingEntries(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].ID != good {
		t.Errorf("entries = %+v, want only %d", entries, good)
	}
	j, err := st.Journal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, je := range j {
		if je.ID == bad {
			found = true
			if !je.Failed || !strings.Contains(je.LastError, "cannot be read") {
				t.Errorf("undecodable entry: %+v, want failed with the reason", je)
			}
		}
	}
	if !found {
		t.Fatalf("undecodable entry %d deleted", bad)
	}
	// Reading again does not count another attempt.
	if _, err := pendingEntries(ctx, st); err != nil {
		t.Fatal(err)
	}
	j, _ = st.Journal(ctx)
	for _, je := range j {
		if je.ID == bad && je.Attempts != 1 {
			t.Errorf("attempts = %d after two reads, want 1", je.Attempts)
		}
	}
}

// Damaged sync state is reported, not ignored: the UIDVALIDITY reset
// list and the learned map each give a note and are cleared.
func TestDamagedSyncStateNoted(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	var ev events
	e := &engine{st: st, opts: Options{Report: ev.reporter()}}
	if err := st.SetSyncState(ctx, map[string]string{stateKey(store.Inbox, "reset"): "[1,2", keyLearned: "{x"}); err != nil {
		t.Fatal(err)
	}
	s, err := e.loadState(ctx, store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.reset) != 0 {
		t.Errorf("reset = %v", s.reset)
	}
	if _, err := e.loadLearned(ctx); err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(ev.notes(), "\n")
	for _, want := range []string{stateKey(store.Inbox, "reset"), keyLearned} {
		if !strings.Contains(notes, want) {
			t.Errorf("no note names %s: %q", want, notes)
		}
		if v, _ := st.SyncState(ctx, want); v != "" {
			t.Errorf("%s still %q", want, v)
		}
	}
}
