package imapd

import (
	"context"
	"io"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mime"
)

// Store is the part of the mail store that the IMAP sessions uses: the operations of
// *store.Store this package calls, and no others. Code here holds a Store,
// never a *store.Store, so the index behind it can change (another
// database, a fake in tests) without touching this package (see the
// package doc of store).
type Store interface {
	Append(ctx context.Context, mailbox string, r io.Reader, opts store.AppendOptions) (store.AppendResult, error)
	Copy(ctx context.Context, src string, uids []uint32, dst string) ([]store.UIDPair, uint32, error)
	CreateMailbox(ctx context.Context, name, specialUse string) (*store.Mailbox, error)
	DeleteMailbox(ctx context.Context, name string) error
	Expunge(ctx context.Context, mailbox string, uids []uint32) ([]uint32, error)
	Fetch(ctx context.Context, mailbox string, uids []uint32) ([]store.Message, error)
	Get(ctx context.Context, id int64) (*store.Message, error)
	IMAPFetch(ctx context.Context, mailboxID int64, uids []uint32) ([]store.Message, error)
	Mailbox(ctx context.Context, name string) (*store.Mailbox, error)
	Mailboxes(ctx context.Context) ([]store.Mailbox, error)
	Move(ctx context.Context, src string, uids []uint32, dst string) ([]store.UIDPair, uint32, error)
	RenameMailbox(ctx context.Context, oldName, newName string) error
	Root() string
	SearchUIDs(ctx context.Context, mailbox string, f *store.Filter) ([]uint32, error)
	SetFlags(ctx context.Context, mailbox string, uids []uint32, op store.FlagOp, flags []string) ([]store.FlagUpdate, error)
	SetSubscribed(ctx context.Context, name string, subscribed bool) error
	Structures(ctx context.Context, msgs []store.Message) ([]*mime.Structure, error)
	Snapshot(ctx context.Context, mailbox string) (*store.Snapshot, error)
	Subscribe() *store.Subscription
	UIDs(ctx context.Context, mailbox string) ([]uint32, error)
	Usage(ctx context.Context, mailbox string) (store.MailboxUsage, error)
}

var _ Store = (*store.Store)(nil)
