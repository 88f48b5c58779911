package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/letterbox-mail/letterbox/store"
)

// Folders: create, rename, delete and subscribe. For an IMAP account the
// change is made locally at once and journaled, so it works offline and
// reaches the server at the next sync in the order it was made (see
// package sync/imap, folders.go). A POP3 server has only an inbox: the
// folders of a POP3 account exist only here (FoldersLocalOnly).

// ErrFolderNotEmpty is wrapped by DeleteFolder's error for a folder that
// holds messages when it was not told to delete them too.
var ErrFolderNotEmpty = errors.New("the folder is not empty")

// ErrFolderInUse is wrapped by the error of a folder change that cannot
// be made to INBOX, the Outbox, or a folder with folders below it.
var ErrFolderInUse = errors.New("folder cannot be changed")

// ErrExists is wrapped by the error of CreateFolder and RenameFolder when
// the name is taken.
var ErrExists = store.ErrExists

// FoldersLocalOnly reports whether the account's folders exist only on
// this computer: a POP3 account's (its server has one inbox).
func (a *Account) FoldersLocalOnly() bool { return a.Config.Mode == ModePOP3 }

// CreateFolder creates a folder ("Projects", "Projects/2026").
func (a *Account) CreateFolder(ctx context.Context, name string) error {
	if err := a.checkFolderName(name); err != nil {
		return fmt.Errorf("%s: create folder: %w", a.Config.Name, err)
	}
	var err error
	if a.Config.Mode == ModeIMAP {
		err = a.local.CreateMailbox(ctx, name, "")
	} else {
		_, err = a.store.CreateMailbox(ctx, name, "")
	}
	if errors.Is(err, ErrExists) { // said once: the store's error names it too
		return fmt.Errorf("%s: folder %q: %w", a.Config.Name, name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("%s: create folder %s: %w", a.Config.Name, name, err)
	}
	return nil
}

// RenameFolder renames a folder and the folders below it; their messages,
// roles and subscriptions go along.
func (a *Account) RenameFolder(ctx context.Context, from, to string) error {
	if err := a.changeable(ctx, from, false); err != nil {
		return fmt.Errorf("%s: rename folder: %w", a.Config.Name, err)
	}
	if err := a.checkFolderName(to); err != nil {
		return fmt.Errorf("%s: rename folder: %w", a.Config.Name, err)
	}
	var err error
	if a.Config.Mode == ModeIMAP {
		err = a.local.RenameMailbox(ctx, from, to)
	} else {
		err = a.store.RenameMailbox(ctx, from, to)
	}
	if errors.Is(err, ErrExists) {
		return fmt.Errorf("%s: rename folder: folder %q: %w", a.Config.Name, to, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("%s: rename folder %s: %w", a.Config.Name, from, err)
	}
	return nil
}

// DeleteFolder deletes a folder. One that holds messages is deleted only
// with withMessages (they go with it, here and on the server); one with
// folders below it not at all (delete those first, as IMAP servers ask).
func (a *Account) DeleteFolder(ctx context.Context, name string, withMessages bool) error {
	if err := a.changeable(ctx, name, true); err != nil {
		return fmt.Errorf("%s: delete folder: %w", a.Config.Name, err)
	}
	mb, err := a.store.Mailbox(ctx, name)
	if err != nil {
		return fmt.Errorf("%s: delete folder: %w", a.Config.Name, err)
	}
	if mb.Total > 0 && !withMessages {
		return fmt.Errorf("%s: delete folder %s: %w: it holds %d messages", a.Config.Name, mb.Name, ErrFolderNotEmpty, mb.Total)
	}
	if a.Config.Mode == ModeIMAP {
		err = a.local.DeleteMailbox(ctx, mb.Name)
	} else {
		err = a.store.DeleteMailbox(ctx, mb.Name)
	}
	if err != nil {
		return fmt.Errorf("%s: delete folder %s: %w", a.Config.Name, mb.Name, err)
	}
	return nil
}

// SubscribeFolder subscribes to a folder (on) or unsubscribes from it.
// An IMAP sync leaves out the folders not subscribed to, unless the
// account sets subscribed_only = false.
func (a *Account) SubscribeFolder(ctx context.Context, name string, on bool) error {
	mb, err := a.store.Mailbox(ctx, name)
	if err != nil {
		return fmt.Errorf("%s: subscribe: %w", a.Config.Name, err)
	}
	if a.Config.Mode == ModeIMAP && mb.Name != OutboxName {
		err = a.local.SetSubscribed(ctx, mb.Name, on)
	} else {
		err = a.store.SetSubscribed(ctx, mb.Name, on)
	}
	if err != nil {
		return fmt.Errorf("%s: subscribe %s: %w", a.Config.Name, mb.Name, err)
	}
	return nil
}

// checkFolderName refuses names the account keeps for itself.
func (a *Account) checkFolderName(name string) error {
	cn, err := store.CanonicalName(name)
	if err != nil {
		return err
	}
	if cn == store.Inbox || strings.EqualFold(cn, OutboxName) {
		return fmt.Errorf("%s: %w", cn, ErrExists)
	}
	return nil
}

// changeable refuses a rename or delete of INBOX, the Outbox (local only,
// where queued mail waits) and, for a delete, a folder with folders
// below it.
func (a *Account) changeable(ctx context.Context, name string, deleting bool) error {
	mb, err := a.store.Mailbox(ctx, name)
	if err != nil {
		return err
	}
	if mb.Name == store.Inbox || mb.Name == OutboxName {
		return fmt.Errorf("%s: %w", mb.Name, ErrFolderInUse)
	}
	if !deleting {
		return nil
	}
	all, err := a.store.Mailboxes(ctx)
	if err != nil {
		return err
	}
	for _, m := range all {
		if strings.HasPrefix(m.Name, mb.Name+"/") {
			return fmt.Errorf("%s: %w: it has folders below it (%s); delete those first", mb.Name, ErrFolderInUse, m.Name)
		}
	}
	return nil
}
