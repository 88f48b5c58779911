package store

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestRemoteRefsMatchIndex: RemoteUIDs, RemoteRefs and LocalCandidates
// give RemoteIndex's rows in parts (the cheap queries an incremental sync
// uses), through partial messages, local-only ones, a local move not yet
// replayed (Elsewhere), a message moved in from another mailbox, UIDs
// the store does not know, and more UIDs than one query takes.
func TestRemoteRefsMatchIndex(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if _, err := s.CreateMailbox(ctx, "Archive", ""); err != nil {
		t.Fatal(err)
	}
	n := remoteRefsChunk + 40
	items := make([]AppendItem, n)
	for i := range items {
		raw := coreMsg(fmt.Sprintf("<r%d@x>", i), "r", "body")
		items[i] = AppendItem{
			Open:   func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(raw)), nil },
			Flags:  []string{`\Seen`}[:i%2],
			Remote: Remote{UID: uint32(1000 + 3*i), Partial: i%7 == 0},
		}
	}
	if _, err := s.AppendMany(ctx, Inbox, items); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, Inbox, coreMsg("<local@x>", "local", "x"))
	arch, err := s.Append(ctx, "Archive", strings.NewReader(coreMsg("<a@x>", "a", "x")), AppendOptions{Remote: Remote{UID: 77}})
	if err != nil {
		t.Fatal(err)
	}
	// One INBOX message moved to Archive, one Archive message moved in.
	if _, _, err := s.Move(ctx, Inbox, []uint32{5}, "Archive"); err != nil {
		t.Fatal(err)
	}
	back, _, err := s.Move(ctx, "Archive", []uint32{arch.UID}, Inbox)
	if err != nil {
		t.Fatal(err)
	}
	moved := back[0]
	if _, err := s.SetFlags(ctx, Inbox, []uint32{9}, FlagsAdd, []string{`\Flagged`, "$Work"}); err != nil {
		t.Fatal(err)
	}

	for _, mb := range []string{Inbox, "Archive"} {
		want, err := s.RemoteIndex(ctx, mb)
		if err != nil {
			t.Fatal(err)
		}
		known, err := s.RemoteUIDs(ctx, mb)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(known) {
			t.Errorf("%s: RemoteUIDs not sorted", mb)
		}
		ask := append(slices.Clone(known), 1, 2, 999999) // unknown ones too
		refs, err := s.RemoteRefs(ctx, mb, ask)
		if err != nil {
			t.Fatal(err)
		}
		// The rows without a remote UID, found by their Message-IDs (and
		// not by the Message-ID of a message that has one).
		var mids []string
		for _, r := range want {
			if r.RemoteUID == 0 {
				m, err := s.Get(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				mids = append(mids, m.MessageID)
			}
		}
		cands, err := s.LocalCandidates(ctx, mb, append(mids, "r3@x", "nowhere@x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		var local []RemoteRef
		for _, c := range cands {
			m, err := s.Get(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			local = append(local, RemoteRef{ID: c.ID, UID: c.UID, Flags: m.Flags, ModSeq: m.ModSeq})
		}
		got := append(refs, local...)
		key := func(r RemoteRef) string { return fmt.Sprintf("%+v", r) }
		ws, gs := make([]string, len(want)), make([]string, len(got))
		for i, r := range want {
			ws[i] = key(r)
		}
		for i, r := range got {
			gs[i] = key(r)
		}
		slices.Sort(ws)
		slices.Sort(gs)
		if !slices.Equal(ws, gs) {
			t.Errorf("%s: parts differ from RemoteIndex\n got %v\nwant %v", mb, gs, ws)
		}
		var remote int
		for _, r := range want {
			if r.RemoteUID != 0 {
				remote++
			}
		}
		if len(known) != remote {
			t.Errorf("%s: RemoteUIDs has %d, RemoteIndex %d remote UIDs", mb, len(known), remote)
		}
	}
	// By store id: the message moved in from Archive has no remote UID
	// in INBOX; one with a remote UID there is not a candidate.
	cands, err := s.LocalCandidates(ctx, Inbox, nil, []int64{moved.ID, 1})
	if err != nil || len(cands) != 1 || cands[0].ID != moved.ID {
		t.Fatalf("by id: %+v, %v; want only %d", cands, err, moved.ID)
	}
	// A subset comes back in remote UID order, unknown UIDs left out.
	refs, err := s.RemoteRefs(ctx, Inbox, []uint32{1009, 4, 1003})
	if err != nil || len(refs) != 2 || refs[0].RemoteUID != 1003 || refs[1].RemoteUID != 1009 {
		t.Fatalf("subset: %+v, %v", refs, err)
	}
}
