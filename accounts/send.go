package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
	"github.com/letterbox-mail/letterbox/sync/submit"
)

// Sending: a composed message goes to the local Outbox first (durable
// when Send or Queue returns), then to the SMTP server when the outbox is
// flushed (at once when online, else by the next sync), then to Sent;
// for an IMAP account the Sent copy is also appended to the server's
// Sent folder through the sync journal.

// outbox returns the account's outbox.
func (a *Account) outbox(ctx context.Context) (*submit.Outbox, error) {
	sent, err := a.Folder(ctx, RoleSent)
	if err != nil {
		return nil, err
	}
	if sent == "" {
		sent = "Sent"
	}
	o := &submit.Outbox{Store: a.store, Mailbox: OutboxName, Sent: sent, Server: a.smtpServer}
	if a.Config.Mode == ModeIMAP {
		o.OnSent = a.uploadSent
	}
	return o, nil
}

// uploadSent hands the Sent copy of a message to the sync journal, so the
// next sync appends it to the server's Sent folder: the local copy is
// replaced by a journaled one.
func (a *Account) uploadSent(ctx context.Context, mailbox string, uid uint32) {
	m, err := a.store.GetByUID(ctx, mailbox, uid)
	if err != nil {
		return
	}
	f, err := a.store.OpenRaw(ctx, m.ID)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := a.local.Append(ctx, mailbox, f, m.Flags); err != nil {
		return
	}
	a.store.Remove(ctx, mailbox, []uint32{uid})
}

// Compose returns a new draft from the account's address, with its
// signature.
func (a *Account) Compose() *compose.Draft {
	d := &compose.Draft{From: compose.Address{Name: a.Config.DisplayName, Addr: a.Config.Email}}
	if a.Config.Signature != "" {
		d.Body = "\n\n-- \n" + a.Config.Signature + "\n"
	}
	return d
}

// Me is the account's address.
func (a *Account) Me() compose.Address {
	return compose.Address{Name: a.Config.DisplayName, Addr: a.Config.Email}
}

// Queue builds d and stores it in the Outbox; it returns the UID there.
// Nothing goes to the network.
func (a *Account) Queue(ctx context.Context, d *compose.Draft) (uint32, error) {
	var buf bytes.Buffer
	if err := compose.BuildForOutbox(d, &buf); err != nil {
		return 0, fmt.Errorf("%s: compose: %w", a.Config.Name, err)
	}
	return a.QueueRaw(ctx, &buf)
}

// QueueRaw stores a complete message (with its Bcc header, if any) in the
// Outbox.
func (a *Account) QueueRaw(ctx context.Context, raw *bytes.Buffer) (uint32, error) {
	o, err := a.outbox(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: outbox: %w", a.Config.Name, err)
	}
	uid, err := o.Queue(ctx, raw)
	if err != nil {
		return 0, fmt.Errorf("%s: outbox: %w", a.Config.Name, err)
	}
	return uid, nil
}

// FlushOutbox sends what waits in the Outbox. A temporary failure (no
// network) leaves the rest queued and is returned; permanent refusals are
// in the result and marked failed, and retried only with retryFailed.
func (a *Account) FlushOutbox(ctx context.Context, retryFailed bool, report Reporter) (FlushResult, error) {
	o, err := a.outbox(ctx)
	if err != nil {
		return submit.FlushResult{}, fmt.Errorf("%s: outbox: %w", a.Config.Name, err)
	}
	mb, err := a.store.Mailbox(ctx, OutboxName)
	if err == nil && mb.Total == 0 {
		return submit.FlushResult{}, nil
	}
	report.Report(lbsync.Event{Account: a.Config.Name, Mailbox: OutboxName, Phase: lbsync.PhaseSend})
	res, err := o.Flush(ctx, submit.FlushOptions{RetryFailed: retryFailed})
	ev := lbsync.Event{Account: a.Config.Name, Mailbox: OutboxName, Phase: lbsync.PhaseSend, Done: len(res.Sent), Total: len(res.Sent) + res.Remaining, Err: err}
	report.Report(ev)
	if err != nil {
		return res, fmt.Errorf("%s: send: %w", a.Config.Name, err)
	}
	return res, nil
}

// Outbox lists the messages waiting in the Outbox with their delivery
// notes (attempts, the server's last reply).
func (a *Account) Outbox(ctx context.Context) ([]Queued, error) {
	o, err := a.outbox(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: outbox: %w", a.Config.Name, err)
	}
	q, err := o.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: outbox: %w", a.Config.Name, err)
	}
	return q, nil
}

// Reply returns a reply draft to message id (all: reply to all).
func (a *Account) Reply(ctx context.Context, id int64, all bool) (*compose.Draft, error) {
	f, err := a.Raw(ctx, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := compose.Reply(f, a.Me(), all)
	if err != nil {
		return nil, fmt.Errorf("%s: reply to %d: %w", a.Config.Name, id, err)
	}
	return d, nil
}

// Forward returns a draft forwarding message id.
func (a *Account) Forward(ctx context.Context, id int64) (*compose.Draft, error) {
	f, err := a.Raw(ctx, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := compose.Forward(f, a.Me())
	if err != nil {
		return nil, fmt.Errorf("%s: forward %d: %w", a.Config.Name, id, err)
	}
	return d, nil
}

// MarkAnswered flags the message a sent reply answered.
func (a *Account) MarkAnswered(ctx context.Context, id int64) error {
	return a.SetFlags(ctx, []int64{id}, []string{store.FlagAnswered}, nil)
}

// SaveDraft builds d (keeping Bcc) and stores it in the Drafts folder,
// created as "Drafts" when the account has none. For an IMAP account the
// draft is journaled, so the next sync uploads it to the server's Drafts.
func (a *Account) SaveDraft(ctx context.Context, d *compose.Draft) error {
	var buf bytes.Buffer
	if err := compose.BuildForOutbox(d, &buf); err != nil {
		return fmt.Errorf("%s: save draft: %w", a.Config.Name, err)
	}
	folder, err := a.Folder(ctx, RoleDrafts)
	if err != nil {
		return fmt.Errorf("%s: save draft: %w", a.Config.Name, err)
	}
	if folder == "" {
		folder = "Drafts"
		if _, err := a.store.CreateMailbox(ctx, folder, store.SpecialDrafts); err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("%s: save draft: %w", a.Config.Name, err)
		}
	}
	flags := []string{store.FlagDraft, store.FlagSeen}
	if a.Config.Mode == ModeIMAP {
		_, err = a.local.Append(ctx, folder, &buf, flags)
	} else {
		_, err = a.store.Append(ctx, folder, &buf, store.AppendOptions{Flags: flags})
	}
	if err != nil {
		return fmt.Errorf("%s: save draft: %w", a.Config.Name, err)
	}
	return nil
}
