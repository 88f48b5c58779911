package accounts

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/letterbox-mail/letterbox/store"
)

// Undo: an interface takes a Snapshot of the messages an action is about
// to move, delete (to Trash) or flag, and Restore reverses the action
// later: each message goes back to the folder it was in and gets back
// the flags of the snapshot's scope it had. Message ids survive moves
// (store ids stay the same), so the snapshot finds the messages wherever
// the action put them. Restore goes through Move and SetFlags, so on an
// IMAP account it is journaled and replayed like any change (the replay
// follows a message through a move by its store id).

// Snapshot is where some messages were, and which flags they had.
type Snapshot struct {
	Places []Place
	// Flags are the flags Restore gives back (as they were in each
	// Place); other flags are left as they are now. None for a move or
	// a delete.
	Flags []string
}

// Place is one message of a Snapshot.
type Place struct {
	ID      int64
	Mailbox string
	Flags   []string
}

// Snapshot records the folders of messages ids and, for scope, their
// flags. An unknown id wraps ErrNotFound.
func (a *Account) Snapshot(ctx context.Context, ids []int64, scope []string) (Snapshot, error) {
	s := Snapshot{Flags: append([]string(nil), scope...)}
	for _, id := range ids {
		m, err := a.store.Get(ctx, id)
		if err != nil {
			return Snapshot{}, fmt.Errorf("%s: snapshot: %w", a.Config.Name, err)
		}
		s.Places = append(s.Places, Place{ID: id, Mailbox: m.Mailbox, Flags: m.Flags})
	}
	return s, nil
}

// Restore puts the messages of s back where they were, with the flags
// of s.Flags as they were, and returns how many it found: a message
// removed for good since (deleted in Trash, expunged by a sync) cannot
// come back and is skipped.
func (a *Account) Restore(ctx context.Context, s Snapshot) (int, error) {
	back := map[string][]int64{} // folder → ids to move there
	type flagKey struct{ add, remove string }
	flags := map[flagKey][]int64{}
	found := 0
	for _, p := range s.Places {
		m, err := a.store.Get(ctx, p.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return found, fmt.Errorf("%s: undo: %w", a.Config.Name, err)
		}
		found++
		if m.Mailbox != p.Mailbox {
			back[p.Mailbox] = append(back[p.Mailbox], p.ID)
		}
		var add, remove []string
		for _, f := range s.Flags {
			had, has := hasFlag(p.Flags, f), m.HasFlag(f)
			switch {
			case had && !has:
				add = append(add, f)
			case !had && has:
				remove = append(remove, f)
			}
		}
		if len(add)+len(remove) > 0 {
			k := flagKey{strings.Join(add, "\x00"), strings.Join(remove, "\x00")}
			flags[k] = append(flags[k], p.ID)
		}
	}
	folders := make([]string, 0, len(back))
	for f := range back {
		folders = append(folders, f)
	}
	sort.Strings(folders)
	for _, f := range folders {
		if err := a.Move(ctx, back[f], f); err != nil {
			return found, fmt.Errorf("undo: %w", err)
		}
	}
	for k, ids := range flags {
		if err := a.SetFlags(ctx, ids, splitNonEmpty(k.add), splitNonEmpty(k.remove)); err != nil {
			return found, fmt.Errorf("undo: %w", err)
		}
	}
	return found, nil
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}
