package ui

import (
	"context"
	"io"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// AccountBackend is the Backend of one *accounts.Account: every method is
// the account's own (reads from its local store, changes journaled for
// the server); it adds nothing but the Feed wrapper.
type AccountBackend struct {
	A *accounts.Account
}

var _ Backend = (*AccountBackend)(nil)

// NewAccountBackend returns the Backend of a.
func NewAccountBackend(a *accounts.Account) *AccountBackend { return &AccountBackend{A: a} }

func (b *AccountBackend) Name() string    { return b.A.Config.Name }
func (b *AccountBackend) Address() string { return b.A.Config.Email }

func (b *AccountBackend) Mailboxes(ctx context.Context) ([]accounts.Mailbox, error) {
	return b.A.Mailboxes(ctx)
}

func (b *AccountBackend) Page(ctx context.Context, req PageRequest) ([]accounts.Message, error) {
	return b.A.Page(ctx, req)
}

func (b *AccountBackend) Count(ctx context.Context, req PageRequest) (int, error) {
	return b.A.Count(ctx, req)
}

func (b *AccountBackend) Message(ctx context.Context, id int64) (accounts.Message, error) {
	m, err := b.A.Message(ctx, id)
	if err != nil {
		return accounts.Message{}, err
	}
	return *m, nil
}

func (b *AccountBackend) Position(ctx context.Context, req PageRequest, id int64) (int, error) {
	return b.A.Position(ctx, req, id)
}

func (b *AccountBackend) Render(ctx context.Context, id int64) (*accounts.Rendered, error) {
	return b.A.Render(ctx, id)
}

func (b *AccountBackend) HTML(ctx context.Context, id int64) (string, error) {
	return b.A.HTML(ctx, id)
}

func (b *AccountBackend) SaveAttachment(ctx context.Context, id int64, part string, w io.Writer) (int64, error) {
	return b.A.SaveAttachment(ctx, id, part, w)
}

func (b *AccountBackend) SetFlags(ctx context.Context, ids []int64, add, remove []string) error {
	return b.A.SetFlags(ctx, ids, add, remove)
}

func (b *AccountBackend) Move(ctx context.Context, ids []int64, folder string) error {
	return b.A.Move(ctx, ids, folder)
}

func (b *AccountBackend) Delete(ctx context.Context, ids []int64) error { return b.A.Delete(ctx, ids) }

func (b *AccountBackend) Archive(ctx context.Context, ids []int64) error {
	return b.A.Archive(ctx, ids)
}

func (b *AccountBackend) DeletedForGood(ctx context.Context, ids []int64) ([]int64, error) {
	return b.A.DeletedForGood(ctx, ids)
}

func (b *AccountBackend) Snapshot(ctx context.Context, ids []int64, scope []string) (accounts.Snapshot, error) {
	return b.A.Snapshot(ctx, ids, scope)
}

func (b *AccountBackend) Restore(ctx context.Context, s accounts.Snapshot) (int, error) {
	return b.A.Restore(ctx, s)
}

func (b *AccountBackend) Trash(ctx context.Context) (string, error) {
	return b.A.Folder(ctx, accounts.RoleTrash)
}

func (b *AccountBackend) Compose() *compose.Draft { return b.A.Compose() }

func (b *AccountBackend) Reply(ctx context.Context, id int64, all bool) (*compose.Draft, error) {
	return b.A.Reply(ctx, id, all)
}

func (b *AccountBackend) Forward(ctx context.Context, id int64) (*compose.Draft, error) {
	return b.A.Forward(ctx, id)
}

func (b *AccountBackend) Queue(ctx context.Context, d *compose.Draft) error {
	_, err := b.A.Queue(ctx, d)
	return err
}

// SaveDraft stores d in the account's Drafts folder (journaled for the
// server on IMAP accounts).
func (b *AccountBackend) SaveDraft(ctx context.Context, d *compose.Draft) error {
	return b.A.SaveDraft(ctx, d)
}

func (b *AccountBackend) OpenDraft(ctx context.Context, id int64) (*compose.Draft, error) {
	return b.A.OpenDraft(ctx, id)
}

func (b *AccountBackend) ReplaceDraft(ctx context.Context, old int64, d *compose.Draft) (int64, error) {
	return b.A.ReplaceDraft(ctx, old, d)
}

func (b *AccountBackend) DeleteDraft(ctx context.Context, id int64) error {
	return b.A.DeleteDraft(ctx, id)
}

func (b *AccountBackend) CreateFolder(ctx context.Context, name string) error {
	return b.A.CreateFolder(ctx, name)
}

func (b *AccountBackend) FailedChanges(ctx context.Context) ([]FailedChange, error) {
	list, err := b.A.FailedChanges(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]FailedChange, len(list))
	for i, c := range list {
		out[i] = FailedChange{ID: c.ID, What: b.A.DescribeChange(c), Error: c.LastError}
	}
	return out, nil
}

func (b *AccountBackend) RetryChange(ctx context.Context, id int64) error {
	return b.A.RetryChange(ctx, id)
}

func (b *AccountBackend) DropChange(ctx context.Context, id int64) error {
	return b.A.DropChange(ctx, id)
}

func (b *AccountBackend) MarkAnswered(ctx context.Context, id int64) error {
	return b.A.MarkAnswered(ctx, id)
}

func (b *AccountBackend) Sync(ctx context.Context, report func(accounts.SyncEvent)) (SyncSummary, error) {
	res, err := b.A.Sync(ctx, accounts.SyncOptions{Report: report})
	sum := SyncSummary{Sent: res.Sent, OutboxErr: res.OutboxErr}
	if res.IMAP != nil {
		sum.New = res.IMAP.New
	}
	if res.POP3 != nil {
		sum.New = res.POP3.Downloaded
	}
	return sum, err
}

func (b *AccountBackend) Flush(ctx context.Context, report func(accounts.SyncEvent)) (int, error) {
	res, err := b.A.FlushOutbox(ctx, false, report)
	return len(res.Sent), err
}

// Addresses finds senders and recipients whose name or address starts
// with prefix, newest first.
func (b *AccountBackend) Addresses(ctx context.Context, prefix string, limit int) ([]accounts.Address, error) {
	return b.A.Addresses(ctx, prefix, limit)
}

// Subscribe wraps the account's change feed.
func (b *AccountBackend) Subscribe() Feed { return accountFeed{b.A.Subscribe()} }

func (b *AccountBackend) Temporary(err error) bool { return accounts.Temporary(err) }

// Close closes the account. Run closes the accounts the wizard opened;
// those given in RunOptions.Accounts are the caller's to close.
func (b *AccountBackend) Close() error { return b.A.Close() }

type accountFeed struct{ s *accounts.Subscription }

func (f accountFeed) C() <-chan struct{}      { return f.s.C }
func (f accountFeed) Pull() []accounts.Change { return f.s.Pull() }
func (f accountFeed) Close()                  { f.s.Close() }
