package imapsync

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

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
	reset   []int64  // store ids to match after a UIDVALIDITY change
	proof   uidProof // the server's UIDs below uidnext (incr.go)
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
	p, err := e.st.SyncState(ctx, stateKey(mb, "uids"))
	if err != nil {
		return s, err
	}
	if s.proof = parseProof(p); s.proof.next != s.uidnext {
		s.proof = uidProof{}
	}
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
// It does the mailbox's network work, starts the flag changes and the
// expunges in the store (startEarly), and returns the store work left
// (tail): waiting for those, for the new messages' writers, and the
// saved state, which the caller runs on its store lane while the next
// mailboxes are fetched. A nil tail means it was all done here (nothing
// changed, or a UIDVALIDITY reset, or adopted messages whose bodies had
// to be fetched again, or an error).
func (e *engine) syncMailbox(ctx context.Context, rb remoteBox) (tail func() error, err error) {
	mb := rb.Local
	// The store is read while the server answers SELECT: on a mailbox
	// where nothing changed, that is all the work there is.
	views := e.c.views.Load()
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

	// The server's UIDs and, while the server answers, what the store
	// has: the mailbox's remote UIDs, read from their own small index.
	// With CONDSTORE the flags changed since the last pass come first, with
	// the new messages' sizes, and the UIDs from them when the counts
	// prove nothing was expunged (incr.go), else from UID SEARCH ALL;
	// without it, from the full flag fetch. Message rows are read only
	// where a step needs them: the UIDs the server expunged, the flags it
	// changed, and local messages that new ones may be.
	var serverFlags map[uint32][]string
	var serverUIDs []uint32
	var knownUIDs []uint32
	var meta map[uint32]newMeta
	if cond {
		// No usable MODSEQ (first pass, or the server's went back): every
		// message's flags, once the store's UIDs are known.
		full := state.modseq == 0 || sel.HighestModSeq < state.modseq
		var fetch *imapclient.FetchCommand
		if !full && sel.HighestModSeq > state.modseq {
			fetch = e.changesStart(state.modseq)
		}
		knownUIDs, err = e.st.RemoteUIDs(ctx, mb)
		var ch changes
		if fetch != nil {
			var ferr error
			if ch, ferr = e.changesWait(mb, fetch); ferr != nil {
				return nil, ferr
			}
			serverFlags, meta = ch.flags, ch.meta
		}
		if err != nil {
			return nil, err
		}
		ok := false
		if !full && e.c.views.Load() == views {
			serverUIDs, ok = provedUIDs(state.proof, knownUIDs, sel.NumMessages, ch.flags, uint32(sel.UIDNext))
		}
		if !ok {
			if serverUIDs, err = e.searchWait(mb, e.searchStart()); err != nil {
				return nil, err
			}
			slices.Sort(serverUIDs) // the proof saved below needs them in order
		}
		if full && len(knownUIDs) > 0 {
			if serverFlags, err = e.fetchFlags(mb); err != nil {
				return nil, err
			}
		}
	} else {
		if serverFlags, err = e.fetchFlags(mb); err != nil {
			return nil, err
		}
		if knownUIDs, err = e.st.RemoteUIDs(ctx, mb); err != nil {
			return nil, err
		}
		for u := range serverFlags {
			serverUIDs = append(serverUIDs, u)
		}
		slices.Sort(serverUIDs)
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

	// Of those, the messages the store had before this pass (new ones
	// come with their flags).
	var changed []uint32
	for u := range serverFlags {
		if known[u] {
			changed = append(changed, u)
		}
	}
	slices.Sort(changed)

	// The flag changes and the expunges touch only messages the store
	// had before this pass: they go to the store at once, beside the
	// fetch of the new messages and the writing of their files (the
	// store's writes take turns, so the flags' transaction fits in the
	// time the new files take to write). The new messages never wait
	// for them, nor they for the new messages; the saved state waits for
	// both (the tail).
	early := e.startEarly(ctx, mb, uv, serverFlags, changed, gone)
	defer func() {
		if tail == nil && early != nil {
			// A failed network step, or the work done here: the early
			// store work ends before syncMailbox does.
			if eerr := early(); err == nil {
				err = eerr
			}
		}
	}()

	var stored func() error
	if len(fresh) > 0 {
		ad := e.newAdopter(mb, uv, ps.moving)
		wait, err := e.fetchNew(ctx, rb, uv, fresh, ad, meta)
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

	// What the next pass proves its UIDs against; none without
	// CONDSTORE, where the flag fetch lists every UID anyway.
	var proof uidProof
	if cond && sel.UIDNext != 0 {
		proof = makeProof(serverUIDs, uint32(sel.UIDNext))
	}
	work := func() error {
		eerr := early()
		early = nil
		if stored != nil {
			if err := stored(); err != nil {
				return err
			}
		}
		if eerr != nil {
			return eerr
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
			stateKey(mb, "uids"):        proof.String(),
		})
	}
	if len(state.reset) > 0 || stored == nil && len(fresh) > 0 {
		// A reset, or adopted messages: in order, here.
		return nil, work()
	}
	return work, nil
}

// startEarly starts the store work of a mailbox pass that needs neither
// the network nor the new messages (see syncMailbox): the server's flag
// changes to the messages changed (remote UIDs the store had before the
// pass) and the removal of gone (local UIDs the server expunged). The
// function it returns waits for that work and returns its error.
func (e *engine) startEarly(ctx context.Context, mb string, uv uint32, serverFlags map[uint32][]string, changed, gone []uint32) func() error {
	if len(changed) == 0 && len(gone) == 0 {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	go func() { done <- e.early(ctx, mb, uv, serverFlags, changed, gone) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = <-done })
		return err
	}
}

// early is the work startEarly starts.
func (e *engine) early(ctx context.Context, mb string, uv uint32, serverFlags map[uint32][]string, changed, gone []uint32) error {
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
	return nil
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
