package accounts

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/letterbox-mail/letterbox/sync/pop3"
)

// Policy is a parsed pop3_policy: the server-side policy of package
// pop3 itself, so Sync hands it over as is.
type Policy = pop3.Policy

// PolicyKind is what a POP3 account does with mail on the server once
// the local copy is durable.
type PolicyKind = pop3.PolicyKind

// The POP3 server-side policies.
const (
	PolicyKeep     = pop3.Keep     // leave every message on the server
	PolicyDelete   = pop3.Delete   // delete each message after download
	PolicyKeepDays = pop3.KeepDays // delete messages older than Days days
)

// ParsePOP3Policy parses a pop3_policy value: "keep", "delete" or
// "keep-days:N" with N ≥ 1. The empty string is keep.
func ParsePOP3Policy(s string) (Policy, error) {
	switch s {
	case "", "keep":
		return Policy{Kind: PolicyKeep}, nil
	case "delete":
		return Policy{Kind: PolicyDelete}, nil
	}
	if n, ok := strings.CutPrefix(s, "keep-days:"); ok {
		days, err := parseDays(n)
		if err != nil {
			return Policy{}, fmt.Errorf("pop3_policy %q: %w", s, err)
		}
		return Policy{Kind: PolicyKeepDays, Days: days}, nil
	}
	return Policy{}, fmt.Errorf(`pop3_policy %q: want "keep", "delete" or "keep-days:N"`, s)
}

// BodyKind says which message bodies sync downloads.
type BodyKind int

// The body download policies.
const (
	BodyAll    BodyKind = iota // every body, in the background
	BodyDays                   // bodies of messages newer than Days days
	BodyOnOpen                 // a body only when the message is opened
)

// BodyPolicy is a parsed sync_window.
type BodyPolicy struct {
	Kind BodyKind
	// Days is the window in days; only for BodyDays, and then at least 1.
	Days int
}

// String returns the policy as written in config.toml.
func (p BodyPolicy) String() string {
	switch p.Kind {
	case BodyDays:
		return "days:" + strconv.Itoa(p.Days)
	case BodyOnOpen:
		return "on-open"
	}
	return "all"
}

// ParseBodyPolicy parses a sync_window value: "all", "days:N" with N ≥ 1,
// or "on-open". The empty string is all.
func ParseBodyPolicy(s string) (BodyPolicy, error) {
	switch s {
	case "", "all":
		return BodyPolicy{Kind: BodyAll}, nil
	case "on-open":
		return BodyPolicy{Kind: BodyOnOpen}, nil
	}
	if n, ok := strings.CutPrefix(s, "days:"); ok {
		days, err := parseDays(n)
		if err != nil {
			return BodyPolicy{}, fmt.Errorf("sync_window %q: %w", s, err)
		}
		return BodyPolicy{Kind: BodyDays, Days: days}, nil
	}
	return BodyPolicy{}, fmt.Errorf(`sync_window %q: want "all", "days:N" or "on-open"`, s)
}

// POP3Deletion returns the parsed pop3_policy.
func (a AccountConfig) POP3Deletion() (Policy, error) { return ParsePOP3Policy(a.POP3Policy) }

// Bodies returns the parsed sync_window.
func (a AccountConfig) Bodies() (BodyPolicy, error) { return ParseBodyPolicy(a.SyncWindow) }

// maxDays bounds a day count to something a time.Duration can hold.
const maxDays = 100 * 365

func parseDays(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxDays {
		return 0, fmt.Errorf("%q is not a number of days from 1 to %d", s, maxDays)
	}
	return n, nil
}
