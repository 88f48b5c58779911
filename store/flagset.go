package store

import (
	"fmt"
	"sort"
	"strings"
)

var systemFlags = []string{FlagSeen, FlagAnswered, FlagFlagged, FlagDeleted, FlagDraft}

// CanonicalFlags validates flags and returns them deduplicated, sorted,
// with system flags in their canonical case. \Recent is session state, not
// stored, and is dropped. Keywords must be IMAP atoms (RFC 9051 section 9,
// flag-keyword).
func CanonicalFlags(flags []string) ([]string, error) {
	seen := make(map[string]bool, len(flags))
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		c, err := canonicalFlag(f)
		if err != nil {
			return nil, err
		}
		if c == "" || seen[strings.ToLower(c)] {
			continue
		}
		seen[strings.ToLower(c)] = true
		out = append(out, c)
	}
	sort.Strings(out)
	return out, nil
}

func canonicalFlag(f string) (string, error) {
	if strings.HasPrefix(f, `\`) {
		if strings.EqualFold(f, `\Recent`) {
			return "", nil
		}
		for _, sf := range systemFlags {
			if strings.EqualFold(f, sf) {
				return sf, nil
			}
		}
		return "", fmt.Errorf("flag %q: unknown system flag: %w", f, ErrInvalid)
	}
	if f == "" || len(f) > 200 {
		return "", fmt.Errorf("flag %q: %w", f, ErrInvalid)
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return "", fmt.Errorf("flag %q: not an atom: %w", f, ErrInvalid)
		}
	}
	return f, nil
}

// flagBits extracts the boolean columns of a canonical flag list.
type flagBits struct{ seen, answered, flagged, deleted, draft int }

func bitsOf(flags []string) flagBits {
	var b flagBits
	for _, f := range flags {
		switch f {
		case FlagSeen:
			b.seen = 1
		case FlagAnswered:
			b.answered = 1
		case FlagFlagged:
			b.flagged = 1
		case FlagDeleted:
			b.deleted = 1
		case FlagDraft:
			b.draft = 1
		}
	}
	return b
}

func joinFlags(flags []string) string { return strings.Join(flags, " ") }

func splitFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// FlagOp says how SetFlags combines the given flags with a message's.
type FlagOp int

// Flag operations, as IMAP STORE FLAGS, +FLAGS and -FLAGS.
const (
	FlagsReplace FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// applyFlags returns the canonical result of op on cur.
func applyFlags(cur []string, op FlagOp, flags []string) []string {
	switch op {
	case FlagsReplace:
		return flags
	case FlagsAdd:
		merged, _ := CanonicalFlags(append(append([]string{}, cur...), flags...))
		return merged
	default:
		drop := make(map[string]bool, len(flags))
		for _, f := range flags {
			drop[strings.ToLower(f)] = true
		}
		out := make([]string, 0, len(cur))
		for _, f := range cur {
			if !drop[strings.ToLower(f)] {
				out = append(out, f)
			}
		}
		return out
	}
}

func sameFlags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
