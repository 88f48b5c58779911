package mime

import (
	"errors"
	"strings"
	"time"
)

// ErrNoPart means a message has no leaf part of the section number asked
// for (SavePart).
var ErrNoPart = errors.New("no such part")

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

// Parsed is what Parse extracts from a raw message for the index.
type Parsed struct {
	Envelope Envelope
	// HasAttachment reports a part with Content-Disposition attachment, or a
	// non-text, non-multipart part with a file name.
	HasAttachment bool
	// Preview is the start of the body text, whitespace collapsed, at most
	// PreviewLen runes.
	Preview string
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
	// PreviewLen is the maximum length in runes of Parsed.Preview.
	PreviewLen = 200
	// MaxIndexedText caps the body text indexed per message.
	MaxIndexedText = 256 << 10
	// MaxNesting is the deepest multipart nesting that is descended into;
	// deeper parts are treated as opaque.
	MaxNesting = 50
)

// Rendered is a message prepared for a reader (Render).
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
	// Partial says the bytes rendered are only the message's header:
	// its body is still to be downloaded. Render leaves it false; the
	// store sets it for messages a sync has not fetched in full yet.
	Partial bool
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
