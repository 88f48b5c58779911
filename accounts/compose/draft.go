// Package compose builds outgoing messages: a Draft (addresses, subject,
// plain-text body, attachments, threading headers) is written by Build as
// an RFC 5322 message with CRLF line endings, a format=flowed (RFC 3676)
// UTF-8 body, RFC 2047 encoded headers and RFC 2231 attachment names.
// Reply and Forward make drafts from a received message.
//
// The package is pure: it does no network and no storage I/O other than
// reading the files named by Attachment.Path, and it keeps no state between
// calls. It imports no letterbox package (in particular not store, sync, ui
// or server); the account layer hands it raw messages as io.Readers and
// queues what it builds.
//
// Invariants of Build's output:
//   - no header value contains a CR or LF of the caller's making: any such
//     input is refused with ErrHeaderInjection;
//   - the Bcc header is never written by Build (BuildForOutbox keeps it
//     for the Outbox copy, from which the sender strips it);
//   - the output is 7-bit clean unless an address itself is not ASCII
//     (RFC 6532): bodies that are not ASCII are quoted-printable and
//     attachments are base64.
package compose

import (
	"errors"
	"strings"
	"time"
)

// Errors returned by Build and ParseAddressList; test with errors.Is.
var (
	// ErrHeaderInjection means a value meant for a header contained a
	// CR, LF or NUL, which could start a header field of its own.
	ErrHeaderInjection = errors.New("CR, LF or NUL in a header value (header injection refused)")
	// ErrInvalidAddress means an address is not a valid RFC 5322 mailbox.
	ErrInvalidAddress = errors.New("invalid address")
	// ErrInvalidDraft means the draft cannot be built for another reason:
	// no From, a reserved or malformed extra header, a bad content type.
	ErrInvalidDraft = errors.New("invalid draft")
)

// Draft is a message being composed.
type Draft struct {
	From    Address
	ReplyTo []Address
	To      []Address
	Cc      []Address
	// Bcc recipients get the message but are never named in what is
	// sent.
	Bcc     []Address
	Subject string
	// Body is the plain text as the user wrote it, with LF or CRLF line
	// ends. Lines starting with ">" are quotations. Build encodes it as
	// format=flowed, so long lines are wrapped for transport and rejoined
	// by the reader's client.
	Body        string
	Attachments []Attachment
	// InReplyTo is the Message-ID (without angle brackets) of the message
	// this one replies to.
	InReplyTo string
	// References are the Message-IDs of the thread, oldest first, without
	// angle brackets.
	References []string
	// Date is the origination date; Build sets it to the current time
	// when it is zero.
	Date time.Time
	// MessageID is the Message-ID without angle brackets; Build generates
	// "<random@domain-of-From>" when it is empty and stores it here, so a
	// draft built twice gives the same message.
	MessageID string
	// Headers are extra header fields such as User-Agent, written after
	// the standard ones. Fields Build writes itself (From, To, Date,
	// Message-ID, MIME and Content-* fields...) are refused.
	Headers []Field
}

// Field is one extra header field. Value is plain text; Build encodes it
// (RFC 2047) when it is not ASCII.
type Field struct {
	Key   string
	Value string
}

// Attachment is a file attached to a draft. Exactly one of Path and Data
// is the content: Data when it is not nil, the file at Path otherwise
// (read when Build runs, so building a draft twice works).
type Attachment struct {
	// Name is the file name shown to the recipient; the base name of
	// Path when empty.
	Name string
	// ContentType is the MIME type, with parameters if any. When empty
	// it comes from the extension of Name, then from sniffing the
	// content, then application/octet-stream.
	ContentType string
	Path        string
	Data        []byte
}

// Recipients returns the envelope recipients of d: the addresses of To,
// Cc and Bcc, in that order, without duplicates (compared
// case-insensitively).
func Recipients(d *Draft) []string {
	all := make([]Address, 0, len(d.To)+len(d.Cc)+len(d.Bcc))
	all = append(append(append(all, d.To...), d.Cc...), d.Bcc...)
	list := dedupAddresses(all)
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = strings.TrimSpace(a.Addr)
	}
	return out
}
