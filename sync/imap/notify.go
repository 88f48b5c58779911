package imapsync

import (
	"context"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// News in folders other than INBOX, while watching. IDLE tells only of
// the selected mailbox (INBOX). Where the server has NOTIFY (RFC 5465),
// Watch asks it for the events of the other folders too, which come as
// STATUS responses (section 5.1) and get those folders synced at once;
// elsewhere it polls: every Options.PollInterval it asks STATUS (RFC
// 9051 section 6.3.11) of each folder it syncs but INBOX, and syncs
// those whose state differs from what the store recorded at their last
// sync (UIDVALIDITY, UIDNEXT, message count, and HIGHESTMODSEQ with
// CONDSTORE, RFC 7162 section 3.1.6).

// notifyEvents are the events asked for: new and expunged messages, and
// flag changes (which RFC 5465 section 5.2 lets only go with the other
// two).
var notifyEvents = []string{"MessageNew", "MessageExpunge", "FlagChange"}

// startNotify sends NOTIFY SET for the selected mailbox and the folders
// Watch syncs ("subscribed" by default, "personal" when it syncs all or
// a list), and reports whether the server took it. A server that refuses
// it is polled instead.
func (e *engine) startNotify() (bool, error) {
	if !e.c.caps.Has(imap.CapNotify) {
		return false, nil
	}
	filter := "subscribed"
	if e.opts.AllMailboxes || len(e.opts.Mailboxes) > 0 {
		filter = "personal"
	}
	err := e.c.c.Notify(imapclient.NotifyGroup{Filter: "selected", Events: notifyEvents},
		imapclient.NotifyGroup{Filter: filter, Events: notifyEvents}).Wait()
	switch {
	case err == nil:
		return true, nil
	case isNo(err):
		e.note("", lbsync.PhaseIdle, "the server refused NOTIFY ("+err.Error()+"): polling the folders' STATUS")
		return false, nil
	}
	return false, e.c.wrap("notify", "", err)
}

// otherBoxes returns the folders Watch syncs (as targets chooses them
// from the last LIST, without its notes) but INBOX.
func (e *engine) otherBoxes() ([]remoteBox, error) {
	var out []remoteBox
	for _, rb := range e.boxes {
		want := e.opts.AllMailboxes || rb.Subscribed
		if len(e.opts.Mailboxes) > 0 {
			want = slices.ContainsFunc(e.opts.Mailboxes, func(n string) bool {
				cn, err := store.CanonicalName(n)
				return err == nil && cn == rb.Local
			})
		}
		if want && rb.Local != store.Inbox {
			out = append(out, rb)
		}
	}
	slices.SortFunc(out, func(a, b remoteBox) int { return strings.Compare(a.Local, b.Local) })
	return out, nil
}

// poll asks STATUS of every folder Watch syncs but INBOX, the commands
// sent at once and their answers read after, and returns the folders that
// changed since their last sync. A folder the server no longer has is
// left to the next full sync.
func (e *engine) poll(ctx context.Context) ([]remoteBox, error) {
	boxes, err := e.otherBoxes()
	if err != nil || len(boxes) == 0 {
		return nil, err
	}
	opts := &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, HighestModSeq: e.c.cond}
	cmds := make([]*imapclient.StatusCommand, len(boxes))
	for i, rb := range boxes {
		cmds[i] = e.c.c.Status(rb.Name, opts)
	}
	var changed []remoteBox
	var ferr error
	for i, cmd := range cmds {
		d, err := cmd.Wait()
		switch {
		case ferr != nil:
		case err != nil && isNo(err):
		case err != nil:
			ferr = e.c.wrap("status", boxes[i].Local, err)
		default:
			ch, err := e.statusChanged(ctx, boxes[i].Local, d)
			if err != nil {
				ferr = err
			} else if ch {
				changed = append(changed, boxes[i])
			}
		}
	}
	return changed, ferr
}

// statusChanged compares a folder's STATUS with the state its last sync
// left in the store.
func (e *engine) statusChanged(ctx context.Context, mb string, d *imap.StatusData) (bool, error) {
	state, err := e.loadState(ctx, mb)
	if err != nil {
		return false, err
	}
	switch {
	case d.UIDValidity != 0 && d.UIDValidity != state.uv,
		d.UIDNext != 0 && uint32(d.UIDNext) != state.uidnext,
		d.HighestModSeq != 0 && d.HighestModSeq != state.modseq:
		return true, nil
	case d.NumMessages != nil:
		n, err := e.st.RemoteCount(ctx, mb)
		if err != nil {
			return false, err
		}
		return n != int(*d.NumMessages), nil
	}
	return false, nil
}

// notified returns the folders Watch syncs that NOTIFY named since the
// last call (INBOX is synced anyway).
func (e *engine) notified() []remoteBox {
	n := e.c.takeNotified()
	if len(n) == 0 {
		return nil
	}
	boxes, err := e.otherBoxes()
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(boxes, func(rb remoteBox) bool { return n[rb.Name] == nil })
}

// syncChanged syncs folders that changed on the server (their headers,
// flags, expunges, then their bodies). A temporary failure ends it; the
// others are reported and it goes on.
func (e *engine) syncChanged(ctx context.Context, boxes []remoteBox) error {
	for _, rb := range boxes {
		e.res = Result{}
		e.report(lbsync.Event{Mailbox: rb.Local, Phase: lbsync.PhaseHeaders, Note: "changed on the server"})
		err := e.syncMailboxNow(ctx, rb)
		if err == nil {
			err = e.fetchBodies(ctx, rb)
		}
		if err != nil {
			e.report(lbsync.Event{Mailbox: rb.Local, Phase: lbsync.PhaseHeaders, Err: err})
			if lbsync.IsTemporary(err) || ctx.Err() != nil {
				return err
			}
		}
	}
	return nil
}
