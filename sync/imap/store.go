package imapsync

import (
	"context"
	"io"
	"os"

	"github.com/letterbox-mail/letterbox/store"
)

// Store is the part of the mail store that IMAP sync uses: the operations of
// *store.Store this package calls, and no others. Code here holds a Store,
// never a *store.Store, so the index behind it can change (another
// database, a fake in tests) without touching this package (see the
// package doc of store).
type Store interface {
	Append(ctx context.Context, mailbox string, r io.Reader, opts store.AppendOptions) (store.AppendResult, error)
	AppendMany(ctx context.Context, mailbox string, items []store.AppendItem) ([]store.AppendResult, error)
	Stage(ctx context.Context, mailbox string, items []store.AppendItem) (*store.Staged, error)
	CreateMailbox(ctx context.Context, name, specialUse string) (*store.Mailbox, error)
	DeleteMailbox(ctx context.Context, name string) error
	Fetch(ctx context.Context, mailbox string, uids []uint32) ([]store.Message, error)
	Get(ctx context.Context, id int64) (*store.Message, error)
	Journal(ctx context.Context) ([]store.JournalEntry, error)
	JournalAdd(ctx context.Context, op string, payload []byte) (int64, error)
	JournalDone(ctx context.Context, ids ...int64) error
	JournalFailed(ctx context.Context, id int64, reason string) error
	JournalGiveUp(ctx context.Context, id int64, reason string) error
	JournalRetry(ctx context.Context, id int64) error
	LockSync(ctx context.Context, waiting func()) (unlock func(), err error)
	Mailbox(ctx context.Context, name string) (*store.Mailbox, error)
	Mailboxes(ctx context.Context) ([]store.Mailbox, error)
	Move(ctx context.Context, src string, uids []uint32, dst string) ([]store.UIDPair, uint32, error)
	OpenRaw(ctx context.Context, id int64) (*os.File, error)
	PartialUIDs(ctx context.Context, mailbox string) ([]store.RemotePair, error)
	RemoteCount(ctx context.Context, mailbox string) (int, error)
	RemoteIDs(ctx context.Context) ([]store.RemoteIDInfo, error)
	RemoteIndex(ctx context.Context, mailbox string) ([]store.RemoteRef, error)
	RemoteRefs(ctx context.Context, mailbox string, remote []uint32) ([]store.RemoteRef, error)
	RemoteUIDs(ctx context.Context, mailbox string) ([]uint32, error)
	LocalCandidates(ctx context.Context, mailbox string, mids []string, ids []int64) ([]store.LocalMessage, error)
	Remove(ctx context.Context, mailbox string, uids []uint32) ([]uint32, error)
	RenameMailbox(ctx context.Context, oldName, newName string) error
	ReplaceBody(ctx context.Context, mailbox string, uid uint32, r io.Reader) error
	ReplaceBodies(ctx context.Context, mailbox string, bodies []store.Body) ([]error, error)
	ResetRemote(ctx context.Context, mailbox string) error
	SetFlags(ctx context.Context, mailbox string, uids []uint32, op store.FlagOp, flags []string) ([]store.FlagUpdate, error)
	SetFlagsMany(ctx context.Context, mailbox string, changes []store.FlagChange) ([]store.FlagUpdate, error)
	SetRemoteUIDs(ctx context.Context, mailbox string, pairs []store.RemotePair) error
	SetSpecialUse(ctx context.Context, name, specialUse string) error
	SetSubscribed(ctx context.Context, name string, subscribed bool) error
	SetSyncState(ctx context.Context, kv map[string]string) error
	SyncState(ctx context.Context, key string) (string, error)
}

var _ Store = (*store.Store)(nil)
