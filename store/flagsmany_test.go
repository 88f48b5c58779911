package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSetFlagsMany: several changes to overlapping groups of messages
// are applied in order, as one write with one MODSEQ; only messages whose
// flags changed are returned, the unread count and the Maildir names
// follow, and an empty change list or an empty UID list changes nothing.
func TestSetFlagsMany(t *testing.T) {
	ctx := context.Background()
	s, root := openTest(t)
	for i := 1; i <= 6; i++ {
		flags := []string{}
		if i%2 == 0 {
			flags = append(flags, FlagSeen)
		}
		mustAppend(t, s, Inbox, coreMsg(fmt.Sprintf("<m%d@x>", i), "m", "x"), flags...)
	}
	before, _ := s.Mailbox(ctx, Inbox)
	up, err := s.SetFlagsMany(ctx, Inbox, []FlagChange{
		{UIDs: []uint32{1, 2, 3}, Op: FlagsAdd, Flags: []string{FlagSeen}}, // 1, 3 change
		{UIDs: []uint32{3, 4}, Op: FlagsRemove, Flags: []string{FlagSeen}}, // 3 back, 4 changes
		{UIDs: []uint32{5, 9}, Op: FlagsAdd, Flags: []string{FlagFlagged}}, // 5; 9 does not exist
		{UIDs: []uint32{6}, Op: FlagsAdd, Flags: []string{FlagSeen}},       // no change
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32][]string{}
	var modseq uint64
	for _, u := range up {
		got[u.UID] = u.Flags
		if modseq != 0 && u.ModSeq != modseq {
			t.Errorf("updates carry MODSEQs %d and %d, want one", modseq, u.ModSeq)
		}
		modseq = u.ModSeq
	}
	want := map[uint32][]string{1: {FlagSeen}, 4: {}, 5: {FlagFlagged}}
	if len(got) != len(want) {
		t.Fatalf("updates %v, want %v", got, want)
	}
	for uid, f := range want {
		if !slices.Equal(got[uid], f) && !(len(f) == 0 && len(got[uid]) == 0) {
			t.Errorf("uid %d: flags %v, want %v", uid, got[uid], f)
		}
	}
	msgs, err := s.Fetch(ctx, Inbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		seen := slices.Contains(m.Flags, FlagSeen)
		if wantSeen := m.UID == 1 || m.UID == 2 || m.UID == 6; seen != wantSeen {
			t.Errorf("uid %d: seen %v, want %v (flags %v)", m.UID, seen, wantSeen, m.Flags)
		}
		name := filepath.Base(m.File)
		if info := name[strings.LastIndex(name, ":2,")+3:]; strings.Contains(info, "S") != seen {
			t.Errorf("uid %d: file %s does not follow \\Seen=%v", m.UID, name, seen)
		}
		if _, err := os.Stat(filepath.Join(root, m.File)); err != nil {
			t.Errorf("uid %d: %v", m.UID, err)
		}
	}
	after, _ := s.Mailbox(ctx, Inbox)
	// 1 became read and 4 unread: the unread count is as before.
	if after.Unread != before.Unread || after.HighestModSeq != modseq {
		t.Errorf("mailbox after: unread %d (before %d), modseq %d; want unread %d, modseq %d", after.Unread, before.Unread, after.HighestModSeq, before.Unread, modseq)
	}
	for _, none := range [][]FlagChange{nil, {{UIDs: []uint32{}, Op: FlagsAdd, Flags: []string{FlagDeleted}}}} {
		if up, err := s.SetFlagsMany(ctx, Inbox, none); err != nil || len(up) != 0 {
			t.Errorf("SetFlagsMany(%v) = %v, %v; want nothing", none, up, err)
		}
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() {
		t.Errorf("check: %+v, %v", rep, err)
	}
}
