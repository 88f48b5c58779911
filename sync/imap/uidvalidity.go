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
		stateKey(mb, "uidnext"): "", stateKey(mb, "modseq"): "",
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
// Message-ID. Each local message is adopted at most once.
type adopter struct {
	byUID  map[uint32]int64    // learned remote UID -> store id
	moving map[int64]bool      // store ids a pending journal entry moves
	local  map[int64]uint32    // store id -> local UID, messages without remote UID
	byMID  map[string][]uint32 // Message-ID -> local UIDs without remote UID
	used   map[uint32]bool
	// ready is closed once local and byMID are read (err tells how).
	ready chan struct{}
	err   error
	// any is set once a message was adopted.
	any bool
}

// Actions for a new server message.
const (
	download = iota
	adopt
	skip // the message is elsewhere locally; a pending journal entry moves it
)

// newAdopter returns the adopter of new messages of mailbox mb. It reads
// the local messages without a remote UID in the background, while the
// new messages are fetched; wait returns once they are read.
func (e *engine) newAdopter(ctx context.Context, mb string, uv uint32, moving map[int64]bool) *adopter {
	a := &adopter{byUID: map[uint32]int64{}, moving: moving, local: map[int64]uint32{}, byMID: map[string][]uint32{},
		used: map[uint32]bool{}, ready: make(chan struct{})}
	for id, l := range e.learned {
		if l.Mailbox == mb && l.UV == uv {
			a.byUID[l.UID] = id
		}
	}
	go func() {
		defer close(a.ready)
		zero, err := e.st.LocalOnly(ctx, mb)
		if err != nil || len(zero) == 0 {
			a.err = err
			return
		}
		uids := make([]uint32, len(zero))
		for i, r := range zero {
			uids[i] = r.UID
			a.local[r.ID] = r.UID
		}
		msgs, err := e.st.Fetch(ctx, mb, uids)
		if err != nil {
			a.err = err
			return
		}
		for _, m := range msgs {
			if mid := normMID(m.MessageID); mid != "" {
				a.byMID[mid] = append(a.byMID[mid], m.UID)
			}
		}
	}()
	return a
}

// wait waits until the adopter has read the local messages, and returns
// the error of reading them. match may be called only after it.
func (a *adopter) wait() error {
	if a == nil {
		return nil
	}
	<-a.ready
	return a.err
}

// adopted reports whether match adopted a message.
func (a *adopter) adopted() bool { return a != nil && a.any }

// match returns what to do with server message ruid whose Message-ID is
// mid, and the local UID to adopt.
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
	for _, uid := range a.byMID[normMID(mid)] {
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
