package imapwire

import (
	"unsafe"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapnum"
)

type NumKind int

const (
	NumKindSeq NumKind = iota + 1
	NumKindUID
)

func seqSetFromNumSet(s imapnum.Set) imap.SeqSet {
	return *(*imap.SeqSet)(unsafe.Pointer(&s))
}

func uidSetFromNumSet(s imapnum.Set) imap.UIDSet {
	return *(*imap.UIDSet)(unsafe.Pointer(&s))
}

func NumSetKind(numSet imap.NumSet) NumKind {
	switch numSet.(type) {
	case imap.SeqSet:
		return NumKindSeq
	case imap.UIDSet:
		return NumKindUID
	default:
		panic("imap: invalid NumSet type")
	}
}

func ParseSeqSet(s string) (imap.SeqSet, error) {
	numSet, err := imapnum.ParseSet(s)
	if err != nil {
		// Letterbox patch: a syntax error (BAD), not a server error (an
		// unknown SEARCH key ends up here).
		return nil, &DecoderExpectError{Message: "unknown search key or bad sequence set: " + err.Error()}
	}
	return seqSetFromNumSet(numSet), nil
}
