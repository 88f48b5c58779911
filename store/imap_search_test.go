package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSearchUIDs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
	add := func(raw string, d int, flags ...string) {
		t.Helper()
		if _, err := s.Append(ctx, "INBOX", strings.NewReader(raw), AppendOptions{Flags: flags, InternalDate: day(d)}); err != nil {
			t.Fatal(err)
		}
	}
	add(coreMsg("a@x", "quarterly report", "numbers attached"), 1, FlagSeen)                        // 1
	add(coreMsg("b@x", "lunch", "pizza tomorrow", "Cc: Carol <carol@example.net>"), 2, FlagFlagged) // 2
	add(coreMsg("c@x", "Report draft", "see the draft numbers"), 3, FlagSeen, "$Work")              // 3
	add(coreMsg("d@x", "hello", strings.Repeat("long body ", 500)), 4)                              // 4

	tests := []struct {
		name string
		f    Filter
		want []uint32
	}{
		{"all", Filter{}, []uint32{1, 2, 3, 4}},
		{"uid ranges", Filter{UIDs: []UIDRange{{1, 1}, {4, 3}}}, []uint32{1, 3, 4}},
		{"empty uid set", Filter{UIDs: []UIDRange{}}, nil},
		{"seen", Filter{Flags: []string{`\seen`}}, []uint32{1, 3}},
		{"unseen", Filter{NotFlags: []string{FlagSeen}}, []uint32{2, 4}},
		{"keyword", Filter{Flags: []string{"$work"}}, []uint32{3}},
		{"no keyword", Filter{NotFlags: []string{"$Work"}}, []uint32{1, 2, 4}},
		{"since before", Filter{Since: day(2).Add(-12 * time.Hour), Before: day(4).Add(-12 * time.Hour)}, []uint32{2, 3}},
		{"sent before", Filter{SentBefore: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}, nil},
		{"larger", Filter{Larger: 2000}, []uint32{4}},
		{"smaller", Filter{Smaller: 2000}, []uint32{1, 2, 3}},
		{"subject substring", Filter{Header: []HeaderMatch{{"Subject", "REPO"}}}, []uint32{1, 3}},
		{"from name", Filter{Header: []HeaderMatch{{"From", "ann example <ann@"}}}, []uint32{1, 2, 3, 4}},
		{"cc", Filter{Header: []HeaderMatch{{"CC", "carol@"}}}, []uint32{2}},
		{"message-id", Filter{Header: []HeaderMatch{{"Message-ID", "<c@x>"}}}, []uint32{3}},
		{"body words", Filter{Body: []string{"draft numbers"}}, []uint32{3}},
		{"text in subject", Filter{Text: []string{"lunch"}}, []uint32{2}},
		{"blank text", Filter{Text: []string{" "}}, []uint32{1, 2, 3, 4}},
		{"punctuation only", Filter{Body: []string{"!!"}}, nil},
		{"not", Filter{Not: []Filter{{Flags: []string{FlagSeen}}}}, []uint32{2, 4}},
		{"or", Filter{Or: [][2]Filter{{{Flags: []string{FlagFlagged}}, {Larger: 2000}}}}, []uint32{2, 4}},
		{"nested", Filter{Flags: []string{FlagSeen}, Not: []Filter{{Or: [][2]Filter{{{Body: []string{"draft"}}, {UIDs: []UIDRange{{2, 2}}}}}}}}, []uint32{1}},
	}
	many := make([]UIDRange, 40)
	for i := range many {
		many[i] = UIDRange{uint32(2*i + 2), uint32(2*i + 2)}
	}
	tests = append(tests, struct {
		name string
		f    Filter
		want []uint32
	}{"many ranges", Filter{UIDs: many}, []uint32{2, 4}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SearchUIDs(ctx, "INBOX", &tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := s.SearchUIDs(ctx, "INBOX", &Filter{Header: []HeaderMatch{{"Bcc", "x"}}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unindexed header: %v", err)
	}
	if _, err := s.SearchUIDs(ctx, "nope", &Filter{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing mailbox: %v", err)
	}
}
