package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCanonicalName(t *testing.T) {
	tests := []struct {
		in, want string
		reason   string // of the error, when want is ""
	}{
		{"inbox", "INBOX", ""},
		{"Inbox/Sub", "INBOX/Sub", ""},
		{"Projects/2026", "Projects/2026", ""},
		{"café", "café", ""},
		{"", "", "is empty"},
		{"a\x00b", "", "contains a control character"},
		{"a\x7f", "", "contains a control character"},
		{"a\xff", "", "is not valid UTF-8"},
		{"a*", "", "may not contain * or %"},
		{"a//b", "", "has an empty level"},
		{"/a", "", "has an empty level"},
		{strings.Repeat("x", 513), "", "is 513 bytes long"},
	}
	for _, tt := range tests {
		got, err := CanonicalName(tt.in)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("CanonicalName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		var ne *NameError
		if !errors.As(err, &ne) || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(ne.Reason, tt.reason) {
			t.Errorf("CanonicalName(%q) = %q, %v; want a NameError %q", tt.in, got, err, tt.reason)
		}
	}
}

// TestNameTooLongForDir: a name whose directory name would pass NAME_MAX
// is refused as invalid (not a mkdir error), on create and on a rename
// that would make a child's name too long; nothing changes.
func TestNameTooLongForDir(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for _, name := range []string{strings.Repeat("x", 256), strings.Repeat(".", 90), strings.Repeat("ab/", 90) + "c"} {
		if _, err := s.CreateMailbox(ctx, name, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("create %d bytes: %v, want ErrInvalid", len(name), err)
		}
	}
	if _, err := s.CreateMailbox(ctx, strings.Repeat("x", 255), ""); err != nil {
		t.Fatalf("create 255 bytes: %v", err)
	}
	if _, err := s.CreateMailbox(ctx, "p", ""); err != nil {
		t.Fatal(err)
	}
	child := "p/" + strings.Repeat("c", 200)
	if _, err := s.CreateMailbox(ctx, child, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.RenameMailbox(ctx, "p", strings.Repeat("q", 60)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("rename making a child too long: %v, want ErrInvalid", err)
	}
	for _, name := range []string{"p", child} {
		if _, err := s.Mailbox(ctx, name); err != nil {
			t.Errorf("%s after the refused rename: %v", name[:5], err)
		}
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() {
		t.Fatalf("check: %+v %v", rep, err)
	}
}
