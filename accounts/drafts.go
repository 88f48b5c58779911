package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/store"
)

// Drafts: a saved draft opens again in a composer (OpenDraft); the edited
// version replaces it (ReplaceDraft): the new one is stored, then the old
// one removed for good, both journaled for an IMAP account, so the
// server's Drafts folder gets the APPEND and then the expunge at the next
// sync. A crash in between leaves both drafts, never neither. Each
// version has its own Message-ID (compose.Open leaves it empty), so the
// expunge can never take the new draft for the old one.

// OpenDraft returns message id, a saved draft, for editing.
func (a *Account) OpenDraft(ctx context.Context, id int64) (*compose.Draft, error) {
	f, err := a.Raw(ctx, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := compose.Open(f)
	if err != nil {
		return nil, fmt.Errorf("%s: open draft %d: %w", a.Config.Name, id, err)
	}
	if d.From.Addr == "" {
		d.From = a.Me()
	}
	return d, nil
}

// SaveDraft builds d (keeping Bcc) and stores it in the Drafts folder,
// created as "Drafts" when the account has none. For an IMAP account the
// draft is journaled, so the next sync uploads it to the server's Drafts
// (created there too when the server has none).
func (a *Account) SaveDraft(ctx context.Context, d *compose.Draft) error {
	_, err := a.ReplaceDraft(ctx, 0, d)
	return err
}

// ReplaceDraft saves d as a draft (as SaveDraft does) and then removes
// the draft old for good, when old is not 0. It returns the new draft's
// id.
func (a *Account) ReplaceDraft(ctx context.Context, old int64, d *compose.Draft) (int64, error) {
	if old != 0 {
		if _, err := a.store.Get(ctx, old); err != nil {
			return 0, fmt.Errorf("%s: save draft: %w", a.Config.Name, err)
		}
	}
	var buf bytes.Buffer
	if err := compose.BuildForOutbox(d, &buf); err != nil {
		return 0, fmt.Errorf("%s: save draft: %w", a.Config.Name, err)
	}
	folder, err := a.draftsFolder(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: save draft: %w", a.Config.Name, err)
	}
	flags := []string{store.FlagDraft, store.FlagSeen}
	var res store.AppendResult
	if a.Config.Mode == ModeIMAP {
		res, err = a.local.Append(ctx, folder, &buf, flags)
	} else {
		res, err = a.store.Append(ctx, folder, &buf, store.AppendOptions{Flags: flags})
	}
	if err != nil {
		return 0, fmt.Errorf("%s: save draft: %w", a.Config.Name, err)
	}
	if old != 0 {
		if err := a.removeForGood(ctx, old); err != nil {
			return res.ID, fmt.Errorf("%s: save draft: the new version is saved (%d), the old one (%d) stays: %w", a.Config.Name, res.ID, old, err)
		}
	}
	return res.ID, nil
}

// SendDraft puts draft id in the Outbox, with a new date and Message-ID,
// and removes it from Drafts; it returns the Outbox UID. Nothing goes to
// the network (FlushOutbox sends).
func (a *Account) SendDraft(ctx context.Context, id int64) (uint32, error) {
	d, err := a.OpenDraft(ctx, id)
	if err != nil {
		return 0, err
	}
	if len(d.To)+len(d.Cc)+len(d.Bcc) == 0 {
		return 0, fmt.Errorf("%s: send draft %d: %w", a.Config.Name, id, ErrNoRecipients)
	}
	uid, err := a.Queue(ctx, d)
	if err != nil {
		return 0, err
	}
	if err := a.removeForGood(ctx, id); err != nil {
		return uid, fmt.Errorf("%s: send draft %d: queued, but the draft stays: %w", a.Config.Name, id, err)
	}
	return uid, nil
}

// DeleteDraft removes draft id for good (not to Trash), journaled for
// an IMAP account: for a draft sent from a composer that edited it.
func (a *Account) DeleteDraft(ctx context.Context, id int64) error {
	if err := a.removeForGood(ctx, id); err != nil {
		return fmt.Errorf("%s: delete draft %d: %w", a.Config.Name, id, err)
	}
	return nil
}

// ErrNoRecipients is wrapped by the error of SendDraft for a draft with
// no To, Cc or Bcc.
var ErrNoRecipients = errors.New("no recipients")

// draftsFolder returns the Drafts folder, created as "Drafts" with its
// role when the account has none.
func (a *Account) draftsFolder(ctx context.Context) (string, error) {
	folder, err := a.Folder(ctx, RoleDrafts)
	if err != nil || folder != "" {
		return folder, err
	}
	folder = "Drafts"
	if _, err := a.store.CreateMailbox(ctx, folder, store.SpecialDrafts); err != nil && !errors.Is(err, store.ErrExists) {
		return "", err
	}
	return folder, nil
}

// removeForGood removes message id without going through Trash,
// journaled for an IMAP account (UID STORE \Deleted, UID EXPUNGE).
func (a *Account) removeForGood(ctx context.Context, id int64) error {
	m, err := a.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if a.Config.Mode == ModeIMAP {
		return a.local.Delete(ctx, m.Mailbox, []uint32{m.UID}, "")
	}
	_, err = a.store.Remove(ctx, m.Mailbox, []uint32{m.UID})
	return err
}
