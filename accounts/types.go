package accounts

import "github.com/letterbox-mail/letterbox/store"

// The value types of the mail an Account hands out, re-exported from
// store so that the interface and the command line import accounts only
// (DESIGN: ui → accounts → store). They are aliases: the same types, with
// the same methods and JSON shapes.
type (
	// Message is one message's metadata (envelope, flags, size, folder).
	// Messages are addressed by Message.ID, which stays the same when a
	// message moves between folders.
	Message = store.Message
	// MessageKey is a position in a newest-first list (keyset paging).
	MessageKey = store.MessageKey
	// Mailbox is a folder with its counts and special use.
	Mailbox = store.Mailbox
	// Rendered is a message decoded for reading: headers, text, HTML as
	// text, attachments.
	Rendered = store.Rendered
	// Address is a mailbox address with its display name.
	Address = store.Address
	// Attachment is one attachment of a Rendered message.
	Attachment = store.Attachment
	// HeaderField is one header of a Rendered message.
	HeaderField = store.HeaderField
	// Change is one committed change of the account's mail, as delivered
	// by a Subscription.
	Change = store.Change
	// ChangeKind says what a Change is about.
	ChangeKind = store.ChangeKind
	// Subscription is a feed of committed changes: wait on C, then Pull;
	// Close ends it. C is closed when the subscription or the account
	// is closed.
	Subscription = store.Subscription
	// PendingChange is a local change waiting in the journal to be
	// replayed on the server, with its attempts and last error.
	PendingChange = store.JournalEntry
	// QueryError reports a malformed search query, with the position.
	QueryError = store.QueryError
)

// The kinds of Change.
const (
	ChangeMailboxCreated = store.ChangeMailboxCreated
	ChangeMailboxRenamed = store.ChangeMailboxRenamed
	ChangeMailboxDeleted = store.ChangeMailboxDeleted
	ChangeMessageAdded   = store.ChangeMessageAdded
	ChangeFlags          = store.ChangeFlags
	ChangeExpunged       = store.ChangeExpunged
)

// The standard message flags (RFC 9051 section 2.3.2), for SetFlags and
// Message.HasFlag. Any other atom ("$Forwarded") is a keyword.
const (
	FlagSeen     = store.FlagSeen
	FlagAnswered = store.FlagAnswered
	FlagFlagged  = store.FlagFlagged
	FlagDeleted  = store.FlagDeleted
	FlagDraft    = store.FlagDraft
)

// Special uses of folders (RFC 6154), as found in Mailbox.SpecialUse.
const (
	SpecialArchive = store.SpecialArchive
	SpecialDrafts  = store.SpecialDrafts
	SpecialJunk    = store.SpecialJunk
	SpecialSent    = store.SpecialSent
	SpecialTrash   = store.SpecialTrash
)

// Inbox is the name of every account's inbox.
const Inbox = store.Inbox

// ErrNotFound is wrapped by the errors of methods given a message id or a
// folder that does not exist.
var ErrNotFound = store.ErrNotFound

// FormatAddresses joins addresses for display: "Name <addr>, addr".
func FormatAddresses(list []Address) string { return store.FormatAddresses(list) }
