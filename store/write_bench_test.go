package store_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// Write benchmarks: what one process pays per write, with the
// production durability. They exist to show that sharing a store
// between processes (the write lock, the counters read in every
// transaction, session marks) costs a single process nothing that
// matters (docs/BENCHMARKS.md, "Many processes on one store").
//
//	go test -run '^$' -bench 'Append|SetFlags' -benchtime 2000x ./store
//
// Besides wall time each reports cpu-ns/op, the process's CPU time (user
// and system) per operation, which a machine busy with other work
// disturbs far less; LETTERBOX_BENCH_NOSYNC=1 opens the stores without
// fsync, leaving only the CPU work.

func benchOpen(b *testing.B) *store.Store {
	b.Helper()
	s, err := store.Open(context.Background(), b.TempDir(), &store.Options{NoSync: os.Getenv("LETTERBOX_BENCH_NOSYNC") == "1"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func benchMsg(i int) string {
	return fmt.Sprintf("From: a@b.test\r\nTo: c@d.test\r\nSubject: bench %d\r\nMessage-ID: <b%d@test>\r\n\r\n%s\r\n", i, i, strings.Repeat("some words of a body ", 50))
}

// BenchmarkAppendParallel appends from 8 goroutines at once (the group
// commit's case: an MX, a POP3 download); ns/op is per message.
func BenchmarkAppendParallel(b *testing.B) {
	ctx := context.Background()
	s := benchOpen(b)
	var next sync.Mutex
	i := 0
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	defer reportCPU(b, cpuTime())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			next.Lock()
			i++
			n := i
			next.Unlock()
			if _, err := s.Append(ctx, store.Inbox, strings.NewReader(benchMsg(n)), store.AppendOptions{Remote: store.Remote{ID: fmt.Sprintf("pop3:%d", n)}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAppendOne appends one message at a time.
func BenchmarkAppendOne(b *testing.B) {
	ctx := context.Background()
	s := benchOpen(b)
	b.ResetTimer()
	defer reportCPU(b, cpuTime())
	for i := 0; i < b.N; i++ {
		if _, err := s.Append(ctx, store.Inbox, strings.NewReader(benchMsg(i)), store.AppendOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetFlags toggles \Seen on one message: a write transaction
// and a rename, nothing else.
func BenchmarkSetFlags(b *testing.B) {
	ctx := context.Background()
	s := benchOpen(b)
	r, err := s.Append(ctx, store.Inbox, strings.NewReader(benchMsg(0)), store.AppendOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	defer reportCPU(b, cpuTime())
	for i := 0; i < b.N; i++ {
		op := store.FlagsAdd
		if i%2 == 1 {
			op = store.FlagsRemove
		}
		if _, err := s.SetFlags(ctx, store.Inbox, []uint32{r.UID}, op, []string{store.FlagSeen}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenClose opens a store of 1,000 messages, reads its
// mailboxes, writes one sync-state key and closes it: the store's part of
// a sync that finds nothing new.
func BenchmarkOpenClose(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	s, err := store.Open(ctx, root, nil)
	if err != nil {
		b.Fatal(err)
	}
	var items []store.AppendItem
	for i := range 1000 {
		raw := benchMsg(i)
		items = append(items, store.AppendItem{Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(raw)), nil }})
	}
	if _, err := s.AppendMany(ctx, store.Inbox, items); err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.ResetTimer()
	defer reportCPU(b, cpuTime())
	for i := 0; i < b.N; i++ {
		s, err := store.Open(ctx, root, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Mailboxes(ctx); err != nil {
			b.Fatal(err)
		}
		if err := s.SetSyncState(ctx, map[string]string{"bench": fmt.Sprint(i)}); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
