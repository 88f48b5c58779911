package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/letterbox-mail/letterbox/store"
)

// Messages are addressed by their store id (store.Message.ID), which
// stays the same when a message moves between folders, so a script can
// list, then flag, then move the same id.

// List returns the first limit messages of folder, newest first; with a
// query, the matches of the store query language in that folder ("" for
// every folder), scoped as Page scopes them.
func (a *Account) List(ctx context.Context, folder, query string, limit int) ([]Message, error) {
	if query == "" && folder == "" {
		folder = Inbox
	}
	return a.Page(ctx, PageRequest{Folder: folder, Query: query, Limit: limit})
}

// Message returns one message's metadata.
func (a *Account) Message(ctx context.Context, id int64) (*Message, error) {
	m, err := a.store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Config.Name, err) // err names the message
	}
	return m, nil
}

// Render returns a message decoded for reading.
func (a *Account) Render(ctx context.Context, id int64) (*Rendered, error) {
	r, err := a.store.Render(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Config.Name, err) // err names the message
	}
	return r, nil
}

// Raw opens a message's RFC 5322 bytes; the caller closes the file.
func (a *Account) Raw(ctx context.Context, id int64) (*os.File, error) {
	f, err := a.store.OpenRaw(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Config.Name, err) // err names the message
	}
	return f, nil
}

// byMailbox groups message ids by their current mailbox, as local UIDs.
func (a *Account) byMailbox(ctx context.Context, ids []int64) (map[string][]uint32, []string, error) {
	groups := map[string][]uint32{}
	for _, id := range ids {
		m, err := a.store.Get(ctx, id)
		if err != nil {
			return nil, nil, err // err names the message
		}
		groups[m.Mailbox] = append(groups[m.Mailbox], m.UID)
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	return groups, names, nil
}

// SetFlags adds and removes flags (store.FlagSeen, ...) on messages.
func (a *Account) SetFlags(ctx context.Context, ids []int64, add, remove []string) error {
	groups, names, err := a.byMailbox(ctx, ids)
	if err != nil {
		return fmt.Errorf("%s: flag: %w", a.Config.Name, err)
	}
	for _, mb := range names {
		for _, step := range []struct {
			op    store.FlagOp
			flags []string
		}{{store.FlagsAdd, add}, {store.FlagsRemove, remove}} {
			if len(step.flags) == 0 {
				continue
			}
			if a.Config.Mode == ModeIMAP {
				_, err = a.local.SetFlags(ctx, mb, groups[mb], step.op, step.flags)
			} else {
				_, err = a.store.SetFlags(ctx, mb, groups[mb], step.op, step.flags)
			}
			if err != nil {
				return fmt.Errorf("%s: flag in %s: %w", a.Config.Name, mb, err)
			}
		}
	}
	return nil
}

// Move moves messages to folder.
func (a *Account) Move(ctx context.Context, ids []int64, folder string) error {
	if _, err := a.store.Mailbox(ctx, folder); err != nil {
		return fmt.Errorf("%s: move to %s: %w", a.Config.Name, folder, err)
	}
	groups, names, err := a.byMailbox(ctx, ids)
	if err != nil {
		return fmt.Errorf("%s: move: %w", a.Config.Name, err)
	}
	for _, mb := range names {
		canon, _ := store.CanonicalName(folder)
		if mb == canon {
			continue
		}
		if a.Config.Mode == ModeIMAP {
			_, err = a.local.Move(ctx, mb, groups[mb], folder)
		} else {
			_, _, err = a.store.Move(ctx, mb, groups[mb], folder)
		}
		if err != nil {
			return fmt.Errorf("%s: move %s to %s: %w", a.Config.Name, mb, folder, err)
		}
	}
	return nil
}

// Delete moves messages to the Trash folder, or removes them for good
// when they are in Trash already or the account has none. For a POP3
// account with pop3_delete_local, a message removed for good is also
// deleted on the server at the next sync.
func (a *Account) Delete(ctx context.Context, ids []int64) error {
	trash, err := a.Folder(ctx, RoleTrash)
	if err != nil {
		return fmt.Errorf("%s: delete: %w", a.Config.Name, err)
	}
	groups, names, err := a.byMailbox(ctx, ids)
	if err != nil {
		return fmt.Errorf("%s: delete: %w", a.Config.Name, err)
	}
	for _, mb := range names {
		if a.Config.Mode == ModeIMAP {
			err = a.local.Delete(ctx, mb, groups[mb], trash)
		} else if trash != "" && trash != mb {
			_, _, err = a.store.Move(ctx, mb, groups[mb], trash)
		} else {
			_, err = a.store.Remove(ctx, mb, groups[mb])
		}
		if err != nil {
			return fmt.Errorf("%s: delete from %s: %w", a.Config.Name, mb, err)
		}
	}
	return nil
}

// Archive moves messages to the Archive folder. An account without one
// gets "Archive" with its role (created on an IMAP server at the next
// sync, with the role where the server can take it).
func (a *Account) Archive(ctx context.Context, ids []int64) error {
	archive, err := a.Folder(ctx, RoleArchive)
	if err != nil {
		return fmt.Errorf("%s: archive: %w", a.Config.Name, err)
	}
	if archive == "" {
		archive = "Archive"
		if _, err := a.store.Mailbox(ctx, archive); errors.Is(err, store.ErrNotFound) {
			if a.Config.Mode == ModeIMAP {
				err = a.local.CreateMailbox(ctx, archive, store.SpecialArchive)
			} else {
				_, err = a.store.CreateMailbox(ctx, archive, store.SpecialArchive)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: archive: create %s: %w", a.Config.Name, archive, err)
		}
	}
	return a.Move(ctx, ids, archive)
}
