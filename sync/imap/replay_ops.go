package imapsync

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Replay of flags, deletions and moves (RFC 9051 section 6.4.6 STORE,
// 6.4.3 EXPUNGE, RFC 4315 UID EXPUNGE and COPYUID, RFC 6851 MOVE).

// replayFlags sends a flags entry as +FLAGS/-FLAGS per group of messages
// with the same change: the per-flag merge of the conflict rules. A UID
// the server expunged is silently skipped (the expunge wins).
func (e *engine) replayFlags(ctx context.Context, p payload) error {
	rb, sel, err := e.selectFor(p.Mailbox)
	if err != nil {
		return err
	}
	ruids, err := e.resolve(ctx, rb, sel.UIDValidity, p.UIDValidity, p.Msgs)
	if err != nil {
		return err
	}
	type group struct {
		add, remove []string
		uids        []uint32
	}
	groups := map[string]*group{}
	var keys []string
	for i, m := range p.Msgs {
		if ruids[i] == 0 {
			continue
		}
		add, remove := slices.Clone(m.Add), slices.Clone(m.Remove)
		sort.Strings(add)
		sort.Strings(remove)
		k := strings.Join(add, " ") + "|" + strings.Join(remove, " ")
		if groups[k] == nil {
			groups[k] = &group{add: add, remove: remove}
			keys = append(keys, k)
		}
		groups[k].uids = append(groups[k].uids, ruids[i])
	}
	for _, k := range keys {
		g := groups[k]
		set := uidSet(g.uids)
		if len(g.add) > 0 {
			if err := e.storeFlags(rb.Local, set, imap.StoreFlagsAdd, g.add); err != nil {
				return err
			}
		}
		if len(g.remove) > 0 {
			if err := e.storeFlags(rb.Local, set, imap.StoreFlagsDel, g.remove); err != nil {
				return err
			}
		}
	}
	return nil
}

// storeFlags runs UID STORE (+|-)FLAGS.SILENT on the selected mailbox.
func (e *engine) storeFlags(mb string, set imap.UIDSet, op imap.StoreFlagsOp, flags []string) error {
	fl := make([]imap.Flag, len(flags))
	for i, f := range flags {
		fl[i] = imap.Flag(f)
	}
	if err := e.c.c.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: fl}, nil).Close(); err != nil {
		return e.c.wrap("store", mb, err)
	}
	return nil
}

// expunge removes set from the selected mailbox: UID EXPUNGE with UIDPLUS,
// else EXPUNGE (which also takes other messages flagged \Deleted there).
func (e *engine) expunge(mb string, set imap.UIDSet) error {
	cmd := e.c.c.Expunge()
	if e.c.uidpl {
		cmd = e.c.c.UIDExpunge(set)
	}
	if err := cmd.Close(); err != nil {
		return e.c.wrap("expunge", mb, err)
	}
	return nil
}

// replayDelete flags the messages \Deleted and expunges them.
func (e *engine) replayDelete(ctx context.Context, p payload) error {
	rb, sel, err := e.selectFor(p.Mailbox)
	if err != nil {
		return err
	}
	ruids, err := e.resolve(ctx, rb, sel.UIDValidity, p.UIDValidity, p.Msgs)
	if err != nil {
		return err
	}
	set := uidSet(ruids)
	if len(set) == 0 {
		return nil
	}
	if err := e.storeFlags(rb.Local, set, imap.StoreFlagsAdd, []string{store.FlagDeleted}); err != nil {
		return err
	}
	return e.expunge(rb.Local, set)
}

// replayMove moves the messages on the server and records their new
// UIDs. Messages the server no longer has are looked for in the target by
// Message-ID (another device moved them already) and otherwise removed
// locally (the expunge wins). A target the server does not have is
// created there first (ensureRemote): the user's move is never undone.
func (e *engine) replayMove(ctx context.Context, p payload) error {
	src, sel, err := e.selectFor(p.Mailbox)
	var d *dropError
	if errors.As(err, &d) {
		if rerr := e.removeLocalCopies(ctx, p.Dest, p.Msgs); rerr != nil {
			return rerr
		}
		return err
	}
	if err != nil {
		return err
	}
	dst, err := e.ensureRemote(ctx, p.Dest)
	if err != nil {
		return err
	}
	ruids, err := e.resolve(ctx, src, sel.UIDValidity, p.UIDValidity, p.Msgs)
	if err != nil {
		return err
	}
	var mapping map[uint32]uint32
	var dstUV uint32
	if set := uidSet(ruids); len(set) > 0 {
		mapping, dstUV, err = e.moveUIDs(src, set, dst)
		if isNo(err, imap.ResponseCodeTryCreate, imap.ResponseCodeNonExistent) {
			// Deleted on the server since the LIST: create it again.
			delete(e.boxes, p.Dest)
			if dst, err = e.ensureRemote(ctx, p.Dest); err != nil {
				return err
			}
			mapping, dstUV, err = e.moveUIDs(src, set, dst)
		}
		if err != nil {
			return err
		}
	}
	var moved []int64
	var unmapped []msgRef
	for i, m := range p.Msgs {
		if to, ok := mapping[ruids[i]]; ok && ruids[i] != 0 {
			e.learned[m.ID] = learnedRef{Mailbox: dst.Local, UV: dstUV, UID: to}
			moved = append(moved, m.ID)
		} else {
			unmapped = append(unmapped, m)
		}
	}
	var gone []msgRef
	if len(unmapped) > 0 {
		dsel, err := e.c.selectBox(dst.Name)
		if err != nil {
			return err
		}
		known, err := e.remoteUIDs(ctx, dst.Local, dsel.UIDValidity)
		if err != nil {
			return err
		}
		for _, m := range unmapped {
			u, err := e.searchMID(dst, m.MessageID)
			if err != nil {
				return err
			}
			if u == 0 || known[u] {
				gone = append(gone, m)
				continue
			}
			e.learned[m.ID] = learnedRef{Mailbox: dst.Local, UV: dsel.UIDValidity, UID: u}
			moved = append(moved, m.ID)
		}
	}
	if err := e.saveLearned(ctx, nil); err != nil {
		return err
	}
	if err := e.finishLocalMove(ctx, p, moved); err != nil {
		return err
	}
	if err := e.mapLocal(ctx, dst.Local, moved); err != nil {
		return err
	}
	if len(gone) > 0 {
		if err := e.removeLocalCopies(ctx, p.Dest, gone); err != nil {
			return err
		}
		e.note(p.Mailbox, lbsync.PhaseReplay, "move to "+p.Dest+" dropped: the message was deleted on the server")
	}
	return nil
}

// moveUIDs moves set of the selected mailbox to dst (MOVE, or COPY +
// STORE \Deleted + EXPUNGE, each step only after the previous one
// succeeded) and returns the source-to-target UID mapping when the server
// gave one (COPYUID).
func (e *engine) moveUIDs(src remoteBox, set imap.UIDSet, dst remoteBox) (map[uint32]uint32, uint32, error) {
	var srcSet, dstSet imap.NumSet
	var uv uint32
	if e.c.caps.Has(imap.CapMove) {
		data, err := e.c.c.Move(set, dst.Name).Wait()
		if err != nil {
			return nil, 0, e.c.wrap("move", src.Local, err)
		}
		srcSet, dstSet, uv = data.SourceUIDs, data.DestUIDs, data.UIDValidity
	} else {
		data, err := e.c.c.Copy(set, dst.Name).Wait()
		if err != nil {
			return nil, 0, e.c.wrap("copy", src.Local, err)
		}
		if err := e.storeFlags(src.Local, set, imap.StoreFlagsAdd, []string{store.FlagDeleted}); err != nil {
			return nil, 0, err
		}
		if err := e.expunge(src.Local, set); err != nil {
			return nil, 0, err
		}
		srcSet, dstSet, uv = data.SourceUIDs, data.DestUIDs, data.UIDValidity
	}
	from, _ := srcSet.(imap.UIDSet)
	to, _ := dstSet.(imap.UIDSet)
	a, ok1 := from.Nums()
	b, ok2 := to.Nums()
	if !ok1 || !ok2 || len(a) != len(b) || uv == 0 {
		return nil, 0, nil
	}
	m := make(map[uint32]uint32, len(a))
	for i := range a {
		m[uint32(a[i])] = uint32(b[i])
	}
	return m, uv, nil
}
