package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestSnapshotAndUsage(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i := 0; i < 3; i++ {
		flags := []string{FlagSeen}
		if i == 1 {
			flags = []string{FlagDeleted}
		}
		mustAppend(t, s, "INBOX", coreMsg(fmt.Sprintf("%d@x", i), "s", "b"), flags...)
	}
	snap, err := s.Snapshot(ctx, "inbox")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(snap.UIDs, []uint32{1, 2, 3}) || snap.FirstUnseen != 2 || snap.Mailbox.Total != 3 {
		t.Fatalf("snapshot %+v", snap)
	}
	u, err := s.Usage(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := s.Fetch(ctx, "INBOX", nil)
	var size int64
	for _, m := range msgs {
		size += m.Size
	}
	if u.Deleted != 1 || u.Size != size {
		t.Fatalf("usage %+v, size %d", u, size)
	}
	if _, err := s.Snapshot(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}
