package submit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// TestConcurrentFlushesSendOnce: Outboxes over one store (as in two
// processes sharing an account: each has its own Outbox value) flush at
// the same moment; every message reaches the server exactly once and is
// filed in Sent once.
func TestConcurrentFlushesSendOnce(t *testing.T) {
	const n = 20
	f := newOutbox(t, &backend{})
	for i := range n {
		f.queue(t, testMessage("me@example.org", "ann@example.com", "", fmt.Sprintf("m%d", i)))
	}
	ctx := context.Background()
	others := []*Outbox{f.ob, {Store: f.st, Server: f.ob.Server}, {Store: f.st, Server: f.ob.Server}}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, len(others))
	sent := make([]int, len(others))
	for i, o := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := o.Flush(ctx, FlushOptions{})
			errs[i], sent[i] = err, len(res.Sent)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("flush %d: %v", i, err)
		}
	}
	if got := len(f.be.delivered()); got != n {
		t.Errorf("%d deliveries for %d messages (flushes sent %v)", got, n, sent)
	}
	if msgs, _ := f.raws(t, DefaultSent); len(msgs) != n {
		t.Errorf("Sent holds %d messages, want %d", len(msgs), n)
	}
	if msgs, _ := f.raws(t, DefaultOutbox); len(msgs) != 0 {
		t.Errorf("Outbox still holds %d", len(msgs))
	}
}

// TestFileSentError: a Sent copy that cannot be filed (FileSent fails)
// stops the flush with that error instead of vanishing; the message stays
// in the Outbox marked sent, and the next flush files it once without
// sending it again.
func TestFileSentError(t *testing.T) {
	f := newOutbox(t, &backend{})
	ctx := context.Background()
	var calls int
	fail := errors.New("journal full")
	f.ob.FileSent = func(ctx context.Context, mailbox string, r io.Reader, flags []string, date time.Time) (uint32, error) {
		calls++
		if calls == 1 {
			return 0, fail
		}
		res, err := f.st.Append(ctx, mailbox, r, store.AppendOptions{Flags: flags, InternalDate: date})
		return res.UID, err
	}
	f.queue(t, testMessage("me@example.org", "ann@example.com", "", "one"))
	_, err := f.ob.Flush(ctx, FlushOptions{})
	if !errors.Is(err, fail) {
		t.Fatalf("Flush = %v, want the FileSent error", err)
	}
	status, _ := f.ob.Status(ctx)
	if len(status) != 1 || !status[0].Sent {
		t.Fatalf("after the failed filing, status %+v: want the message kept, marked sent", status)
	}
	res, err := f.ob.Flush(ctx, FlushOptions{})
	if err != nil || len(res.Sent) != 1 {
		t.Fatalf("second flush = %+v, %v", res, err)
	}
	if n := len(f.be.delivered()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	if msgs, _ := f.raws(t, DefaultSent); len(msgs) != 1 || calls != 2 {
		t.Errorf("Sent holds %d, FileSent called %d times", len(msgs), calls)
	}
}

// searchFails is a Store whose SearchUIDs fails while fail is set.
type searchFails struct {
	Store
	fail *bool
}

func (s searchFails) SearchUIDs(ctx context.Context, mailbox string, f *store.Filter) ([]uint32, error) {
	if *s.fail {
		return nil, errors.New("index unreadable")
	}
	return s.Store.SearchUIDs(ctx, mailbox, f)
}

// TestRecoverSearchError: a flush that stopped after filing the Sent copy
// (FileSent stored it, then failed) is recovered by the next flush, which
// looks for that copy by Message-ID. When that search fails, the flush
// stops with its error instead of filing a second copy; the flush after
// it finds the copy, and Sent holds exactly one.
func TestRecoverSearchError(t *testing.T) {
	f := newOutbox(t, &backend{})
	ctx := context.Background()
	fail := false
	f.ob.Store = searchFails{Store: f.ob.Store, fail: &fail}
	var calls int
	f.ob.FileSent = func(ctx context.Context, mailbox string, r io.Reader, flags []string, date time.Time) (uint32, error) {
		calls++
		res, err := f.st.Append(ctx, mailbox, r, store.AppendOptions{Flags: flags, InternalDate: date})
		if calls == 1 && err == nil {
			return 0, errors.New("stored, then the journal failed")
		}
		return res.UID, err
	}
	f.queue(t, testMessage("me@example.org", "ann@example.com", "", "one"))
	if _, err := f.ob.Flush(ctx, FlushOptions{}); err == nil {
		t.Fatal("first Flush succeeded; want FileSent's error")
	}
	fail = true
	if _, err := f.ob.Flush(ctx, FlushOptions{}); err == nil || !strings.Contains(err.Error(), "index unreadable") {
		t.Fatalf("Flush with the search failing = %v, want its error", err)
	}
	fail = false
	if res, err := f.ob.Flush(ctx, FlushOptions{}); err != nil || len(res.Sent) != 1 {
		t.Fatalf("third flush = %+v, %v", res, err)
	}
	if n := len(f.be.delivered()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	if msgs, _ := f.raws(t, DefaultSent); len(msgs) != 1 {
		t.Errorf("Sent holds %d copies, want 1 (FileSent called %d times)", len(msgs), calls)
	}
}
