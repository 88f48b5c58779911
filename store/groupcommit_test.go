package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConcurrentAppendGroupCommit(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if _, err := s.CreateMailbox(ctx, "Other", ""); err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	uids := make([]uint32, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			box := "INBOX"
			if i%5 == 0 {
				box = "Other"
			}
			res, err := s.Append(ctx, box, strings.NewReader(coreMsg(fmt.Sprintf("c%d@x", i), fmt.Sprintf("concurrent %d", i), "body")), AppendOptions{})
			uids[i], errs[i] = res.UID, err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		box := "INBOX"
		if i%5 == 0 {
			box = "Other"
		}
		key := fmt.Sprintf("%s/%d", box, uids[i])
		if seen[key] || uids[i] == 0 {
			t.Fatalf("UID %s handed out twice or zero", key)
		}
		seen[key] = true
		m, err := s.GetByUID(ctx, box, uids[i])
		if err != nil || m.Subject != fmt.Sprintf("concurrent %d", i) {
			t.Fatalf("message %d: %v %v", i, m, err)
		}
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() || rep.Messages != n {
		t.Fatalf("check: %v %+v", err, rep)
	}
}

// TestCheckDuringAppends runs repairing checks while appends are between
// their two commit stages: a placed but not yet indexed file must not be
// indexed twice, and every append must land exactly once.
func TestCheckDuringAppends(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	const n = 300
	var wg sync.WaitGroup
	stop := make(chan struct{})
	checkErr := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				checkErr <- nil
				return
			default:
			}
			rep, err := s.Check(ctx, true)
			if err != nil {
				checkErr <- err
				return
			}
			if len(rep.Indexed) > 0 {
				checkErr <- fmt.Errorf("check indexed files of appends in flight: %v", rep.Indexed)
				return
			}
		}
	}()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Append(ctx, Inbox, strings.NewReader(coreMsg(fmt.Sprintf("k%d@x", i), "check race", "body")), AppendOptions{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-checkErr; err != nil {
		t.Fatal(err)
	}
	mb, err := s.Mailbox(ctx, Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if mb.Total != n {
		t.Fatalf("INBOX has %d messages, want %d", mb.Total, n)
	}
	rep, err := s.Check(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() {
		t.Fatalf("check after appends: %+v", rep)
	}
}

// TestAppendsWhileMailboxReplaced: appends race with the deletion and
// re-creation of their mailbox. Each either lands or fails; none leaves
// a file without a row or a row without a file (placing a batch's files
// and indexing them are separate stages of the group commit, and a
// delete may fall between them).
func TestAppendsWhileMailboxReplaced(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if _, err := s.CreateMailbox(ctx, "Box", ""); err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, failed := 0, 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Append(ctx, "Box", strings.NewReader(coreMsg(fmt.Sprintf("r%d@x", i), "replace race", "body")), AppendOptions{})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
			} else {
				ok++
			}
		}()
		if i == n/3 {
			if err := s.DeleteMailbox(ctx, "Box"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateMailbox(ctx, "Box", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	t.Logf("%d appends stored, %d failed", ok, failed)
	rep, err := s.Check(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() {
		t.Fatalf("check after the race: %+v", rep)
	}
	mb, err := s.Mailbox(ctx, "Box")
	if err != nil {
		t.Fatal(err)
	}
	if mb.Total > ok {
		t.Fatalf("Box holds %d messages, more than the %d appends that succeeded", mb.Total, ok)
	}
}

// TestGroupCommitSyncsWhilePlacing holds one batch between its renames
// and its transaction and checks that the next batch's files are synced
// meanwhile: the sync stage is handed on before the renames, so a slow
// rename pass or directory fsync does not hold up the next flush. Every
// append still lands, in order of its batch.
func TestGroupCommitSyncsWhilePlacing(t *testing.T) {
	ctx := context.Background()
	held := make(chan struct{})
	release := make(chan struct{})
	synced := make(chan struct{}, 16)
	var once sync.Once
	opts := &Options{
		afterPlace: func() {
			once.Do(func() {
				close(held)
				<-release
			})
		},
		afterSync: func() { synced <- struct{}{} },
	}
	s, err := Open(ctx, t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendOne := func(i int) (uint32, error) {
		pm, err := s.Prepare(ctx, "INBOX", strings.NewReader(coreMsg(fmt.Sprintf("p%d@x", i), fmt.Sprintf("placing %d", i), "body")), AppendOptions{})
		if err != nil {
			return 0, err
		}
		res, err := pm.Commit(ctx)
		return res.UID, err
	}
	type result struct {
		uid uint32
		err error
	}
	first := make(chan result, 1)
	go func() { u, err := appendOne(1); first <- result{u, err} }()
	<-held
	<-synced // the first batch's own sync
	second := make(chan result, 1)
	go func() { u, err := appendOne(2); second <- result{u, err} }()
	select {
	case <-synced:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the second batch's files were not synced while the first batch was being placed")
	}
	close(release)
	r1, r2 := <-first, <-second
	if r1.err != nil || r2.err != nil {
		t.Fatalf("appends: %v, %v", r1.err, r2.err)
	}
	if r1.uid != 1 || r2.uid != 2 {
		t.Fatalf("UIDs %d, %d; want 1, 2 (the batches' order)", r1.uid, r2.uid)
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() || rep.Messages != 2 {
		t.Fatalf("check: %v %+v", err, rep)
	}
}
