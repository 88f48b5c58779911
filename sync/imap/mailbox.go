package imapsync

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
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
//
// It does the mailbox's network work and returns the store work left
// (tail): waiting for the new messages' writers, the flag changes, the
// expunges and the saved state, which the caller runs on its store lane
// while the next mailbox is fetched. A nil tail means it was all done
// here (nothing changed, or a UIDVALIDITY reset, or adopted messages
// whose bodies had to be fetched again).
func (e *engine) syncMailbox(ctx context.Context, rb remoteBox) (tail func() error, err error) {
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
		return nil, serr
	}
	if err != nil {
		return nil, err
	}
	uv := sel.UIDValidity
	if state.uv != uv {
		if state, err = e.resetMailbox(ctx, mb, state, uv); err != nil {
			return nil, err
		}
		count = -1
	}
	cond := e.c.cond && sel.HighestModSeq != 0
	// Nothing changed (same UIDNEXT, HIGHESTMODSEQ and count): decided
	// from a count, before reading the mailbox's whole index.
	if cond && sel.UIDNext != 0 && uint32(sel.UIDNext) == state.uidnext && sel.HighestModSeq == state.modseq &&
		len(state.reset) == 0 && count == int(sel.NumMessages) {
		e.count(func(r *Result) { r.Mailboxes++ })
		return nil, nil
	}

	// The server's UIDs (UID SEARCH ALL, or the full flag fetch) and,
	// while the search is answered, what the store has: the mailbox's
	// remote UIDs, read from their own small index. Message rows are read
	// only where a step needs them: the UIDs the server expunged, the
	// flags it changed, and local messages that new ones may be.
	var serverFlags map[uint32][]string
	var serverUIDs []uint32
	var search *imapclient.SearchCommand
	if cond {
		search = e.searchStart()
	} else if serverFlags, err = e.fetchFlags(mb, 0); err != nil {
		return nil, err
	}
	knownUIDs, kerr := e.st.RemoteUIDs(ctx, mb)
	if cond {
		if serverUIDs, err = e.searchWait(mb, search); err != nil {
			return nil, err
		}
	} else {
		for u := range serverFlags {
			serverUIDs = append(serverUIDs, u)
		}
		slices.Sort(serverUIDs)
	}
	if kerr != nil {
		return nil, kerr
	}
	known := make(map[uint32]bool, len(knownUIDs))
	for _, u := range knownUIDs {
		known[u] = true
	}
	onServer := make(map[uint32]bool, len(serverUIDs))
	for _, u := range serverUIDs {
		onServer[u] = true
	}
	var expunged []uint32
	for _, u := range knownUIDs {
		if !onServer[u] {
			expunged = append(expunged, u)
		}
	}
	var gone []uint32
	if len(expunged) > 0 {
		refs, err := e.st.RemoteRefs(ctx, mb, expunged)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if !r.Elsewhere {
				gone = append(gone, r.UID)
			}
		}
	}
	if len(gone) > 100 && !e.opts.Force {
		m, err := e.st.Mailbox(ctx, mb)
		if err != nil {
			return nil, err
		}
		if massDelete(len(gone), m.Total) {
			return nil, &MassDeleteError{Mailbox: mb, Deletions: len(gone), Total: m.Total}
		}
	}

	entries, err := pendingEntries(ctx, e.st)
	if err != nil {
		return nil, err
	}
	ps := pending(entries, mb, uv)
	var fresh []uint32
	for _, u := range serverUIDs {
		if !known[u] && !ps.remote[u] {
			fresh = append(fresh, u)
		}
	}

	// The flags the server changed, fetched before the new messages, so
	// that the store work left after them needs no network.
	if cond {
		switch {
		case len(knownUIDs) > 0 && (state.modseq == 0 || sel.HighestModSeq < state.modseq):
			// No usable MODSEQ (first pass, or the server's went back).
			serverFlags, err = e.fetchFlags(mb, 0)
		case state.modseq != 0 && sel.HighestModSeq > state.modseq:
			serverFlags, err = e.fetchFlags(mb, state.modseq)
		}
		if err != nil {
			return nil, err
		}
	}
	// Of those, the messages the store had before this pass (new ones
	// come with their flags).
	var changed []uint32
	for u := range serverFlags {
		if known[u] {
			changed = append(changed, u)
		}
	}
	slices.Sort(changed)

	var stored func() error
	if len(fresh) > 0 {
		ad := e.newAdopter(mb, uv, ps.moving)
		wait, err := e.fetchNew(ctx, rb, uv, fresh, ad)
		if err != nil {
			return nil, err
		}
		stored = func() error {
			_, err := wait()
			return err
		}
		if ad.adopted() {
			// Adopted copies of another size get the server's message,
			// over this connection: finish here.
			refetch, err := wait()
			if err != nil {
				return nil, err
			}
			stored = nil
			if len(refetch) > 0 {
				if err := e.fetchBodyList(ctx, mb, refetch); err != nil {
					return nil, err
				}
			}
		}
	}

	tail = func() error {
		if stored != nil {
			if err := stored(); err != nil {
				return err
			}
		}
		local := map[uint32]store.RemoteRef{}
		if len(changed) > 0 {
			refs, err := e.st.RemoteRefs(ctx, mb, changed)
			if err != nil {
				return err
			}
			for _, r := range refs {
				if !r.Elsewhere {
					local[r.RemoteUID] = r
				}
			}
		}
		n, err := e.applyFlags(ctx, mb, uv, serverFlags, local)
		if err != nil {
			return err
		}
		e.count(func(r *Result) { r.Flags += n })
		if len(gone) > 0 {
			slices.Sort(gone)
			removed, err := e.st.Remove(ctx, mb, gone)
			if err != nil {
				return err
			}
			e.count(func(r *Result) { r.Expunged += len(removed) })
			e.report(lbsync.Event{Mailbox: mb, Phase: lbsync.PhaseExpunge, Done: len(removed), Total: len(gone)})
		}
		if len(state.reset) > 0 {
			if err := e.finishReset(ctx, mb, state.reset); err != nil {
				return err
			}
		}
		e.count(func(r *Result) { r.Mailboxes++ })
		return e.st.SetSyncState(ctx, map[string]string{
			stateKey(mb, "uidvalidity"): fmtUint(uv),
			stateKey(mb, "uidnext"):     fmtUint(uint32(sel.UIDNext)),
			stateKey(mb, "modseq"):      fmtUint(sel.HighestModSeq),
		})
	}
	if len(state.reset) > 0 || stored == nil && len(fresh) > 0 {
		// A reset, or adopted messages: in order, here.
		return nil, tail()
	}
	return tail, nil
}

// syncMailboxNow is syncMailbox with its store work done before it
// returns (one mailbox on its own: nothing to overlap it with).
func (e *engine) syncMailboxNow(ctx context.Context, rb remoteBox) error {
	tail, err := e.syncMailbox(ctx, rb)
	if err != nil || tail == nil {
		return err
	}
	return tail()
}

// searchStart sends UID SEARCH ALL for the selected mailbox (RFC 4731
// ESEARCH when offered, for a compact answer); searchWait takes the UIDs.
func (e *engine) searchStart() *imapclient.SearchCommand {
	var opts *imap.SearchOptions
	if e.c.caps.Has(imap.CapESearch) {
		opts = &imap.SearchOptions{ReturnAll: true}
	}
	return e.c.c.UIDSearch(&imap.SearchCriteria{}, opts)
}

// searchWait returns the UIDs the search of searchStart found.
func (e *engine) searchWait(mb string, cmd *imapclient.SearchCommand) ([]uint32, error) {
	data, err := cmd.Wait()
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
