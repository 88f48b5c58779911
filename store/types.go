package store

import (
	"errors"
	"strings"
	"time"
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

// Address is one mailbox address with its decoded display name.
type Address struct {
	Name string `json:"name,omitempty"`
	Addr string `json:"addr"`
}

// String formats the address for display: "Name <addr>" or "addr".
func (a Address) String() string {
	if a.Name == "" {
		return a.Addr
	}
	if a.Addr == "" {
		return a.Name
	}
	return a.Name + " <" + a.Addr + ">"
}

// FormatAddresses joins addresses for display.
func FormatAddresses(list []Address) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// Envelope is the parsed, decoded header information of a message. Message
// ids are stored without angle brackets.
type Envelope struct {
	Date       time.Time
	Subject    string
	From       []Address
	Sender     []Address
	ReplyTo    []Address
	To         []Address
	Cc         []Address
	Bcc        []Address
	MessageID  string
	InReplyTo  []string
	References []string
}

// ParsedMessage is what ParseMessage extracts from a raw message for the
// index.
type ParsedMessage struct {
	Envelope Envelope
	// HasAttachment reports a part with Content-Disposition attachment, or a
	// non-text, non-multipart part with a file name.
	HasAttachment bool
	// Preview is the start of the body text, whitespace collapsed, at most
	// PreviewLen runes.
	Preview string
	// HeaderText is the decoded text of the indexed headers.
	// BodyText is the decoded text of the text parts (HTML converted to
	// text), capped at MaxIndexedText bytes, for the full-text index.
	BodyText string
	// Size is the number of bytes read from the message.
	Size int64
	// Problems lists what could not be parsed; the message is still stored.
	Problems []string
}

// Limits of parsing.
const (
	// PreviewLen is the maximum length in runes of ParsedMessage.Preview.
	PreviewLen = 200
	// MaxIndexedText caps the body text indexed per message.
	MaxIndexedText = 256 << 10
	// MaxNesting is the deepest multipart nesting that is descended into;
	// deeper parts are treated as opaque.
	MaxNesting = 50
)

// Rendered is a message prepared for a reader.
type Rendered struct {
	Envelope Envelope
	// Headers are the displayed header fields, decoded, in display order
	// (Date, From, To, Cc, Subject, then others that were asked for).
	Headers []HeaderField
	// Text is the text/plain part, or the HTML part rendered as text with
	// links kept, when there is no plain part.
	Text string
	// FromHTML reports that Text was rendered from HTML.
	FromHTML bool
	// Attachments lists the parts that are not the displayed text.
	Attachments []Attachment
	// Problems lists what could not be decoded.
	Problems []string
}

// HeaderField is one decoded header field.
type HeaderField struct {
	Key   string
	Value string
}

// Attachment describes one attachment of a message.
type Attachment struct {
	// Part is the MIME part path, "1", "2.1", as in IMAP BODY[section].
	Part        string `json:"part"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	// Size is the decoded size in bytes.
	Size   int64 `json:"size"`
	Inline bool  `json:"inline,omitempty"`
}

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
	// how many messages the thread has in the mailbox (else 0).
	ThreadSize int
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
