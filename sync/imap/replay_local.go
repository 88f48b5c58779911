package imapsync

import (
	"context"
	"errors"

	"github.com/letterbox-mail/letterbox/store"
)

// The local half of replays: recording where replayed messages went,
// undoing moves the server cannot make, removing copies the server lost.

// remoteUIDs returns the remote UIDs local mailbox mb knows, when its
// stored UIDVALIDITY is uv (none otherwise).
func (e *engine) remoteUIDs(ctx context.Context, mb string, uv uint32) (map[uint32]bool, error) {
	out := map[uint32]bool{}
	stored, err := stateUint(ctx, e.st, stateKey(mb, "uidvalidity"))
	if err != nil || uint32(stored) != uv {
		return out, err
	}
	ri, err := e.st.RemoteIndex(ctx, mb)
	if err != nil {
		return nil, err
	}
	for _, r := range ri {
		if r.RemoteUID != 0 {
			out[r.RemoteUID] = true
		}
	}
	return out, nil
}

// mapLocal records the learned remote UIDs of messages ids that are now
// in local mailbox mb, when mb's stored UIDVALIDITY is the learned one.
// The others are matched later from the learned map; their old mapping
// stays (it keeps the message's partial mark), and the learned map
// overrides it in resolve.
func (e *engine) mapLocal(ctx context.Context, mb string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	stored, err := stateUint(ctx, e.st, stateKey(mb, "uidvalidity"))
	if err != nil || stored == 0 {
		return err
	}
	ri, err := e.st.RemoteIndex(ctx, mb)
	if err != nil {
		return err
	}
	byID := map[int64]store.RemoteRef{}
	for _, r := range ri {
		if !r.Elsewhere {
			byID[r.ID] = r
		}
	}
	var pairs []store.RemotePair
	for _, id := range ids {
		l, ok := e.learned[id]
		r, here := byID[id]
		if ok && here && l.Mailbox == mb && l.UV == uint32(stored) {
			pairs = append(pairs, store.RemotePair{UID: r.UID, RemoteUID: l.UID})
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return e.st.SetRemoteUIDs(ctx, mb, pairs)
}

// finishLocalMove makes in the store a move the server just made, for
// messages still in the source that no later entry moves: the process
// died between journaling the move and applying it.
func (e *engine) finishLocalMove(ctx context.Context, p payload, ids []int64) error {
	later := map[int64]bool{}
	for _, en := range e.later {
		if en.Op == opMove {
			for _, m := range en.p.Msgs {
				later[m.ID] = true
			}
		}
	}
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = !later[id]
	}
	ri, err := e.st.RemoteIndex(ctx, p.Mailbox)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var uids []uint32
	for _, r := range ri {
		if !r.Elsewhere && want[r.ID] {
			uids = append(uids, r.UID)
		}
	}
	if len(uids) == 0 {
		return nil
	}
	if _, _, err := e.st.Move(ctx, p.Mailbox, uids, p.Dest); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// removeLocalCopies removes from local mailbox mb the messages of msgs
// that are there without a remote UID: their server copy is gone.
func (e *engine) removeLocalCopies(ctx context.Context, mb string, msgs []msgRef) error {
	ri, err := e.st.RemoteIndex(ctx, mb)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	want := map[int64]bool{}
	for _, m := range msgs {
		want[m.ID] = true
	}
	var uids []uint32
	for _, r := range ri {
		if !r.Elsewhere && want[r.ID] && r.RemoteUID == 0 {
			uids = append(uids, r.UID)
		}
	}
	if len(uids) == 0 {
		return nil
	}
	removed, err := e.st.Remove(ctx, mb, uids)
	e.res.Expunged += len(removed)
	return err
}

// moveBack undoes a local move the server cannot make: the messages still
// in the target go back to the source, where their remote UIDs (kept
// with them) apply again. It returns the dropError for the entry.
func (e *engine) moveBack(ctx context.Context, p payload, why string) error {
	ri, err := e.st.RemoteIndex(ctx, p.Dest)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	want := map[int64]bool{}
	for _, m := range p.Msgs {
		want[m.ID] = true
	}
	var uids []uint32
	for _, r := range ri {
		if !r.Elsewhere && want[r.ID] {
			uids = append(uids, r.UID)
		}
	}
	if len(uids) > 0 {
		if _, _, err := e.st.Move(ctx, p.Dest, uids, p.Mailbox); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		why += "; moved back to " + p.Mailbox
	}
	return drop("%s", why)
}

// findToken returns the store id of the message Local.Append stored with
// token, and whether it is still there.
func (e *engine) findToken(ctx context.Context, token string) (int64, bool, error) {
	ids, err := e.st.RemoteIDs(ctx)
	if err != nil {
		return 0, false, err
	}
	for _, r := range ids {
		if r.Key == token {
			return r.MessageID, r.Present, nil
		}
	}
	return 0, false, nil
}
