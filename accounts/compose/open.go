package compose

import (
	"fmt"
	"io"
	"strings"
)

// Open reads a saved draft back into a Draft, for editing: the addresses
// (Bcc too: the Drafts copy keeps it, as BuildForOutbox writes it), the
// subject, the text (format=flowed undone, or an HTML-only draft as
// text), the attachments, In-Reply-To and References. MessageID and Date
// are left empty, so that the edited version is built as a new message
// with its own Message-ID: a client replacing the old draft by the new
// one can never take the one for the other. Extra header fields are not
// kept.
func Open(r io.Reader) (*Draft, error) {
	o, err := readOriginal(r, true)
	if err != nil {
		return nil, fmt.Errorf("open draft: %w", err)
	}
	d := &Draft{
		ReplyTo: o.replyTo, To: o.to, Cc: o.cc, Bcc: o.bcc,
		Subject:     o.subject,
		Body:        o.text,
		Attachments: o.attachments,
		InReplyTo:   o.inReplyTo,
		References:  o.references,
	}
	if len(o.from) > 0 {
		d.From = o.from[0]
	}
	// Build ends the text with one line end whether the draft had it or
	// not; the draft gets it back, so a text opened and saved again
	// stays the same.
	if d.Body != "" && !strings.HasSuffix(d.Body, "\n") {
		d.Body += "\n"
	}
	return d, nil
}
