package pop3

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"

	"github.com/letterbox-mail/letterbox/store"
)

// syncFake runs Sync against f (started here) into st.
func syncFake(t *testing.T, f *fake, st *store.Store, opts Options) (Result, error) {
	t.Helper()
	opts.Client = Config{Addr: f.start(t), Security: SecurityNone, Login: "u", Password: "p"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Sync(ctx, st, opts)
}

func wantDigests(msgs []string) []string {
	raw := make([][]byte, len(msgs))
	for i, m := range msgs {
		raw[i] = []byte(m)
	}
	return digestsOf(raw)
}

func TestSyncWithoutUIDL(t *testing.T) {
	st := openStore(t, t.TempDir(), false)
	_, err := syncFake(t, &fake{capa: []string{"USER"}, noUIDL: true, msgs: corpusOf(3)}, st, Options{})
	if !errors.Is(err, ErrNoUIDL) || lbsync.IsTemporary(err) {
		t.Fatalf("Sync: %v", err)
	}
	if got := localDigests(t, st); len(got) != 0 {
		t.Fatalf("stored %d messages", len(got))
	}
}

// A connection lost in the middle of a message stores the messages
// before it, not the cut one; the next Sync fetches the rest, once.
func TestSyncCutInMessage(t *testing.T) {
	msgs := corpusOf(6)
	st := openStore(t, t.TempDir(), true)
	cut := &fake{capa: defaultCapa, msgs: msgs, wire: map[int]string{4: msgs[3][:20]}}
	res, err := syncFake(t, cut, st, Options{Policy: Policy{Kind: Delete}})
	if !lbsync.IsTemporary(err) || res.Downloaded != 3 {
		t.Fatalf("cut sync: %+v, %v", res, err)
	}
	if got, want := localDigests(t, st), wantDigests(msgs[:3]); !slices.Equal(got, want) {
		t.Fatalf("after the cut: %v, want %v", got, want)
	}
	if len(cut.deleted) != 0 {
		t.Fatalf("deleted %v on the server after a failed download", cut.deleted)
	}
	whole := &fake{capa: defaultCapa, msgs: msgs}
	res, err = syncFake(t, whole, st, Options{Policy: Policy{Kind: Delete}})
	if err != nil || res.Downloaded != 3 || res.Deleted != 6 {
		t.Fatalf("second sync: %+v, %v", res, err)
	}
	if got, want := localDigests(t, st), wantDigests(msgs); !slices.Equal(got, want) {
		t.Fatalf("after the second sync: %v, want %v", got, want)
	}
	whole.mu.Lock()
	defer whole.mu.Unlock()
	if !slices.Equal(whole.deleted, []int{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("deleted %v", whole.deleted)
	}
}

// A message the server refuses is left for later; an empty one is
// remembered and skipped; the others are stored.
func TestSyncRefusedAndEmpty(t *testing.T) {
	msgs := corpusOf(5)
	st := openStore(t, t.TempDir(), false)
	var events []lbsync.Event
	f := &fake{capa: defaultCapa, msgs: msgs, retrErr: map[int]string{2: "-ERR [SYS/TEMP] busy"}, wire: map[int]string{4: ".\r\n"}}
	res, err := syncFake(t, f, st, Options{Account: "acct", Policy: Policy{Kind: Delete},
		Report: func(e lbsync.Event) { events = append(events, e) }})
	if err != nil || res.Downloaded != 3 || res.Failed != 1 || res.Skipped != 1 || res.Deleted != 3 {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	if got, want := localDigests(t, st), wantDigests([]string{msgs[0], msgs[2], msgs[4]}); !slices.Equal(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	last := events[len(events)-1]
	if last.Phase != lbsync.PhaseDone || last.Account != "acct" || last.Mailbox != store.Inbox || last.Err != nil {
		t.Fatalf("last event %+v", last)
	}
	var downloads int
	for _, e := range events {
		if e.Phase == lbsync.PhaseDownload && e.Err == nil && e.Done > 0 {
			downloads++
		}
	}
	if downloads != 3 {
		t.Errorf("%d download events, want 3", downloads)
	}
	// Next time only the refused one is fetched; the empty one was
	// remembered, not stored, and is not deleted on the server.
	again := &fake{capa: defaultCapa, msgs: msgs}
	res, err = syncFake(t, again, st, Options{Policy: Policy{Kind: Delete}})
	if err != nil || res.Downloaded != 1 || res.Deleted != 4 {
		t.Fatalf("second sync: %+v, %v", res, err)
	}
	again.mu.Lock()
	defer again.mu.Unlock()
	if slices.Contains(again.deleted, 4) {
		t.Errorf("deleted the message never stored: %v", again.deleted)
	}
}
