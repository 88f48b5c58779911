package store_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mailgen"

	"github.com/letterbox-mail/letterbox/store/mime"
)

// BenchmarkSearchInMailbox is BenchmarkSearchOneWord scoped to INBOX
// (SearchOptions.Mailbox), as the interface searches one folder.
func BenchmarkSearchInMailbox(b *testing.B) {
	s := openFixture(b)
	ctx := context.Background()
	for _, w := range benchWords {
		b.Run(w, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				msgs, err := s.Search(ctx, w, store.SearchOptions{Mailbox: "INBOX", Limit: pageSize})
				if err != nil || len(msgs) == 0 {
					b.Fatalf("search %q: %d rows, %v", w, len(msgs), err)
				}
			}
		})
	}
}

// BenchmarkCount counts the matches of one word in the whole store and in
// INBOX, named in the query or by SearchOptions.Mailbox.
func BenchmarkCount(b *testing.B) {
	s := openFixture(b)
	ctx := context.Background()
	for _, w := range benchWords[:3] {
		b.Run(w, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if n, err := s.Count(ctx, w, store.SearchOptions{}); err != nil || n == 0 {
					b.Fatalf("count %q: %d, %v", w, n, err)
				}
			}
		})
		b.Run(w+"/INBOX", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if n, err := s.Count(ctx, w+" in:INBOX", store.SearchOptions{}); err != nil || n == 0 {
					b.Fatalf("count %q: %d, %v", w, n, err)
				}
			}
		})
		b.Run(w+"/Mailbox", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if n, err := s.Count(ctx, w, store.SearchOptions{Mailbox: "INBOX"}); err != nil || n == 0 {
					b.Fatalf("count %q: %d, %v", w, n, err)
				}
			}
		})
	}
}

// BenchmarkParseMessage parses 200 corpus messages per op, as an append
// does before indexing.
func BenchmarkParseMessage(b *testing.B) {
	g := mailgen.New(mailgen.Options{Seed: benchSeed, Count: 200})
	var msgs [][]byte
	var size int64
	for m, ok := g.Next(); ok; m, ok = g.Next() {
		msgs = append(msgs, m.Raw)
		size += int64(len(m.Raw))
	}
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, raw := range msgs {
			if _, err := mime.Parse(bytes.NewReader(raw)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
