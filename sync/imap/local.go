package imapsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// Local applies the user's actions to the store at once, online or
// offline, and journals them for Sync to replay on the server.
//
// Every method writes its journal entry first and then changes the store.
// A crash between the two leaves an entry for a change the store does not
// show yet: replaying it puts the change on the server and the next sync
// brings it into the store, so nothing is lost. When the store refuses the
// change, the entry is withdrawn and the error returned.
type Local struct {
	// Store is the account's store.
	Store Store
	// Changed, when set, is called after each action that journaled a
	// change (Watch replays at once when it is wired to Options.Changes).
	Changed func()
}

// SetFlags changes the flags of messages of mailbox as store.SetFlags
// does. Only real changes are journaled, as per-flag additions and
// removals, so a replay never overwrites flags changed elsewhere.
func (l *Local) SetFlags(ctx context.Context, mailbox string, uids []uint32, op store.FlagOp, flags []string) ([]store.FlagUpdate, error) {
	cflags, err := store.CanonicalFlags(flags)
	if err != nil {
		return nil, fmt.Errorf("set flags in %s: %w", mailbox, err)
	}
	p, msgs, err := l.capture(ctx, mailbox, uids)
	if err != nil {
		return nil, fmt.Errorf("set flags in %s: %w", mailbox, err)
	}
	var changed []uint32
	for i, m := range msgs {
		ref := &p.Msgs[i]
		ref.Add, ref.Remove = flagDiff(m.Flags, applyOp(m.Flags, op, cflags))
		if len(ref.Add)+len(ref.Remove) > 0 {
			changed = append(changed, m.UID)
		}
	}
	p.Msgs = slices.DeleteFunc(p.Msgs, func(r msgRef) bool { return len(r.Add)+len(r.Remove) == 0 })
	if len(p.Msgs) == 0 {
		return nil, nil
	}
	var ups []store.FlagUpdate
	err = l.journaled(ctx, opFlags, p, func() error {
		ups, err = l.Store.SetFlags(ctx, p.Mailbox, changed, op, cflags)
		return err
	})
	return ups, err
}

// Move moves messages from src to dst and returns their new local UIDs.
func (l *Local) Move(ctx context.Context, src string, uids []uint32, dst string) ([]store.UIDPair, error) {
	p, _, err := l.capture(ctx, src, uids)
	if err != nil {
		return nil, fmt.Errorf("move from %s: %w", src, err)
	}
	if p.Dest, err = store.CanonicalName(dst); err != nil {
		return nil, fmt.Errorf("move to %s: %w", dst, err)
	}
	if len(p.Msgs) == 0 {
		return nil, nil
	}
	var pairs []store.UIDPair
	err = l.journaled(ctx, opMove, p, func() error {
		pairs, _, err = l.Store.Move(ctx, p.Mailbox, refUIDs(p.Msgs), p.Dest)
		return err
	})
	return pairs, err
}

// Delete deletes messages of mailbox: they move to trash, or are removed
// for good when trash is empty or mailbox is the trash itself.
func (l *Local) Delete(ctx context.Context, mailbox string, uids []uint32, trash string) error {
	src, err := store.CanonicalName(mailbox)
	if err != nil {
		return fmt.Errorf("delete from %s: %w", mailbox, err)
	}
	if trash != "" {
		t, err := store.CanonicalName(trash)
		if err != nil {
			return fmt.Errorf("delete to %s: %w", trash, err)
		}
		if t != src {
			_, err := l.Move(ctx, src, uids, t)
			return err
		}
	}
	p, _, err := l.capture(ctx, src, uids)
	if err != nil {
		return fmt.Errorf("delete from %s: %w", mailbox, err)
	}
	if len(p.Msgs) == 0 {
		return nil
	}
	return l.journaled(ctx, opDelete, p, func() error {
		_, err := l.Store.Remove(ctx, p.Mailbox, refUIDs(p.Msgs))
		return err
	})
}

// Append stores a message the user wrote (Sent, Drafts) in mailbox and
// journals its upload. The message is found again at replay through a
// random key recorded with it (store.Remote.ID).
func (l *Local) Append(ctx context.Context, mailbox string, r io.Reader, flags []string) (store.AppendResult, error) {
	mb, err := store.CanonicalName(mailbox)
	if err != nil {
		return store.AppendResult{}, fmt.Errorf("append to %s: %w", mailbox, err)
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return store.AppendResult{}, fmt.Errorf("append to %s: %w", mb, err)
	}
	p := payload{Mailbox: mb, Token: "imap-append:" + hex.EncodeToString(tok[:])}
	var res store.AppendResult
	err = l.journaled(ctx, opAppend, p, func() error {
		res, err = l.Store.Append(ctx, mb, r, store.AppendOptions{Flags: flags, InternalDate: time.Now(), Remote: store.Remote{ID: p.Token}})
		return err
	})
	return res, err
}

// capture describes the messages uids of mailbox for a journal entry:
// store ids, remote UIDs and Message-IDs as they are now.
func (l *Local) capture(ctx context.Context, mailbox string, uids []uint32) (payload, []store.Message, error) {
	mb, err := store.CanonicalName(mailbox)
	if err != nil {
		return payload{}, nil, err
	}
	p := payload{Mailbox: mb}
	if len(uids) == 0 {
		return p, nil, nil
	}
	uv, err := stateUint(ctx, l.Store, stateKey(mb, "uidvalidity"))
	if err != nil {
		return p, nil, err
	}
	p.UIDValidity = uint32(uv)
	msgs, err := l.Store.Fetch(ctx, mb, uids)
	if err != nil {
		return p, nil, err
	}
	ri, err := l.Store.RemoteIndex(ctx, mb)
	if err != nil {
		return p, nil, err
	}
	remote := make(map[int64]uint32, len(msgs))
	for _, r := range ri {
		if !r.Elsewhere && r.RemoteUID != 0 {
			remote[r.ID] = r.RemoteUID
		}
	}
	for _, m := range msgs {
		p.Msgs = append(p.Msgs, msgRef{ID: m.ID, UID: m.UID, RemoteUID: remote[m.ID], MessageID: m.MessageID})
	}
	return p, msgs, nil
}

// journaled writes the entry, then applies the change; a refused change
// withdraws the entry.
func (l *Local) journaled(ctx context.Context, op string, p payload, apply func() error) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	id, err := l.Store.JournalAdd(ctx, op, b)
	if err != nil {
		return err
	}
	if err := apply(); err != nil {
		// Withdraw without the caller's context: it may be what failed.
		if derr := l.Store.JournalDone(context.WithoutCancel(ctx), id); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	if l.Changed != nil {
		l.Changed()
	}
	return nil
}

func refUIDs(refs []msgRef) []uint32 {
	out := make([]uint32, len(refs))
	for i, r := range refs {
		out[i] = r.UID
	}
	return out
}

// applyOp returns have changed by op with flags (store.SetFlags rules).
func applyOp(have []string, op store.FlagOp, flags []string) []string {
	switch op {
	case store.FlagsReplace:
		return flags
	case store.FlagsAdd:
		out := slices.Clone(have)
		for _, f := range flags {
			if !hasFlag(out, f) {
				out = append(out, f)
			}
		}
		return out
	default:
		return slices.DeleteFunc(slices.Clone(have), func(f string) bool { return hasFlag(flags, f) })
	}
}
