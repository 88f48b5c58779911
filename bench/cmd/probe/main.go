// Command probe measures, inside one process, what the letterbox interface
// does against a store: open it and show the first page, page further, and
// run one-word searches. It prints one "metric value unit" line per figure,
// ending with the peak resident set size of the process (getrusage
// ru_maxrss), for bench/run.sh.
//
// Usage:
//
//	go run ./bench/cmd/probe -store DIR [-runs 20] [-words meeting,budget]
//
// Times are medians over -runs repetitions; "open_first_page" repeats
// Open + List + Close, so each repetition pays the reconcile of Open. The
// store must not be open elsewhere. It imports only package store.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

func main() {
	dir := flag.String("store", "", "store `DIR` (required)")
	mailbox := flag.String("mailbox", "INBOX", "mailbox to page through")
	runs := flag.Int("runs", 20, "repetitions per figure")
	words := flag.String("words", "meeting,budget,telescope,narwhal,solstice", "comma-separated one-word queries")
	flag.Parse()
	if *dir == "" || *runs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *dir, *mailbox, *runs, strings.Split(*words, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, mailbox string, runs int, words []string) error {
	first, err := timeRuns(runs, func() error {
		s, err := store.Open(ctx, dir, nil)
		if err != nil {
			return err
		}
		defer s.Close()
		msgs, err := s.List(ctx, store.ListOptions{Mailbox: mailbox, Sort: store.SortDate, Limit: 50})
		if err == nil && len(msgs) != 50 {
			err = fmt.Errorf("first page has %d rows", len(msgs))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("open and first page: %w", err)
	}
	emit("open_first_page_first", first[0])
	emit("open_first_page", median(first))

	s, err := store.Open(ctx, dir, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	mb, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return err
	}
	fmt.Printf("messages %d count\n", mb.Total)
	last := max(int(mb.Total)-50, 0)
	for _, off := range []int{50, int(mb.Total) / 2, last} {
		d, err := timeRuns(runs, func() error {
			_, err := s.List(ctx, store.ListOptions{Mailbox: mailbox, Sort: store.SortDate, Limit: 50, Offset: off})
			return err
		})
		if err != nil {
			return fmt.Errorf("page at %d: %w", off, err)
		}
		emit(fmt.Sprintf("page_offset_%d", off), median(d))
	}

	var all []time.Duration
	for _, w := range words {
		n, err := s.Count(ctx, w, store.SearchOptions{})
		if err != nil {
			return err
		}
		d, err := timeRuns(runs, func() error {
			_, err := s.Search(ctx, w, store.SearchOptions{Limit: 50})
			return err
		})
		if err != nil {
			return fmt.Errorf("search %q: %w", w, err)
		}
		all = append(all, d...)
		fmt.Printf("hits_%s %d count\n", w, n)
		emit("search_"+w, median(d))
	}
	emit("search_all_words", median(all))

	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	fmt.Printf("maxrss %.1f MB\n", float64(ru.Maxrss)/1024) // Linux reports KiB
	return nil
}

// timeRuns calls fn n times and returns each duration.
func timeRuns(n int, fn func() error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func emit(name string, d time.Duration) {
	fmt.Printf("%s %.2f ms\n", name, float64(d.Microseconds())/1000)
}
