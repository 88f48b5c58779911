package queue

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingResolver fails every MX lookup temporarily and counts them, so
// each attempt is seen and leaves its item queued.
type countingResolver struct{ lookups atomic.Int32 }

func (r *countingResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	r.lookups.Add(1)
	return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
}

func (r *countingResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	return nil, errors.New("not used")
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runQueue opens the queue at dir, counting its directory scans, and
// runs its worker until the test ends.
func runQueue(t *testing.T, dir string, res Resolver) (*Queue, *atomic.Int32, func()) {
	t.Helper()
	q, err := Open(dir, Options{Resolver: res, PollInterval: time.Hour, Backoff: func(int) time.Duration { return time.Hour }})
	if err != nil {
		t.Fatal(err)
	}
	scans := new(atomic.Int32)
	scans.Add(1) // Open's
	q.onScan = func() { scans.Add(1) }
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); q.Run(ctx) }()
	stop := func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return q, scans, stop
}

// TestDueIndex: the worker finds due items in its in-memory index, not
// by listing the queue directory: new and retried items are attempted
// with no scan after the one at start, and a restart rebuilds the index
// from disk.
func TestDueIndex(t *testing.T) {
	dir := t.TempDir()
	res := &countingResolver{}
	q, scans, stop := runQueue(t, dir, res)
	var ids []string
	for i := range 3 {
		id, err := q.Enqueue(context.Background(), "a@x.test", []string{"b@y.test"}, strings.NewReader("Subject: q\r\n\r\nbody\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		waitFor(t, "an attempt", 5*time.Second, func() bool { return res.lookups.Load() == int32(i+1) })
	}
	if err := q.Retry(ids[1]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the retried attempt", 5*time.Second, func() bool { return res.lookups.Load() == 4 })
	if n := scans.Load(); n != 1 {
		t.Errorf("%d directory scans for 4 attempts, want only the one at start", n)
	}
	stop()
	for _, id := range ids {
		it, err := q.Get(id)
		if err != nil || it.NextAttempt.Before(time.Now().Add(30*time.Minute)) {
			t.Fatalf("item %s: %+v, %v; want its next attempt an hour on", id, it, err)
		}
	}

	// One item is due again when the worker is restarted (edited on
	// disk, as `letterbox serve queue retry` does from another process):
	// the rebuilt index has all three and attempts that one at once.
	it, _ := q.Get(ids[2])
	it.NextAttempt = time.Now().UTC()
	if err := q.save(it); err != nil {
		t.Fatal(err)
	}
	if q2, err := Open(dir, Options{Resolver: res}); err != nil || q2.idx.len() != 3 {
		t.Fatalf("index rebuilt at Open: %v; want 3 items", err)
	}
	_, scans2, _ := runQueue(t, dir, res)
	waitFor(t, "the attempt after restart", 5*time.Second, func() bool { return res.lookups.Load() == 5 })
	if n := scans2.Load(); n != 1 {
		t.Errorf("%d scans after restart, want 1", n)
	}
}

// TestDueIndexRescanKeepsNewer: an item added while the directory is
// being listed is not lost when the listing replaces the index.
func TestDueIndexRescanKeepsNewer(t *testing.T) {
	x := newDueIndex()
	now := time.Now()
	x.set("old", now.Add(time.Hour))
	since := x.stamp()
	x.set("new", now) // after the listing started
	x.reset([]*Item{{ID: "listed", NextAttempt: now.Add(time.Minute)}}, since, func(string) bool { return false })
	if x.len() != 2 {
		t.Fatalf("index has %d items, want new and listed (old was not listed: gone)", x.len())
	}
	if id, ok := x.popDue(now); !ok || id != "new" {
		t.Fatalf("popDue = %q, %v", id, ok)
	}
	if _, ok := x.popDue(now); ok {
		t.Fatal("popDue returned an item not yet due")
	}
	if at, ok := x.next(); !ok || !at.Equal(now.Add(time.Minute)) {
		t.Fatalf("next = %v, %v", at, ok)
	}
}

// TestNoScanWhileQuiet: during a long outage the worker does not list the
// queue directory at each poll (a listing reads every item's state:
// O(n) every PollInterval); it lists it again only when another process
// (`letterbox serve queue retry`) has changed the queue, and then
// attempts the retried item.
func TestNoScanWhileQuiet(t *testing.T) {
	dir := t.TempDir()
	res := &countingResolver{}
	q, err := Open(dir, Options{Resolver: res, PollInterval: 5 * time.Millisecond, Backoff: func(int) time.Duration { return time.Hour }})
	if err != nil {
		t.Fatal(err)
	}
	var scans, polls atomic.Int32
	q.onScan = func() { scans.Add(1) }
	q.onPoll = func() { polls.Add(1) }
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); q.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	var ids []string
	for i := range 3 {
		id, err := q.Enqueue(context.Background(), "a@x.test", []string{"b@y.test"}, strings.NewReader("Subject: q\r\n\r\nbody\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		waitFor(t, "an attempt", 5*time.Second, func() bool { return res.lookups.Load() == int32(i+1) })
	}
	p := polls.Load()
	waitFor(t, "20 polls", 10*time.Second, func() bool { return polls.Load() >= p+20 })
	if n := scans.Load(); n != 0 {
		t.Errorf("%d directory scans in 20 quiet polls, want none", n)
	}

	// Another process retries an item: the next poll sees it.
	cli, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Retry(ids[1]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the retried attempt", 5*time.Second, func() bool { return res.lookups.Load() == 4 })
	if n := scans.Load(); n != 1 {
		t.Errorf("%d directory scans after one retry from the command line, want 1", n)
	}
}
