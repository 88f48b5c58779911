package store

import (
	"errors"
	"strings"
	"time"

	"github.com/letterbox-mail/letterbox/store/mime"
)

// Standard IMAP system flags (RFC 9051 section 2.3.2). Keywords are any other
// atom, such as "$Forwarded" or "$Junk", and are stored the same way.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// Special-use attributes of mailboxes (RFC 6154).
const (
	SpecialAll     = `\All`
	SpecialArchive = `\Archive`
	SpecialDrafts  = `\Drafts`
	SpecialJunk    = `\Junk`
	SpecialSent    = `\Sent`
	SpecialTrash   = `\Trash`
)

// Errors returned by the store. Callers test them with errors.Is.
var (
	// ErrNotFound means the mailbox or message does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a mailbox of that name exists already.
	ErrExists = errors.New("already exists")
	// ErrInvalid means an argument (name, flag, query) was malformed.
	ErrInvalid = errors.New("invalid argument")
	// ErrEmptyMessage means a message of zero bytes was offered; it is
	// not stored (IMAP servers refuse it the same way).
	ErrEmptyMessage = errors.New("empty message")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store closed")
)

// Address is one mailbox address with its decoded display name (defined by
// the MIME parser, store/mime).
type Address = mime.Address

// FormatAddresses joins addresses for display.
func FormatAddresses(list []Address) string { return mime.FormatAddresses(list) }

// Rendered is a message prepared for a reader (Store.Render).
type Rendered = mime.Rendered

// HeaderField is one decoded header field of a Rendered message.
type HeaderField = mime.HeaderField

// Attachment describes one attachment of a Rendered message.
type Attachment = mime.Attachment

// Mailbox is one mailbox (folder) of the store.
type Mailbox struct {
	ID            int64
	Name          string
	SpecialUse    string
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	Subscribed    bool
	// Total and Unread count messages; Unread counts those without \Seen.
	Total  int
	Unread int
}

// Message is the indexed metadata of one message.
type Message struct {
	// ID is the store-wide id of the message; it stays the same when the
	// message is moved to another mailbox.
	ID           int64
	MailboxID    int64
	Mailbox      string
	UID          uint32
	ModSeq       uint64
	Flags        []string
	InternalDate time.Time
	Size         int64
	// File is the message file's path relative to the store root.
	File          string
	Date          time.Time
	From          []Address
	To            []Address
	Cc            []Address
	Subject       string
	MessageID     string
	InReplyTo     string
	References    []string
	ThreadID      int64
	HasAttachment bool
	Preview       string
	// Depth is how many of the message's ancestors are in its mailbox;
	// ThreadPos is its place in its thread's tree there (0 first), and
	// ThreadDate its thread's latest date: see threadorder.go.
	Depth      int
	ThreadPos  int
	ThreadDate time.Time
	// ThreadSize is, in a threaded listing with the thread collapsed,
	// how many messages the thread has in the mailbox (else 0), and
	// ThreadUnread how many of them are not \Seen, so a folded thread
	// still shows that it holds new mail.
	ThreadSize   int
	ThreadUnread int
}

// HasFlag reports whether the message carries flag (case-insensitive).
func (m *Message) HasFlag(flag string) bool {
	for _, f := range m.Flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

// ChangeKind says what a Change is about.
type ChangeKind int

// Kinds of changes published to subscribers.
const (
	ChangeMailboxCreated ChangeKind = iota + 1
	ChangeMailboxRenamed
	ChangeMailboxDeleted
	ChangeMessageAdded
	ChangeFlags
	ChangeExpunged
)

// Change is one committed change of the store.
type Change struct {
	Kind      ChangeKind
	MailboxID int64
	Mailbox   string
	// OldName is the previous name for ChangeMailboxRenamed.
	OldName string
	ID      int64
	UID     uint32
	ModSeq  uint64
	Flags   []string
}
