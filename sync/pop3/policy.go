package pop3

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/letterbox-mail/letterbox/store"
)

// PolicyKind is what happens on the server to a message once its local
// copy is durable.
type PolicyKind int

// The server-side policies.
const (
	// Keep leaves every message on the server (the default).
	Keep PolicyKind = iota
	// Delete deletes each message once it is stored locally.
	Delete
	// KeepDays deletes a message Days days after it was stored locally.
	KeepDays
)

// Policy is an account's server-side policy.
type Policy struct {
	Kind PolicyKind
	// Days is the age, in days since download, after which KeepDays
	// deletes a message; at least 1.
	Days int
}

// String returns the policy as the account configuration writes it.
func (p Policy) String() string {
	switch p.Kind {
	case Delete:
		return "delete"
	case KeepDays:
		return "keep-days:" + strconv.Itoa(p.Days)
	}
	return "keep"
}

func (p Policy) check() error {
	switch {
	case p.Kind == KeepDays && p.Days < 1:
		return permanent("policy keep-days: %d days, want at least 1", p.Days)
	case p.Kind < Keep || p.Kind > KeepDays:
		return permanent("unknown policy kind %d", p.Kind)
	}
	return nil
}

// keyPrefix starts the store's remote-id key of a UIDL, so that POP3 ids
// never collide with another kind of remote id in the same store.
const keyPrefix = "pop3:"

func uidlKey(uidl string) string { return keyPrefix + uidl }

// deletion is one message to delete on the server.
type deletion struct {
	num int
	key string
}

// plan chooses the messages to delete on the server. Only a message whose
// UIDL the store remembers with a local message (MessageID != 0: it was
// appended, so it is durable) is ever chosen, and only when it is on the
// server now (onServer maps keys to message numbers of this session):
//
//   - Delete: every such message;
//   - KeepDays: those stored at least Days days before now;
//   - deleteLocal: also those whose local copy was deleted (Present
//     false), whatever the policy.
//
// Remote ids remembered without a message (RememberRemoteIDs) are never
// chosen: there is no local copy.
func plan(ids []store.RemoteIDInfo, onServer map[string]int, p Policy, deleteLocal bool, now time.Time) []deletion {
	var out []deletion
	for _, r := range ids {
		num, ok := onServer[r.Key]
		if !ok || r.MessageID == 0 || !strings.HasPrefix(r.Key, keyPrefix) {
			continue
		}
		del := false
		switch p.Kind {
		case Delete:
			del = true
		case KeepDays:
			del = now.Sub(r.Created) >= time.Duration(p.Days)*24*time.Hour
		}
		if deleteLocal && !r.Present {
			del = true
		}
		if del {
			out = append(out, deletion{num: num, key: r.Key})
		}
	}
	return out
}

// vanished returns the remembered UIDLs that are no longer on the server
// and not yet marked so: deleted by another client, or by us in a
// session whose QUIT reply was lost.
func vanished(ids []store.RemoteIDInfo, onServer map[string]int) []string {
	var out []string
	for _, r := range ids {
		if _, ok := onServer[r.Key]; !ok && !r.ServerGone && strings.HasPrefix(r.Key, keyPrefix) {
			out = append(out, r.Key)
		}
	}
	return out
}

// describe is a short note for the final event.
func (r Result) describe() string {
	s := fmt.Sprintf("%d new, %d on server", r.Downloaded, r.OnServer)
	if r.Deleted > 0 {
		s += fmt.Sprintf(", %d deleted there", r.Deleted)
	}
	if r.Failed > 0 {
		s += fmt.Sprintf(", %d refused", r.Failed)
	}
	return s
}
