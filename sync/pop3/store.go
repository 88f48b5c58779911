package pop3

import (
	"context"
	"io"

	"github.com/letterbox-mail/letterbox/store"
)

// Store is the part of the mail store that POP3 download uses: the operations of
// *store.Store this package calls, and no others. Code here holds a Store,
// never a *store.Store, so the index behind it can change (another
// database, a fake in tests) without touching this package (see the
// package doc of store).
type Store interface {
	Append(ctx context.Context, mailbox string, r io.Reader, opts store.AppendOptions) (store.AppendResult, error)
	HasRemoteIDs(ctx context.Context, keys []string) (map[string]bool, error)
	LockSync(ctx context.Context, waiting func()) (unlock func(), err error)
	MarkRemoteIDsGone(ctx context.Context, keys []string) error
	RememberRemoteIDs(ctx context.Context, keys []string) error
	RemoteIDs(ctx context.Context) ([]store.RemoteIDInfo, error)
}

var _ Store = (*store.Store)(nil)
