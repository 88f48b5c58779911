package pop3d

import (
	"context"
	"os"

	"github.com/letterbox-mail/letterbox/store"
)

// Store is the part of the mail store that the POP3 maildrop uses: the operations of
// *store.Store this package calls, and no others. Code here holds a Store,
// never a *store.Store, so the index behind it can change (another
// database, a fake in tests) without touching this package (see the
// package doc of store).
type Store interface {
	Fetch(ctx context.Context, mailbox string, uids []uint32) ([]store.Message, error)
	GetByUID(ctx context.Context, mailbox string, uid uint32) (*store.Message, error)
	Mailbox(ctx context.Context, name string) (*store.Mailbox, error)
	OpenRaw(ctx context.Context, id int64) (*os.File, error)
	Remove(ctx context.Context, mailbox string, uids []uint32) ([]uint32, error)
	Root() string
	SetFlags(ctx context.Context, mailbox string, uids []uint32, op store.FlagOp, flags []string) ([]store.FlagUpdate, error)
}

var _ Store = (*store.Store)(nil)
