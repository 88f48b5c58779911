package ui

import (
	"context"
	"io"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// Backend is what the interface needs from one mail account. Every method
// may block (it reads the local store or the network) and is only called
// from a tea.Cmd, never from Update. AccountBackend implements it over
// *accounts.Account; the tests use a fake.
type Backend interface {
	// Name is the account's name, Address its e-mail address.
	Name() string
	Address() string
	// Mailboxes lists the folders with their counts, INBOX first.
	Mailboxes(ctx context.Context) ([]accounts.Mailbox, error)
	// Page returns one page of a folder or of a search (see PageRequest).
	Page(ctx context.Context, req PageRequest) ([]accounts.Message, error)
	// Count returns how many messages Page can return for req (Folder
	// and Query; paging fields ignored).
	Count(ctx context.Context, req PageRequest) (int, error)
	// Message returns one message's metadata.
	Message(ctx context.Context, id int64) (accounts.Message, error)
	// Position returns the row message id has in the folder listing req
	// selects (Folder, Threaded; Query and paging ignored); an error
	// when it is not there.
	Position(ctx context.Context, req PageRequest, id int64) (int, error)
	// Render decodes a message for reading.
	Render(ctx context.Context, id int64) (*accounts.Rendered, error)
	// HTML returns the message's HTML part (an error wrapping
	// accounts.ErrNoHTML when it has none), for the browser.
	HTML(ctx context.Context, id int64) (string, error)
	// SaveAttachment writes the decoded MIME part of message id to w.
	SaveAttachment(ctx context.Context, id int64, part string, w io.Writer) (int64, error)
	// SetFlags, Move, Delete (to Trash) and Archive change messages
	// locally at once (and journal the change for the server).
	SetFlags(ctx context.Context, ids []int64, add, remove []string) error
	Move(ctx context.Context, ids []int64, folder string) error
	Delete(ctx context.Context, ids []int64) error
	Archive(ctx context.Context, ids []int64) error
	// DeletedForGood returns those of ids that Delete would remove for
	// good (in Trash already, or no Trash): the interface asks first.
	DeletedForGood(ctx context.Context, ids []int64) ([]int64, error)
	// Snapshot records the folders of ids and their flags of scope;
	// Restore puts them back as they were (undo of a move, a delete to
	// Trash or a flag change) and says how many it found.
	Snapshot(ctx context.Context, ids []int64, scope []string) (accounts.Snapshot, error)
	Restore(ctx context.Context, s accounts.Snapshot) (int, error)
	// Trash returns the Trash folder's name, "" when there is none.
	Trash(ctx context.Context) (string, error)
	// Compose, Reply and Forward start drafts.
	Compose() *compose.Draft
	Reply(ctx context.Context, id int64, all bool) (*compose.Draft, error)
	Forward(ctx context.Context, id int64) (*compose.Draft, error)
	// Queue puts a draft in the Outbox (durable; no network).
	Queue(ctx context.Context, d *compose.Draft) error
	// SaveDraft stores a draft in the Drafts folder.
	SaveDraft(ctx context.Context, d *compose.Draft) error
	// OpenDraft opens saved draft id for editing; ReplaceDraft saves an
	// edited draft in place of draft old and returns the new one's id;
	// DeleteDraft removes draft id for good (it was sent).
	OpenDraft(ctx context.Context, id int64) (*compose.Draft, error)
	ReplaceDraft(ctx context.Context, old int64, d *compose.Draft) (int64, error)
	DeleteDraft(ctx context.Context, id int64) error
	// CreateFolder creates a folder (journaled for the server).
	CreateFolder(ctx context.Context, name string) error
	// FailedChanges lists the changes the server refused for good;
	// RetryChange sends one again with the next sync, DropChange gives
	// it up.
	FailedChanges(ctx context.Context) ([]FailedChange, error)
	RetryChange(ctx context.Context, id int64) error
	DropChange(ctx context.Context, id int64) error
	// MarkAnswered flags the message a sent reply answered.
	MarkAnswered(ctx context.Context, id int64) error
	// Sync runs one sync of the account (incoming, then the outbox),
	// reporting progress.
	Sync(ctx context.Context, report func(accounts.SyncEvent)) (SyncSummary, error)
	// Watch keeps the account in sync until ctx ends, as sync --watch
	// does (a full sync every interval, new mail as soon as the server
	// tells), reporting progress; it returns nil when ctx ends, errNoWatch
	// at once for an account it cannot watch (POP3), or the error that
	// stopped it (see watch.go).
	Watch(ctx context.Context, interval time.Duration, report func(accounts.SyncEvent)) error
	// Flush sends what waits in the Outbox and returns how many went.
	Flush(ctx context.Context, report func(accounts.SyncEvent)) (int, error)
	// Addresses returns known addresses that start with prefix, for
	// completion in the composer.
	Addresses(ctx context.Context, prefix string, limit int) ([]accounts.Address, error)
	// Subscribe starts a feed of the store's committed changes.
	Subscribe() Feed
	// Temporary reports whether err means "offline, try later" rather
	// than "the user must fix something".
	Temporary(err error) bool
}

// PageRequest selects a page: of Folder, or of the matches of Query in
// Folder. It is the account layer's, so the interface scopes a search by
// the same rule as the command line (see accounts.PageRequest).
type PageRequest = accounts.PageRequest

// SyncSummary is what one sync did, for the status line.
type SyncSummary struct {
	New  int // messages that arrived
	Sent int // outbox messages sent
	// OutboxErr is the outbox flush's failure (the incoming sync
	// succeeded).
	OutboxErr error
}

// Feed is a subscription to a store's committed changes: wait on C, then
// Pull. C is closed when the feed or the store is closed.
type Feed interface {
	C() <-chan struct{}
	Pull() []accounts.Change
	Close()
}

// FailedChange is a local change the server refused for good.
type FailedChange struct {
	ID int64
	// What says what the change does ("move 1 message from INBOX to
	// Projects"); Error is the server's words.
	What, Error string
}
