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
// when they are in Trash already. An account without a Trash folder gets
// "Trash" with its role (for IMAP journaled before the move, so the next
// sync creates it on the server, with the role where the server can take
// it): a delete is never for good by surprise. For a POP3 account with
// pop3_delete_local, a message removed for good is also deleted on the
// server at the next sync.
func (a *Account) Delete(ctx context.Context, ids []int64) error {
	groups, names, err := a.byMailbox(ctx, ids)
	if err != nil {
		return fmt.Errorf("%s: delete: %w", a.Config.Name, err)
	}
	trash, err := a.roleFolder(ctx, RoleTrash, true)
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
	archive, err := a.roleFolder(ctx, RoleArchive, true)
	if err != nil {
		return fmt.Errorf("%s: archive: %w", a.Config.Name, err)
	}
	return a.Move(ctx, ids, archive)
}

// roleDefault returns the folder a role gets when the account has none,
// and its special use.
func roleDefault(role Role) (name, use string) {
	switch role {
	case RoleTrash:
		return "Trash", store.SpecialTrash
	case RoleArchive:
		return "Archive", store.SpecialArchive
	case RoleSent:
		return "Sent", store.SpecialSent
	case RoleDrafts:
		return "Drafts", store.SpecialDrafts
	case RoleJunk:
		return "Junk", store.SpecialJunk
	}
	return string(role), ""
}

// roleFolder returns the folder that plays role (Folder); when the
// account has none, the folder named after the role (an existing one
// without the role is taken as it is). With create, a missing one is
// created with the role: for IMAP journaled, so that the next sync
// creates it on the server (RFC 6154 CREATE-SPECIAL-USE where offered)
// before any change that needs it.
func (a *Account) roleFolder(ctx context.Context, role Role, create bool) (string, error) {
	f, err := a.Folder(ctx, role)
	if err != nil || f != "" {
		return f, err
	}
	name, use := roleDefault(role)
	_, err = a.store.Mailbox(ctx, name)
	if err == nil || !create || !errors.Is(err, store.ErrNotFound) {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("folder %s: %w", role, err)
		}
		return name, nil
	}
	if a.Config.Mode == ModeIMAP {
		err = a.local.CreateMailbox(ctx, name, use)
	} else {
		_, err = a.store.CreateMailbox(ctx, name, use)
	}
	if err != nil && !errors.Is(err, store.ErrExists) {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	return name, nil
}
