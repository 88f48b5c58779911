package store

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestSearchCountScope checks the one scoping rule of Search and Count:
// SearchOptions.Mailbox is ANDed through the syntax tree unless the query
// names a mailbox itself, and both give the same set.
func TestSearchCountScope(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for _, name := range []string{"Archive", "Old mail"} {
		if _, err := s.CreateMailbox(ctx, name, ""); err != nil {
			t.Fatal(err)
		}
	}
	add := func(box, id, subject, body string, flags ...string) {
		mustAppend(t, s, box, coreMsg(id, subject, body), flags...)
	}
	add(Inbox, "1@x", "check in:room", "lunch plans")
	add(Inbox, "2@x", "report", "the quarterly report", FlagSeen)
	add("Archive", "3@x", "report", "last year's report")
	add("Archive", "4@x", "check in:room", "archived lunch")
	add("Old mail", "5@x", "report", "an old report", FlagSeen)
	tests := []struct {
		q, box string
		want   []string // subjects' message ids, newest first is not checked
	}{
		{`report`, "", []string{"2@x", "3@x", "5@x"}},
		{`report`, Inbox, []string{"2@x"}},
		{`report`, "inbox", []string{"2@x"}},
		{`report`, "Archive", []string{"3@x"}},
		{`report is:unread`, "Archive", []string{"3@x"}},
		{`is:unread`, Inbox, []string{"1@x"}},
		{`subject:"check in:room"`, Inbox, []string{"1@x"}},
		{`subject:"check in:room"`, "", []string{"1@x", "4@x"}},
		{`report in:Archive`, Inbox, []string{"3@x"}},
		{`in:"Old mail"`, Inbox, []string{"5@x"}},
		{`report -in:Archive`, Inbox, []string{"2@x", "5@x"}},
		{`report OR lunch`, "Archive", []string{"3@x", "4@x"}},
		{`report in:Nowhere`, Inbox, nil},
		{`in:inbox`, "", []string{"1@x", "2@x"}},
	}
	for _, tt := range tests {
		msgs, err := s.Search(ctx, tt.q, SearchOptions{Mailbox: tt.box, Limit: -1})
		if err != nil {
			t.Errorf("Search(%q, %q): %v", tt.q, tt.box, err)
			continue
		}
		var got []string
		for _, m := range msgs {
			got = append(got, m.MessageID)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Search(%q, %q) = %v, want %v", tt.q, tt.box, got, tt.want)
		}
		n, err := s.Count(ctx, tt.q, SearchOptions{Mailbox: tt.box})
		if err != nil || n != len(tt.want) {
			t.Errorf("Count(%q, %q) = %d, %v; want %d", tt.q, tt.box, n, err, len(tt.want))
		}
	}
	if _, err := s.Search(ctx, "report", SearchOptions{Mailbox: "Nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Search in a missing mailbox: %v, want ErrNotFound", err)
	}
	if _, err := s.Count(ctx, "report", SearchOptions{Mailbox: "Nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Count in a missing mailbox: %v, want ErrNotFound", err)
	}
	for _, run := range []func() error{
		func() error { _, err := s.Search(ctx, "(report", SearchOptions{Mailbox: Inbox}); return err },
		func() error { _, err := s.Count(ctx, "(report", SearchOptions{}); return err },
	} {
		err := run()
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Pos != 0 || !errors.Is(err, ErrInvalid) {
			t.Errorf("malformed query: %v, want a *QueryError at 0 wrapping ErrInvalid", err)
		}
	}
}
