package imapsync

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// UIDVALIDITY changes (RFC 9051 section 2.3.1.1) and matching server
// messages to local ones without downloading them again.

// resetMailbox handles a mailbox whose UIDVALIDITY is not the stored one
// (or none is stored yet): it remembers which local messages were on the
// server, forgets their remote UIDs and stores the new UIDVALIDITY. The
// order of the three writes makes a crash at any point safe: the list is
// saved before anything is forgotten, and the new UIDVALIDITY only after.
func (e *engine) resetMailbox(ctx context.Context, mb string, state mailboxState, uv uint32) (mailboxState, error) {
	ri, err := e.st.RemoteIndex(ctx, mb)
	if err != nil {
		return state, err
	}
	ids := state.reset
	for _, r := range ri {
		if !r.Elsewhere && r.RemoteUID != 0 && !slices.Contains(ids, r.ID) {
			ids = append(ids, r.ID)
		}
	}
	if state.uv == 0 && len(ids) == 0 {
		// First sync of this mailbox.
		return mailboxState{uv: uv}, e.st.SetSyncState(ctx, map[string]string{stateKey(mb, "uidvalidity"): fmtUint(uv)})
	}
	b, _ := json.Marshal(ids)
	err = e.st.SetSyncState(ctx, map[string]string{
		stateKey(mb, "reset"): string(b), stateKey(mb, "uidvalidity"): "",
		stateKey(mb, "uidnext"): "", stateKey(mb, "modseq"): "", stateKey(mb, "uids"): "",
	})
	if err != nil {
		return state, err
	}
	if err := e.st.ResetRemote(ctx, mb); err != nil {
		return state, err
	}
	if err := e.st.SetSyncState(ctx, map[string]string{stateKey(mb, "uidvalidity"): fmtUint(uv)}); err != nil {
		return state, err
	}
	e.note(mb, lbsync.PhaseHeaders, "UIDVALIDITY changed: re-synced")
	return mailboxState{uv: uv, reset: ids}, nil
}

// finishReset removes the local messages that were on the server before
// a UIDVALIDITY change and matched nothing after it: the server no
// longer has them. The mass-delete guard applies.
func (e *engine) finishReset(ctx context.Context, mb string, ids []int64) error {
	ri, err := e.st.RemoteIndex(ctx, mb)
	if err != nil {
		return err
	}
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var left []uint32
	total := 0
	for _, r := range ri {
		if r.Elsewhere {
			continue
		}
		total++
		if want[r.ID] && r.RemoteUID == 0 {
			left = append(left, r.UID)
		}
	}
	if massDelete(len(left), total) && !e.opts.Force {
		return &MassDeleteError{Mailbox: mb, Deletions: len(left), Total: total}
	}
	if len(left) > 0 {
		removed, err := e.st.Remove(ctx, mb, left)
		if err != nil {
			return err
		}
		e.count(func(r *Result) { r.Expunged += len(removed) })
	}
	return e.st.SetSyncState(ctx, map[string]string{stateKey(mb, "reset"): ""})
}

// adopter decides, for each new server message, whether a local message
// without a remote UID is the same message: one a replayed move or append
// put there (by UID, from the learned map), or one with the same
// Message-ID. Each local message is adopted at most once. The local
// messages are looked up by the Message-IDs of the new messages as they
// arrive (load), so a mailbox of any size costs a few index lookups.
type adopter struct {
	st     Store
	mb     string
	byUID  map[uint32]int64    // learned remote UID -> store id
	moving map[int64]bool      // store ids a pending journal entry moves
	local  map[int64]uint32    // store id -> local UID, messages without remote UID
	byMID  map[string][]uint32 // Message-ID -> local UIDs without remote UID
	used   map[uint32]bool
	asked  map[string]bool // Message-IDs looked up
	// ids are the learned store ids, looked up with the first load.
	ids []int64
	// any is set once a message was adopted.
	any bool
}

// Actions for a new server message.
const (
	download = iota
	adopt
	skip // the message is elsewhere locally; a pending journal entry moves it
)

func (e *engine) newAdopter(mb string, uv uint32, moving map[int64]bool) *adopter {
	a := &adopter{st: e.st, mb: mb, byUID: map[uint32]int64{}, moving: moving, local: map[int64]uint32{},
		byMID: map[string][]uint32{}, used: map[uint32]bool{}, asked: map[string]bool{}}
	for id, l := range e.learned {
		if l.Mailbox == mb && l.UV == uv {
			a.byUID[l.UID] = id
			a.ids = append(a.ids, id)
		}
	}
	return a
}

// load looks up the local messages without a remote UID that have one of
// the Message-IDs mids (normalised), and the learned ones, before match
// is asked about them.
func (a *adopter) load(ctx context.Context, mids []string) error {
	if a == nil {
		return nil
	}
	var ask []string
	for _, m := range mids {
		if m != "" && !a.asked[m] {
			a.asked[m] = true
			ask = append(ask, m)
		}
	}
	if len(ask) == 0 && len(a.ids) == 0 {
		return nil
	}
	found, err := a.st.LocalCandidates(ctx, a.mb, ask, a.ids)
	if err != nil {
		return err
	}
	a.ids = nil
	for _, m := range found {
		if _, ok := a.local[m.ID]; ok {
			continue
		}
		a.local[m.ID] = m.UID
		if mid := normMID(m.MessageID); mid != "" {
			a.byMID[mid] = append(a.byMID[mid], m.UID)
		}
	}
	return nil
}

// adopted reports whether match adopted a message.
func (a *adopter) adopted() bool { return a != nil && a.any }

// match returns what to do with server message ruid whose Message-ID is
// mid (normalised), and the local UID to adopt.
func (a *adopter) match(ruid uint32, mid string) (int, uint32) {
	if a == nil {
		return download, 0
	}
	if id, ok := a.byUID[ruid]; ok {
		if uid, ok := a.local[id]; ok && !a.used[uid] {
			a.used[uid] = true
			a.any = true
			return adopt, uid
		}
		if a.moving[id] {
			return skip, 0
		}
	}
	for _, uid := range a.byMID[mid] {
		if !a.used[uid] {
			a.used[uid] = true
			a.any = true
			return adopt, uid
		}
	}
	return download, 0
}

// normMID strips angle brackets and white space from a Message-ID.
func normMID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	return strings.TrimSuffix(s, ">")
}
