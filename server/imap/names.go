package imapd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/emersion/go-imap/v2"

	"github.com/letterbox-mail/letterbox/store"
)

// Mailbox names. A name from the wire is checked in three steps, each
// answered NO with an RFC 5530 response code and a text that says what is
// wrong, so the session goes on:
//
//  1. imapserver decodes it (UTF-8 or modified UTF-7, RFC 3501 section
//     5.1.3) and refuses control bytes and bad encodings itself
//     (third_party/go-imap, patched to answer NO [CANNOT]);
//  2. store.CanonicalName: what may name a mailbox at all (no wildcards,
//     no empty level), NO [CANNOT];
//  3. for a mailbox about to be made (CREATE, RENAME's new names, and the
//     TRYCREATE case of APPEND, COPY and MOVE): the server's limits
//     (MailboxLimits) and what the store can hold (store.ValidateName),
//     NO [CANNOT]; the number of mailboxes, NO [LIMIT].
//
// A name that fails only step 3 may still be looked up: it names no
// mailbox, so SELECT, STATUS, DELETE and SUBSCRIBE answer NO
// [NONEXISTENT].

// Defaults of MailboxLimits.
const (
	// DefaultMaxNameBytes is also the most a name can be when nothing in
	// it needs encoding for its directory (store.MaxDirName).
	DefaultMaxNameBytes = 255
	DefaultMaxDepth     = 16
	DefaultMaxMailboxes = 1000
)

// MailboxLimits bound the mailboxes a user may make; a zero field takes
// its default.
type MailboxLimits struct {
	// MaxNameBytes is the longest mailbox name in bytes (UTF-8, the
	// hierarchy separators included).
	MaxNameBytes int
	// MaxDepth is the most hierarchy levels of a name ("a/b/c" has 3).
	MaxDepth int
	// MaxMailboxes is the most mailboxes of one user, INBOX included.
	// Concurrent CREATEs of one user may pass it by one each.
	MaxMailboxes int
}

func (l MailboxLimits) withDefaults() MailboxLimits {
	if l.MaxNameBytes <= 0 {
		l.MaxNameBytes = DefaultMaxNameBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxMailboxes <= 0 {
		l.MaxMailboxes = DefaultMaxMailboxes
	}
	return l
}

// canonical turns a mailbox name from the wire into the store's form. A
// trailing separator is dropped: "CREATE a/" makes "a" (RFC 9051 section
// 6.3.4).
func canonical(name string) (string, error) {
	c, err := store.CanonicalName(strings.TrimSuffix(name, string(delim)))
	if err != nil {
		return "", nameRefused(err)
	}
	return c, nil
}

// nameRefused is the answer to a name the store refuses.
func nameRefused(err error) error {
	var ne *store.NameError
	if errors.As(err, &ne) {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Mailbox name " + clean(ne.Reason)}
	}
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Invalid mailbox name"}
}

// checkNew refuses a canonical name that may not be given to a new
// mailbox.
func (s *session) checkNew(cname string) error {
	if cname == store.Inbox {
		return nil
	}
	lim := s.srv.opts.Limits
	cannot := func(format string, args ...any) error {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: fmt.Sprintf(format, args...)}
	}
	if n := len(cname); n > lim.MaxNameBytes {
		return cannot("Mailbox name is %d bytes long; the limit is %d", n, lim.MaxNameBytes)
	}
	if n := strings.Count(cname, string(delim)) + 1; n > lim.MaxDepth {
		return cannot("Mailbox name has %d levels; the limit is %d", n, lim.MaxDepth)
	}
	// C1 controls (C0 ones are refused before): the store could hold
	// them, but no client shows them sensibly.
	if strings.ContainsFunc(cname, unicode.IsControl) {
		return cannot("Mailbox name contains a control character")
	}
	if err := store.ValidateName(cname); err != nil {
		return nameRefused(err)
	}
	return nil
}

// checkCount refuses adding n mailboxes to the user's when that passes
// MaxMailboxes. It returns the mailboxes there are, by name.
func (s *session) checkCount(ctx context.Context, n int) (map[string]bool, error) {
	mbs, err := s.st.Mailboxes(ctx)
	if err != nil {
		return nil, storeError("count mailboxes", err)
	}
	have := make(map[string]bool, len(mbs))
	for _, mb := range mbs {
		have[mb.Name] = true
	}
	if max := s.srv.opts.Limits.MaxMailboxes; len(mbs)+n > max {
		return nil, errTooMany(max)
	}
	return have, nil
}

func errTooMany(max int) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit,
		Text: fmt.Sprintf("%d mailboxes is the limit; delete some first", max)}
}

// missingTarget is the answer when the destination of APPEND, COPY or
// MOVE does not exist: TRYCREATE when CREATE could make it (RFC 9051
// section 6.3.12), the reason otherwise.
func (s *session) missingTarget(cname string) error {
	if err := s.checkNew(cname); err != nil {
		return err
	}
	return errTryCreate
}
