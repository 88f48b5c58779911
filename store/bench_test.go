package store_test

// Benchmarks of the store against the targets of docs/BENCHMARKS.md: import,
// open + first page, later pages, one-word search. Run them with
//
//	go test -run '^$' -bench . ./store
//	LETTERBOX_BENCH_N=100000 go test -run '^$' -bench . -benchtime 20x ./store
//
// LETTERBOX_BENCH_N is the size of the store the read benchmarks use
// (default 10,000). That store is built once, from the mailgen corpus of
// seed benchSeed, and cached under $TMPDIR/letterbox-bench/ for later runs:
// building 100,000 messages takes minutes. Delete the directory (or bump
// fixtureVersion when the index schema changes) to rebuild it. Instead,
// LETTERBOX_BENCH_STORE=DIR uses an existing store (bench/run.sh passes the
// one it built); its INBOX must hold at least one page. Nothing here runs
// without -bench.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"
)

const (
	benchSeed      = 1
	fixtureVersion = 2 // part of the cache key; bump to invalidate cached stores
	importPerOp    = 1000
	pageSize       = 50
)

// benchWords are one-word queries from the mailgen vocabulary, common to
// rare (the vocabulary is Zipf-distributed).
var benchWords = []string{"meeting", "budget", "telescope", "narwhal", "solstice"}

// benchN is the number of messages in the read benchmarks' store.
func benchN(b *testing.B) int {
	s := os.Getenv("LETTERBOX_BENCH_N")
	if s == "" {
		return 10000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < pageSize {
		b.Fatalf("LETTERBOX_BENCH_N=%q: want a number >= %d", s, pageSize)
	}
	return n
}

// cacheDir is where fixtures live between runs, keyed by what makes them.
func cacheDir(kind string, n int) string {
	return filepath.Join(os.TempDir(), "letterbox-bench", fmt.Sprintf("%s-v%d-n%d-seed%d", kind, fixtureVersion, n, benchSeed))
}

// cached returns dir, building it with build (into a temporary sibling,
// renamed into place when complete) unless a complete one exists.
func cached(dir string, build func(tmp string) error) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp")
	if err != nil {
		return "", err
	}
	if err := build(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o600); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return dir, nil
}

// maildirFixture returns a Maildir holding the first n messages of the corpus.
func maildirFixture(n int) (string, error) {
	dir, err := cached(cacheDir("maildir", n), func(tmp string) error {
		_, err := mailgen.WriteMaildir(filepath.Join(tmp, "INBOX"), mailgen.Options{Seed: benchSeed, Count: n})
		return err
	})
	return filepath.Join(dir, "INBOX"), err
}

var (
	storeOnce sync.Once
	storeDir  string
	storeErr  error
)

// storeFixture returns the root of a store holding benchN messages in
// INBOX, built once per process and cached on disk. The fixture is built
// with NoSync; the benchmarks open it as production does.
func storeFixture(b *testing.B) string {
	if dir := os.Getenv("LETTERBOX_BENCH_STORE"); dir != "" {
		return dir
	}
	n := benchN(b)
	storeOnce.Do(func() {
		var dir string
		dir, storeErr = cached(cacheDir("store", n), func(tmp string) error {
			b.Logf("building a %d-message store in %s (cached for later runs)", n, cacheDir("store", n))
			md, err := os.MkdirTemp("", "letterbox-bench-maildir")
			if err != nil {
				return err
			}
			defer os.RemoveAll(md)
			if _, err := mailgen.WriteMaildir(md, mailgen.Options{Seed: benchSeed, Count: n}); err != nil {
				return err
			}
			ctx := context.Background()
			s, err := store.Open(ctx, filepath.Join(tmp, "store"), &store.Options{NoSync: true})
			if err != nil {
				return err
			}
			st, err := s.Import(ctx, []string{md}, store.ImportOptions{BatchSize: 1000})
			if cerr := s.Close(); err == nil {
				err = cerr
			}
			if err == nil && st.Imported != n {
				err = fmt.Errorf("imported %d of %d messages: %v", st.Imported, n, st.Failed)
			}
			return err
		})
		storeDir = filepath.Join(dir, "store")
	})
	if storeErr != nil {
		b.Fatalf("store fixture: %v", storeErr)
	}
	return storeDir
}

// openFixture opens the fixture store for the duration of the benchmark.
func openFixture(b *testing.B) *store.Store {
	s, err := store.Open(context.Background(), storeFixture(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkImport imports importPerOp messages into a new store per op,
// with the production durability (fsync per batch).
func BenchmarkImport(b *testing.B) {
	md, err := maildirFixture(importPerOp)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		root := b.TempDir()
		b.StartTimer()
		s, err := store.Open(ctx, root, nil)
		if err != nil {
			b.Fatal(err)
		}
		st, err := s.Import(ctx, []string{md}, store.ImportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if st.Imported != importPerOp {
			b.Fatalf("imported %d of %d: %v", st.Imported, importPerOp, st.Failed)
		}
		os.RemoveAll(root)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*importPerOp)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkOpenFirstPage opens the store (reconcile included) and lists the
// newest page of INBOX; Close is not timed.
func BenchmarkOpenFirstPage(b *testing.B) {
	root := storeFixture(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := store.Open(ctx, root, nil)
		if err != nil {
			b.Fatal(err)
		}
		msgs, err := s.List(ctx, store.ListOptions{Mailbox: "INBOX", Sort: store.SortDate, Limit: pageSize})
		b.StopTimer()
		if err != nil || len(msgs) != pageSize {
			b.Fatalf("first page: %d rows, %v", len(msgs), err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkLaterPage lists a page by date at the second page, the middle
// and the last page of an open store.
func BenchmarkLaterPage(b *testing.B) {
	s := openFixture(b)
	ctx := context.Background()
	mb, err := s.Mailbox(ctx, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	n := int(mb.Total)
	for _, off := range []int{pageSize, n / 2, n - pageSize} {
		b.Run(fmt.Sprintf("offset=%d", off), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				msgs, err := s.List(ctx, store.ListOptions{Mailbox: "INBOX", Sort: store.SortDate, Limit: pageSize, Offset: off})
				if err != nil || len(msgs) != pageSize {
					b.Fatalf("page at %d: %d rows, %v", off, len(msgs), err)
				}
			}
		})
		// The same page by keyset (ListOptions.After), as the interface
		// pages when scrolling.
		prev, err := s.List(ctx, store.ListOptions{Mailbox: "INBOX", Sort: store.SortDate, Limit: 1, Offset: off - 1})
		if err != nil || len(prev) != 1 {
			b.Fatalf("row before %d: %v", off, err)
		}
		b.Run(fmt.Sprintf("after=%d", off), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				msgs, err := s.List(ctx, store.ListOptions{Mailbox: "INBOX", Sort: store.SortDate, Limit: pageSize, After: prev[0].Key()})
				if err != nil || len(msgs) != pageSize {
					b.Fatalf("page after %d: %d rows, %v", off, len(msgs), err)
				}
			}
		})
	}
}

// BenchmarkSearchOneWord runs one-word searches, first page, newest first,
// from a common word to a rare one.
func BenchmarkSearchOneWord(b *testing.B) {
	s := openFixture(b)
	ctx := context.Background()
	for _, w := range benchWords {
		b.Run(w, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				msgs, err := s.Search(ctx, w, store.SearchOptions{Limit: pageSize})
				if err != nil || len(msgs) == 0 {
					b.Fatalf("search %q: %d rows, %v", w, len(msgs), err)
				}
			}
		})
	}
}
