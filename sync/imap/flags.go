package imapsync

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Flag sync from the server (RFC 7162 section 3.1.4 CHANGEDSINCE, or a
// full UID FETCH 1:* FLAGS) and the per-flag merge of the conflict rules.

// hasFlag reports whether flags holds f (flags are case-insensitive).
func hasFlag(flags []string, f string) bool {
	return slices.ContainsFunc(flags, func(g string) bool { return strings.EqualFold(f, g) })
}

// flagDiff returns what turns have into want.
func flagDiff(have, want []string) (add, remove []string) {
	for _, f := range want {
		if !hasFlag(have, f) {
			add = append(add, f)
		}
	}
	for _, f := range have {
		if !hasFlag(want, f) {
			remove = append(remove, f)
		}
	}
	return add, remove
}

// cleanFlags turns server flags into store flags, dropping \Recent and
// anything the store cannot keep, one flag at a time.
func cleanFlags(flags []imap.Flag) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		c, err := store.CanonicalFlags([]string{string(f)})
		if err == nil && len(c) == 1 && !hasFlag(out, c[0]) {
			out = append(out, c[0])
		}
	}
	return out
}

// fetchFlags fetches the flags of every message of the selected mailbox.
func (e *engine) fetchFlags(mb string) (map[uint32][]string, error) {
	cmd := e.c.c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true})
	out := map[uint32][]string{}
	err := e.readFetch(mb, "fetch flags", cmd, func(buf *imapclient.FetchMessageBuffer) {
		out[uint32(buf.UID)] = cleanFlags(buf.Flags)
	})
	return out, err
}

// readFetch reads every answer of a FETCH that asks for no body (flags,
// sizes, dates) and hands each message with a UID to fn; what names the
// command in errors.
func (e *engine) readFetch(mb, what string, cmd *imapclient.FetchCommand, fn func(*imapclient.FetchMessageBuffer)) error {
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return e.c.wrap(what, mb, err)
		}
		if buf.UID != 0 {
			fn(buf)
		}
	}
	if err := cmd.Close(); err != nil {
		return e.c.wrap(what, mb, err)
	}
	return nil
}

// applyFlags brings the flags of local messages to the server's, flag by
// flag, except flags a pending local change owns (the journal is re-read
// just before, so an action taken during the sync wins). local maps
// remote UIDs to local messages. It returns how many messages changed.
func (e *engine) applyFlags(ctx context.Context, mb string, uv uint32, server map[uint32][]string, local map[uint32]store.RemoteRef) (int, error) {
	if len(server) == 0 {
		return 0, nil
	}
	entries, err := pendingEntries(ctx, e.st)
	if err != nil {
		return 0, err
	}
	owned := pending(entries, mb, uv).flags
	type group struct {
		add, remove []string
		uids        []uint32
	}
	groups := map[string]*group{}
	var keys []string
	changed := 0
	for ruid, want := range server {
		ref, ok := local[ruid]
		if !ok {
			continue
		}
		add, remove := flagDiff(ref.Flags, want)
		mine := owned[ref.ID]
		keep := func(f string) bool {
			for o := range mine {
				if strings.EqualFold(o, f) {
					return false
				}
			}
			return true
		}
		add = slices.DeleteFunc(add, func(f string) bool { return !keep(f) })
		remove = slices.DeleteFunc(remove, func(f string) bool { return !keep(f) })
		if len(add)+len(remove) == 0 {
			continue
		}
		sort.Strings(add)
		sort.Strings(remove)
		key := strings.Join(add, " ") + "|" + strings.Join(remove, " ")
		g := groups[key]
		if g == nil {
			g = &group{add: add, remove: remove}
			groups[key] = g
			keys = append(keys, key)
		}
		g.uids = append(g.uids, ref.UID)
		changed++
	}
	// One write for every group: the store reads the rows and commits
	// once for the mailbox.
	var changes []store.FlagChange
	for _, k := range keys {
		g := groups[k]
		slices.Sort(g.uids)
		if len(g.add) > 0 {
			changes = append(changes, store.FlagChange{UIDs: g.uids, Op: store.FlagsAdd, Flags: g.add})
		}
		if len(g.remove) > 0 {
			changes = append(changes, store.FlagChange{UIDs: g.uids, Op: store.FlagsRemove, Flags: g.remove})
		}
	}
	if len(changes) > 0 {
		if _, err := e.st.SetFlagsMany(ctx, mb, changes); err != nil {
			return 0, err
		}
	}
	if changed > 0 {
		e.report(lbsync.Event{Mailbox: mb, Phase: lbsync.PhaseFlags, Done: changed, Total: changed})
	}
	return changed, nil
}
