package imapsync

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Journal replay: local changes pushed to the server in the order they
// were made. See the package doc for the rules.

// dropError says an entry can never apply; it is dropped with a note.
type dropError struct{ why string }

// Error returns why the entry is dropped.
func (d *dropError) Error() string { return d.why }

func drop(format string, args ...any) error { return &dropError{why: fmt.Sprintf(format, args...)} }

// opName is an op as people read it.
func opName(op string) string { return strings.TrimPrefix(op, "imap.") }

// replay replays the journal. A temporary failure stops it (the rest
// waits for the next sync); a refusal counts an attempt on that entry and
// goes on, and the last of maxAttempts marks it failed for good: it stays
// in the journal with the server's words (store.JournalGiveUp) for the
// user to retry or drop, and is skipped until then. Deletions the
// mass-delete guard holds back stay in the journal and are returned as
// *MassDeleteError.
func (e *engine) replay(ctx context.Context) error {
	entries, err := pendingEntries(ctx, e.st)
	if err != nil {
		return fmt.Errorf("imap replay: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	blocked, guardErrs, err := e.guardDeletes(entries)
	if err != nil {
		return err
	}
	for i, en := range entries {
		e.later = entries[i+1:]
		e.report(lbsync.Event{Mailbox: en.p.Mailbox, Phase: lbsync.PhaseReplay, Done: i, Total: len(entries)})
		if en.Failed || en.Op == opDelete && blocked[en.p.Mailbox] {
			continue
		}
		err := e.replayOne(ctx, en)
		var d *dropError
		switch {
		case err == nil:
			e.res.Replayed++
		case errors.As(err, &d):
			e.note(en.p.Mailbox, lbsync.PhaseReplay, "dropped "+opName(en.Op)+": "+d.why)
			e.res.Dropped++
		case isNo(err) && !isTemporary(err):
			e.res.Failed++
			e.report(lbsync.Event{Mailbox: en.p.Mailbox, Phase: lbsync.PhaseReplay, Err: err})
			mark := e.st.JournalFailed
			if en.Attempts+1 >= maxAttempts {
				mark = e.st.JournalGiveUp
				e.note(en.p.Mailbox, lbsync.PhaseReplay, fmt.Sprintf("%s failed after %d refusals, kept among the failed changes: %v", opName(en.Op), maxAttempts, err))
			}
			if err := mark(ctx, en.ID, err.Error()); err != nil {
				return fmt.Errorf("imap replay: %w", err)
			}
			continue
		default:
			return err
		}
		if err := e.st.JournalDone(ctx, en.ID); err != nil {
			return fmt.Errorf("imap replay: %w", err)
		}
	}
	e.report(lbsync.Event{Phase: lbsync.PhaseReplay, Done: len(entries), Total: len(entries)})
	left, err := pendingEntries(ctx, e.st)
	if err != nil {
		return fmt.Errorf("imap replay: %w", err)
	}
	e.hideOwned(left)
	return errors.Join(guardErrs...)
}

// guardDeletes applies the mass-delete guard to the journal's deletions
// per server mailbox (its size from STATUS).
func (e *engine) guardDeletes(entries []entry) (map[string]bool, []error, error) {
	count := map[string]int{}
	for _, en := range entries {
		if en.Op == opDelete {
			count[en.p.Mailbox] += len(en.p.Msgs)
		}
	}
	blocked := map[string]bool{}
	var errs []error
	for mb, n := range count {
		rb, ok := e.boxes[mb]
		if !ok || n <= 100 || e.opts.Force {
			continue
		}
		data, err := e.c.c.Status(rb.Name, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			if isNo(err) && !isTemporary(err) {
				continue
			}
			return nil, nil, e.c.wrap("status", mb, err)
		}
		total := 0
		if data.NumMessages != nil {
			total = int(*data.NumMessages)
		}
		if massDelete(n, total) {
			blocked[mb] = true
			err := &MassDeleteError{Mailbox: mb, OnServer: true, Deletions: n, Total: total}
			e.report(lbsync.Event{Mailbox: mb, Phase: lbsync.PhaseReplay, Err: err})
			errs = append(errs, err)
		}
	}
	return blocked, errs, nil
}

func (e *engine) replayOne(ctx context.Context, en entry) error {
	switch en.Op {
	case opFlags:
		return e.replayFlags(ctx, en.p)
	case opMove:
		return e.replayMove(ctx, en.p)
	case opDelete:
		return e.replayDelete(ctx, en.p)
	case opAppend:
		return e.replayAppend(ctx, en)
	case opCreate:
		return e.replayCreate(ctx, en.p)
	case opRename:
		return e.replayRename(ctx, en.p)
	case opRmbox:
		return e.replayRmbox(en.p)
	case opSubscribe:
		return e.replaySubscribe(en.p)
	}
	return nil
}

// selectFor selects the server mailbox of local mailbox mb unless it is
// selected already. A mailbox the server does not have is a dropError
// (its messages are gone there: the expunge wins); one it refuses to
// select is its refusal, which counts an attempt.
func (e *engine) selectFor(mb string) (remoteBox, *imap.SelectData, error) {
	rb, ok := e.boxes[mb]
	if !ok {
		return rb, nil, drop("%s does not exist on the server", mb)
	}
	if e.c.selected == rb.Name && e.c.sel != nil {
		return rb, e.c.sel, nil
	}
	sel, err := e.c.selectBox(rb.Name)
	if err != nil {
		return rb, nil, err
	}
	return rb, sel, nil
}

// resolve finds the current remote UIDs of msgs (0 for none) in the
// selected mailbox rb whose UIDVALIDITY is uv; entryUV is the one the
// captured UIDs belong to. The sources, most recent first: where a replay
// put the message (the learned map; it makes a captured UID stale), the
// captured UID, the message's current remote UID, a search for its
// Message-ID.
func (e *engine) resolve(ctx context.Context, rb remoteBox, uv, entryUV uint32, msgs []msgRef) ([]uint32, error) {
	out := make([]uint32, len(msgs))
	var current map[int64]uint32
	for i, m := range msgs {
		// A replay since the capture knows better than the capture.
		if l, ok := e.learned[m.ID]; ok {
			if l.Mailbox == rb.Local && l.UV == uv {
				out[i] = l.UID
				continue
			}
		} else if m.RemoteUID != 0 && entryUV == uv {
			out[i] = m.RemoteUID
			continue
		}
		if current == nil {
			current = map[int64]uint32{}
			stored, err := stateUint(ctx, e.st, stateKey(rb.Local, "uidvalidity"))
			if err != nil {
				return nil, err
			}
			if uint32(stored) == uv {
				ri, err := e.st.RemoteIndex(ctx, rb.Local)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, err
				}
				for _, r := range ri {
					if r.RemoteUID != 0 {
						current[r.ID] = r.RemoteUID
					}
				}
			}
		}
		if u := current[m.ID]; u != 0 {
			out[i] = u
			continue
		}
		u, err := e.searchMID(rb, m.MessageID)
		if err != nil {
			return nil, err
		}
		out[i] = u
	}
	return out, nil
}

// searchMID returns the UID of the one message of the selected mailbox
// with Message-ID mid, or 0 when there is none or more than one.
func (e *engine) searchMID(rb remoteBox, mid string) (uint32, error) {
	if mid == "" || strings.ContainsAny(mid, "\r\n\"\\") {
		return 0, nil
	}
	crit := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + mid + ">"}}}
	data, err := e.c.c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return 0, e.c.wrap("search", rb.Local, err)
	}
	set, ok := data.All.(imap.UIDSet)
	if !ok {
		return 0, nil
	}
	uids, ok := set.Nums()
	if !ok || len(uids) != 1 {
		return 0, nil
	}
	return uint32(uids[0]), nil
}

// uidSet builds a UID set of the non-zero uids.
func uidSet(uids []uint32) imap.UIDSet {
	var set imap.UIDSet
	for _, u := range uids {
		if u != 0 {
			set.AddNum(imap.UID(u))
		}
	}
	return set
}
