package imapd

import (
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// selected is a session's selected mailbox.
type selected struct {
	mb        *mailboxState
	tracker   *imapserver.SessionTracker
	readOnly  bool
	searchRes imap.UIDSet // SEARCHRES "$" (RFC 5182)
}

// name returns the mailbox's current name (it follows renames).
func (sel *selected) name() string {
	sel.mb.mu.Lock()
	defer sel.mb.mu.Unlock()
	return sel.mb.name
}

// systemFlags are the FLAGS of every mailbox; PERMANENTFLAGS adds \*, so
// clients may create keywords (RFC 9051 section 7.1).
var systemFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft}

// Select implements SELECT and EXAMINE (RFC 9051 sections 6.3.2, 6.3.3).
func (s *session) Select(name string, options *imap.SelectOptions) (data *imap.SelectData, err error) {
	defer s.done("SELECT", time.Now(), &err, "mailbox", name)
	s.unselect()
	cname, err := canonical(name)
	if err != nil {
		return nil, err
	}
	mb, tracker, snap, err := s.user.open(s.ctx(), cname)
	if err != nil {
		return nil, storeError("select "+cname, err)
	}
	s.sel = &selected{mb: mb, tracker: tracker, readOnly: options != nil && options.ReadOnly}
	mb.mu.Lock()
	n := uint32(len(mb.uids))
	var firstUnseen uint32
	if snap.FirstUnseen != 0 {
		if i, ok := slices.BinarySearch(mb.uids, snap.FirstUnseen); ok {
			firstUnseen = uint32(i + 1)
		}
	}
	mb.mu.Unlock()
	perm := append(slices.Clone(systemFlags), imap.FlagWildcard)
	if s.sel.readOnly {
		perm = nil
	}
	return &imap.SelectData{
		Flags:             systemFlags,
		PermanentFlags:    perm,
		NumMessages:       n,
		FirstUnseenSeqNum: firstUnseen,
		UIDNext:           imap.UID(snap.Mailbox.UIDNext),
		UIDValidity:       snap.Mailbox.UIDValidity,
	}, nil
}

// Unselect implements UNSELECT (RFC 3691) and the end of CLOSE.
func (s *session) Unselect() error {
	s.unselect()
	return nil
}

func (s *session) unselect() {
	if s.sel == nil {
		return
	}
	s.user.close(s.sel.mb, s.sel.tracker)
	s.sel = nil
}

// msgRef is one message as a session sees it.
type msgRef struct {
	seq uint32 // the session's sequence number
	uid uint32
}

// view returns the messages the client knows of, in order: those with a
// sequence number in the session's view. Messages announced to other
// sessions only are left out until this session's EXISTS.
func (sel *selected) view() []msgRef {
	sel.mb.mu.Lock()
	defer sel.mb.mu.Unlock()
	out := make([]msgRef, 0, len(sel.mb.uids))
	for i, uid := range sel.mb.uids {
		if seq := sel.tracker.EncodeSeqNum(uint32(i + 1)); seq != 0 {
			out = append(out, msgRef{seq: seq, uid: uid})
		}
	}
	return out
}

// resolve returns the messages of numSet (sequence numbers, UIDs or
// SEARCHRES "$") in the session's view, in order. "*" is the last message
// the client knows of (RFC 9051 section 9, seq-number).
func (sel *selected) resolve(numSet imap.NumSet) []msgRef {
	if imap.IsSearchRes(numSet) {
		numSet = sel.searchRes
	}
	switch set := numSet.(type) {
	case imap.UIDSet:
		return sel.resolveUIDs(set)
	case imap.SeqSet:
		all := sel.view()
		if len(all) == 0 {
			return nil
		}
		set = staticSeqSet(set, all[len(all)-1].seq)
		var out []msgRef
		for _, m := range all {
			if set.Contains(m.seq) {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// resolveUIDs is resolve of a UID set. The ranges are looked up by binary
// search in the mailbox's UIDs, so a command naming one message (mbsync
// fetches each body with its own UID FETCH) costs O(log n), not the walk
// over every message that view makes: 10,000 such commands on a
// 10,000-message mailbox were 10^8 sequence-number lookups.
func (sel *selected) resolveUIDs(set imap.UIDSet) []msgRef {
	sel.mb.mu.Lock()
	defer sel.mb.mu.Unlock()
	uids := sel.mb.uids
	// The last message the client knows of: those announced to other
	// sessions only have no sequence number here (they are at the end).
	last := len(uids) - 1
	for last >= 0 && sel.tracker.EncodeSeqNum(uint32(last+1)) == 0 {
		last--
	}
	if last < 0 {
		return nil
	}
	uids = uids[:last+1]
	set = staticUIDSet(set, uids[last])
	// The index intervals [lo, hi) of the ranges, sorted and merged, so
	// that the messages come out in order and once each.
	spans := make([][2]int, 0, len(set))
	for _, r := range set {
		lo, _ := slices.BinarySearch(uids, uint32(r.Start))
		hi, found := slices.BinarySearch(uids, uint32(r.Stop))
		if found {
			hi++
		}
		if lo < hi {
			spans = append(spans, [2]int{lo, hi})
		}
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var out []msgRef
	next := 0 // the first index not yet taken
	for _, sp := range spans {
		for i := max(sp[0], next); i < sp[1]; i++ {
			if seq := sel.tracker.EncodeSeqNum(uint32(i + 1)); seq != 0 {
				out = append(out, msgRef{seq: seq, uid: uids[i]})
			}
		}
		next = max(next, sp[1])
	}
	return out
}

// staticSeqSet and staticUIDSet replace "*" by last. The ranges are
// added again, sorted and merged, because Contains searches them by
// binary search: "2,5:*" with 3 the last is 2,3:5, which it must not see
// unsorted (it missed the 3).
func staticSeqSet(set imap.SeqSet, last uint32) imap.SeqSet {
	var out imap.SeqSet
	for _, r := range set {
		out.AddRange(staticRange(r.Start, r.Stop, last))
	}
	return out
}

func staticUIDSet(set imap.UIDSet, last uint32) imap.UIDSet {
	var out imap.UIDSet
	for _, r := range set {
		a, b := staticRange(uint32(r.Start), uint32(r.Stop), last)
		out.AddRange(imap.UID(a), imap.UID(b))
	}
	return out
}

// staticRange replaces "*" (0) by last and orders the range: "559:*" with
// 559 above the last UID still means the last message (RFC 9051 section
// 6.4.9).
func staticRange(start, stop, last uint32) (uint32, uint32) {
	if start == 0 {
		start = last
	}
	if stop == 0 {
		stop = last
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, stop
}

// uidsOf returns the UIDs of refs.
func uidsOf(refs []msgRef) []uint32 {
	out := make([]uint32, len(refs))
	for i, r := range refs {
		out[i] = r.uid
	}
	return out
}

// mailbox returns the selected mailbox's name, or an error when another
// session deleted it.
func (s *session) mailbox() (string, error) {
	s.sel.mb.mu.Lock()
	defer s.sel.mb.mu.Unlock()
	if s.sel.mb.deleted {
		return "", errMailboxGone
	}
	return s.sel.mb.name, nil
}

// Expunge implements EXPUNGE, UID EXPUNGE (RFC 9051 sections 6.4.3,
// 6.4.9) and the silent expunge of CLOSE. The untagged EXPUNGE responses
// come from the tracker when imapserver polls after the command, so every
// session, this one included, hears of each expunge exactly once.
func (s *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) (err error) {
	defer s.done("EXPUNGE", time.Now(), &err)
	if s.sel.readOnly {
		if w == nil || *w == (imapserver.ExpungeWriter{}) {
			return nil // CLOSE of an EXAMINEd mailbox expunges nothing
		}
		return errReadOnly
	}
	name, err := s.mailbox()
	if err != nil {
		return err
	}
	refs := s.sel.view()
	if uids != nil {
		set := staticUIDSet(*uids, lastUID(refs))
		refs = slices.DeleteFunc(refs, func(m msgRef) bool { return !set.Contains(imap.UID(m.uid)) })
	}
	if len(refs) == 0 {
		return nil
	}
	_, err = s.st.Expunge(s.ctx(), name, uidsOf(refs))
	return storeError("expunge "+name, err)
}

func lastUID(refs []msgRef) uint32 {
	if len(refs) == 0 {
		return 0
	}
	return refs[len(refs)-1].uid
}
