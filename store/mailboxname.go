package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// What a mailbox name may be. The hierarchy separator is "/"; a name is
// stored as one flat directory under ROOT/mail (mailboxDir), so the whole
// name, encoded, must fit in one directory name.

// Inbox is the name of the mailbox every store has.
const Inbox = "INBOX"

// MaxNameBytes is the longest name CanonicalName accepts; longer names
// cannot name a mailbox (see ValidateName for the stricter limit of new
// ones).
const MaxNameBytes = 512

// MaxDirName is NAME_MAX of the file systems the store runs on: the most
// bytes of the directory name a mailbox name is stored under.
const MaxDirName = 255

// NameError is a mailbox name the store refuses. It matches ErrInvalid
// with errors.Is.
type NameError struct {
	Name string
	// Reason completes "mailbox name ...": "is empty", "has an empty
	// level", ...
	Reason string
}

func (e *NameError) Error() string { return fmt.Sprintf("mailbox name %q %s", e.Name, e.Reason) }

// Unwrap makes a NameError match ErrInvalid.
func (e *NameError) Unwrap() error { return ErrInvalid }

// CanonicalName validates a mailbox name and returns its canonical form:
// "INBOX" in any case becomes "INBOX" (also as the first level); the
// hierarchy separator is "/". Its errors are *NameError.
func CanonicalName(name string) (string, error) {
	if strings.EqualFold(name, Inbox) {
		return Inbox, nil
	}
	bad := func(reason string) (string, error) { return "", &NameError{Name: name, Reason: reason} }
	switch {
	case name == "":
		return bad("is empty")
	case len(name) > MaxNameBytes:
		return bad(fmt.Sprintf("is %d bytes long; the limit is %d", len(name), MaxNameBytes))
	case !utf8.ValidString(name):
		return bad("is not valid UTF-8")
	}
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f:
			return bad("contains a control character")
		case r == '*' || r == '%':
			return bad("may not contain * or % (they are LIST wildcards)")
		}
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" {
			return bad("has an empty level")
		}
	}
	if strings.HasPrefix(strings.ToUpper(name), "INBOX/") {
		name = Inbox + name[len(Inbox):]
	}
	return name, nil
}

// ValidateName checks that a new mailbox may have the canonical name: its
// directory name must fit in MaxDirName bytes. CreateMailbox and
// RenameMailbox call it; servers may call it first to refuse early. Its
// errors are *NameError.
func ValidateName(cname string) error {
	if n := len(mailboxDir(cname)); n > MaxDirName {
		return &NameError{Name: cname, Reason: fmt.Sprintf("is too long for the store (%d bytes as a directory name, the limit is %d)", n, MaxDirName)}
	}
	return nil
}
