package imapd

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/letterbox-mail/letterbox/store"
)

// resolveByView is resolve as it was before resolveUIDs, every message of
// the session's view tested against the set, but with each range tested
// in turn: UIDSet.Contains searches the ranges by binary search, which
// needs them sorted, and "*" made static can unsort them ("20:30,40:*"
// with 15 the last UID is 20:30,15:40).
func resolveByView(sel *selected, set imap.UIDSet) []msgRef {
	all := sel.view()
	if len(all) == 0 {
		return nil
	}
	set = staticUIDSet(set, all[len(all)-1].uid)
	var out []msgRef
	for _, m := range all {
		for _, r := range set {
			if imap.UID(m.uid) >= r.Start && imap.UID(m.uid) <= r.Stop {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// TestResolveUIDs compares resolveUIDs with the walk over the view on
// random mailboxes (UIDs with gaps), random UID sets (overlapping and
// unordered ranges, "*", ranges past the end) and random changes queued
// for the session but not yet announced to it (new messages it must not
// see, expunges that shift its sequence numbers).
func TestResolveUIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 1))
	log := slog.New(slog.DiscardHandler)
	for round := range 400 {
		n := rng.IntN(40)
		var uids []uint32
		for u := uint32(0); len(uids) < n; {
			u += 1 + uint32(rng.IntN(3))
			uids = append(uids, u)
		}
		mb := &mailboxState{id: 1, name: "INBOX", uids: slices.Clone(uids), tracker: imapserver.NewMailboxTracker(uint32(n))}
		sel := &selected{mb: mb, tracker: mb.tracker.NewSession()}
		other := mb.tracker.NewSession()
		modseq := uint64(1)
		next := uint32(1000)
		for range rng.IntN(6) {
			modseq++
			if rng.IntN(2) == 0 || len(mb.uids) == 0 {
				next += uint32(1 + rng.IntN(3))
				mb.apply(store.Change{Kind: store.ChangeMessageAdded, MailboxID: 1, UID: next, ModSeq: modseq}, nil, log)
			} else {
				u := mb.uids[rng.IntN(len(mb.uids))]
				mb.apply(store.Change{Kind: store.ChangeExpunged, MailboxID: 1, UID: u, ModSeq: modseq}, nil, log)
			}
		}
		var set imap.UIDSet
		for range 1 + rng.IntN(4) {
			a, b := imap.UID(rng.IntN(1100)), imap.UID(rng.IntN(1100))
			switch rng.IntN(5) {
			case 0:
				a = 0 // "*"
			case 1:
				b = 0
			case 2:
				b = a
			}
			set.AddRange(a, b) // as the command parser builds it
		}
		got, want := sel.resolveUIDs(set), resolveByView(sel, set)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: uids %v, now %v, view %v, set %v:\n got %v\nwant %v", round, uids, mb.uids, sel.view(), set, got, want)
		}
		if got := sel.resolve(set); !slices.Equal(got, want) {
			t.Fatalf("round %d: resolve %v = %v, want %v", round, set, got, want)
		}
		other.Close()
		sel.tracker.Close()
	}
}

// TestResolveStar: "n:*" with n past the last message means the last
// message (RFC 9051 section 6.4.9), also beside other ranges. The ranges
// made static were searched unsorted, and "2,5:*" found message 2 only.
func TestResolveStar(t *testing.T) {
	mb := &mailboxState{id: 1, name: "INBOX", uids: []uint32{10, 20, 30}, tracker: imapserver.NewMailboxTracker(3)}
	sel := &selected{mb: mb, tracker: mb.tracker.NewSession()}
	defer sel.tracker.Close()
	seq := func(s string) imap.NumSet {
		var set imap.SeqSet
		for _, r := range parseRanges(t, s) {
			set.AddRange(r[0], r[1])
		}
		return set
	}
	uid := func(s string) imap.NumSet {
		var set imap.UIDSet
		for _, r := range parseRanges(t, s) {
			set.AddRange(imap.UID(r[0]), imap.UID(r[1]))
		}
		return set
	}
	for _, tc := range []struct {
		set  imap.NumSet
		want []uint32
	}{
		{seq("2,5:*"), []uint32{20, 30}},
		{seq("*"), []uint32{30}},
		{seq("1,3:2"), []uint32{10, 20, 30}},
		{uid("10,40:*"), []uint32{10, 30}},
		{uid("604,717:*"), []uint32{30}},
		{uid("15:25"), []uint32{20}},
		{uid("31:*"), []uint32{30}},
	} {
		var got []uint32
		for _, r := range sel.resolve(tc.set) {
			got = append(got, r.uid)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("resolve %v = %v, want %v", tc.set, got, tc.want)
		}
	}
}

// parseRanges reads "1,3:5,7:*" into ranges, "*" as 0.
func parseRanges(t *testing.T, s string) [][2]uint32 {
	var out [][2]uint32
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(part, ":")
		if !ok {
			b = a
		}
		var r [2]uint32
		for i, v := range []string{a, b} {
			if v == "*" {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				t.Fatalf("range %q: %v", s, err)
			}
			r[i] = uint32(n)
		}
		out = append(out, r)
	}
	return out
}
