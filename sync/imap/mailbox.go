package imapsync

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// mailboxState is the sync state of one mailbox.
type mailboxState struct {
	uv      uint32
	uidnext uint32
	modseq  uint64
	reset   []int64 // store ids to match after a UIDVALIDITY change
}

func (e *engine) loadState(ctx context.Context, mb string) (mailboxState, error) {
	var s mailboxState
	uv, err := stateUint(ctx, e.st, stateKey(mb, "uidvalidity"))
	if err != nil {
		return s, err
	}
	next, err := stateUint(ctx, e.st, stateKey(mb, "uidnext"))
	if err != nil {
		return s, err
	}
	if s.modseq, err = stateUint(ctx, e.st, stateKey(mb, "modseq")); err != nil {
		return s, err
	}
	s.uv, s.uidnext = uint32(uv), uint32(next)
	v, err := e.st.SyncState(ctx, stateKey(mb, "reset"))
	if err != nil {
		return s, err
	}
	if v != "" {
		if err := json.Unmarshal([]byte(v), &s.reset); err != nil {
			// The list only decides which local messages a UIDVALIDITY
			// change left without a server copy; without it they are
			// kept, never deleted on a guess.
			s.reset = nil
			e.note(mb, lbsync.PhaseHeaders, fmt.Sprintf("sync state %s cannot be read (%v): local messages the server may no longer have are kept", stateKey(mb, "reset"), err))
			if err := e.st.SetSyncState(ctx, map[string]string{stateKey(mb, "reset"): ""}); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

// syncMailbox brings one mailbox up to date except for bodies: UIDVALIDITY,
// new messages (headers), flags, expunges. The state is saved only after
// every step succeeded, so an interrupted run repeats the pass.
func (e *engine) syncMailbox(ctx context.Context, rb remoteBox) error {
	mb := rb.Local
	// The store is read while the server answers SELECT: on a mailbox
	// where nothing changed, that is all the work there is.
	cmd := e.c.selectStart(rb.Name)
	state, err := e.loadState(ctx, mb)
	count := -1
	if err == nil && e.c.cond && state.uidnext != 0 && len(state.reset) == 0 {
		if n, cerr := e.st.RemoteCount(ctx, mb); cerr == nil {
			count = n
		}
	}
	sel, serr := e.c.selectWait(rb.Name, cmd)
	if serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	uv := sel.UIDValidity
	if state.uv != uv {
		if state, err = e.resetMailbox(ctx, mb, state, uv); err != nil {
			return err
		}
		count = -1
	}
	cond := e.c.cond && sel.HighestModSeq != 0
	// Nothing changed (same UIDNEXT, HIGHESTMODSEQ and count): decided
	// from a count, before reading the mailbox's whole index.
	if cond && sel.UIDNext != 0 && uint32(sel.UIDNext) == state.uidnext && sel.HighestModSeq == state.modseq &&
		len(state.reset) == 0 && count == int(sel.NumMessages) {
		e.res.Mailboxes++
		return nil
	}
	ri, err := e.st.RemoteIndex(ctx, mb)
	if err != nil {
		return err
	}
	known := map[uint32]bool{}
	local := map[uint32]store.RemoteRef{}
	var zero []store.RemoteRef
	total := 0
	for _, r := range ri {
		if r.RemoteUID != 0 {
			known[r.RemoteUID] = true
		}
		if r.Elsewhere {
			continue
		}
		total++
		if r.RemoteUID != 0 {
			local[r.RemoteUID] = r
		} else {
			zero = append(zero, r)
		}
	}
	// Nothing changed: same UIDNEXT and HIGHESTMODSEQ, same count.
	if cond && sel.UIDNext != 0 && uint32(sel.UIDNext) == state.uidnext && sel.HighestModSeq == state.modseq &&
		int(sel.NumMessages) == len(known) && len(state.reset) == 0 {
		e.res.Mailboxes++
		return nil
	}

	var serverFlags map[uint32][]string
	var serverUIDs []uint32
	if cond {
		if serverUIDs, err = e.searchAll(mb); err != nil {
			return err
		}
	} else {
		if serverFlags, err = e.fetchFlags(mb, 0); err != nil {
			return err
		}
		for u := range serverFlags {
			serverUIDs = append(serverUIDs, u)
		}
		slices.Sort(serverUIDs)
	}
	onServer := make(map[uint32]bool, len(serverUIDs))
	for _, u := range serverUIDs {
		onServer[u] = true
	}
	var gone []uint32
	for ruid, ref := range local {
		if !onServer[ruid] {
			gone = append(gone, ref.UID)
		}
	}
	if massDelete(len(gone), total) && !e.opts.Force {
		return &MassDeleteError{Mailbox: mb, Deletions: len(gone), Total: total}
	}

	entries, err := pendingEntries(ctx, e.st)
	if err != nil {
		return err
	}
	ps := pending(entries, mb, uv)
	var fresh []uint32
	for _, u := range serverUIDs {
		if !known[u] && !ps.remote[u] {
			fresh = append(fresh, u)
		}
	}
	if len(fresh) > 0 {
		ad, err := e.newAdopter(ctx, mb, uv, zero, ps.moving)
		if err != nil {
			return err
		}
		e.refetch = nil
		if err := e.fetchNew(ctx, rb, uv, fresh, ad); err != nil {
			return err
		}
		if len(e.refetch) > 0 {
			if err := e.fetchBodyList(ctx, mb, e.refetch); err != nil {
				return err
			}
		}
	}

	if cond {
		switch {
		case len(local) > 0 && (state.modseq == 0 || sel.HighestModSeq < state.modseq):
			// No usable MODSEQ (first pass, or the server's went back).
			serverFlags, err = e.fetchFlags(mb, 0)
		case state.modseq != 0 && sel.HighestModSeq > state.modseq:
			serverFlags, err = e.fetchFlags(mb, state.modseq)
		}
		if err != nil {
			return err
		}
	}
	n, err := e.applyFlags(ctx, mb, uv, serverFlags, local)
	if err != nil {
		return err
	}
	e.res.Flags += n

	if len(gone) > 0 {
		slices.Sort(gone)
		removed, err := e.st.Remove(ctx, mb, gone)
		if err != nil {
			return err
		}
		e.res.Expunged += len(removed)
		e.report(lbsync.Event{Mailbox: mb, Phase: lbsync.PhaseExpunge, Done: len(removed), Total: len(gone)})
	}
	if len(state.reset) > 0 {
		if err := e.finishReset(ctx, mb, state.reset); err != nil {
			return err
		}
	}
	e.res.Mailboxes++
	return e.st.SetSyncState(ctx, map[string]string{
		stateKey(mb, "uidvalidity"): fmtUint(uv),
		stateKey(mb, "uidnext"):     fmtUint(uint32(sel.UIDNext)),
		stateKey(mb, "modseq"):      fmtUint(sel.HighestModSeq),
	})
}

// searchAll returns the UIDs of the selected mailbox (RFC 4731 ESEARCH
// when offered, for a compact answer).
func (e *engine) searchAll(mb string) ([]uint32, error) {
	var opts *imap.SearchOptions
	if e.c.caps.Has(imap.CapESearch) {
		opts = &imap.SearchOptions{ReturnAll: true}
	}
	data, err := e.c.c.UIDSearch(&imap.SearchCriteria{}, opts).Wait()
	if err != nil {
		return nil, e.c.wrap("search", mb, err)
	}
	var out []uint32
	if set, ok := data.All.(imap.UIDSet); ok {
		uids, ok := set.Nums()
		if ok {
			out = make([]uint32, len(uids))
			for i, u := range uids {
				out[i] = uint32(u)
			}
		}
	}
	return out, nil
}
