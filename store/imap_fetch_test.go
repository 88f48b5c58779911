package store

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestIMAPFetch: IMAPFetch gives the fields it promises as Fetch does,
// for one UID (the prepared statement), several, more than a chunk, UIDs
// that do not exist, and another mailbox's id.
func TestIMAPFetch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	var items []AppendItem
	for i := range 1203 {
		raw := coreMsg(fmt.Sprintf("m%d@x", i), "subject", "body")
		var flags []string
		if i%3 == 0 {
			flags = []string{FlagSeen, "$Label"}
		}
		items = append(items, AppendItem{Open: openString(raw), Flags: flags})
	}
	if _, err := s.AppendMany(ctx, "INBOX", items); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMailbox(ctx, "Archive", ""); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "Archive", coreMsg("other@x", "other", "body"))
	inbox, err := s.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	archive, err := s.Mailbox(ctx, "Archive")
	if err != nil {
		t.Fatal(err)
	}
	all := make([]uint32, 0, 1210)
	for u := uint32(1); u <= 1210; u++ {
		all = append(all, u)
	}
	for _, tc := range []struct {
		name string
		mbID int64
		box  string
		uids []uint32
	}{
		{"one", inbox.ID, "INBOX", []uint32{7}},
		{"one missing", inbox.ID, "INBOX", []uint32{5000}},
		{"several", inbox.ID, "INBOX", []uint32{1, 3, 4, 900}},
		{"chunks and missing", inbox.ID, "INBOX", all},
		{"other mailbox", archive.ID, "Archive", []uint32{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.IMAPFetch(ctx, tc.mbID, tc.uids)
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.Fetch(ctx, tc.box, tc.uids)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d messages, want %d", len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.ID != w.ID || g.MailboxID != w.MailboxID || g.Mailbox != w.Mailbox || g.UID != w.UID || g.ModSeq != w.ModSeq ||
					!slices.Equal(g.Flags, w.Flags) || !g.InternalDate.Equal(w.InternalDate) || g.Size != w.Size || g.File != w.File {
					t.Fatalf("message %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func openString(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}
