package imapsync

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/letterbox-mail/letterbox/store"
)

// Journal operations written by Local and replayed by Sync. Entries with
// other ops belong to someone else and are left alone.
const (
	opFlags  = "imap.flags"
	opMove   = "imap.move"
	opDelete = "imap.delete"
	opAppend = "imap.append"
)

// maxAttempts is how many permanent refusals an entry gets before it is
// dropped.
const maxAttempts = 3

// msgRef names one message of a journal entry as it was when the local
// action happened.
type msgRef struct {
	ID        int64  `json:"id"`
	UID       uint32 `json:"uid"`
	RemoteUID uint32 `json:"ruid,omitempty"`
	MessageID string `json:"mid,omitempty"`
	// Add and Remove are the flags a flags entry changes on this message.
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"rm,omitempty"`
}

// payload is the JSON body of a journal entry.
type payload struct {
	// Mailbox is the mailbox acted on (the source of a move).
	Mailbox string `json:"mailbox"`
	// Dest is the target of a move.
	Dest string `json:"dest,omitempty"`
	// UIDValidity is the mailbox's UIDVALIDITY the remote UIDs belong to.
	UIDValidity uint32   `json:"uidvalidity,omitempty"`
	Msgs        []msgRef `json:"msgs,omitempty"`
	// Token finds an appended message: its store.Remote.ID key.
	Token string `json:"token,omitempty"`
}

// entry is a decoded journal entry of ours.
type entry struct {
	store.JournalEntry
	p payload
}

// pendingEntries returns the journal entries of this package in order.
// Entries that cannot be decoded are dropped: they can never replay.
func pendingEntries(ctx context.Context, st Store) ([]entry, error) {
	all, err := st.Journal(ctx)
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, je := range all {
		switch je.Op {
		case opFlags, opMove, opDelete, opAppend:
		default:
			continue
		}
		var p payload
		if err := json.Unmarshal(je.Payload, &p); err != nil {
			if err := st.JournalDone(ctx, je.ID); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, entry{JournalEntry: je, p: p})
	}
	return out, nil
}

// pendingState is what the not yet replayed journal says about a
// mailbox's sync: remote UIDs that must not be downloaded again (moved or
// deleted locally) and flags that local changes own.
type pendingState struct {
	remote map[uint32]bool
	flags  map[int64]map[string]bool
	// moving are store ids of messages a pending entry moves.
	moving map[int64]bool
}

// pending summarises the journal for mailbox mb with UIDVALIDITY uv.
func pending(entries []entry, mb string, uv uint32) pendingState {
	ps := pendingState{remote: map[uint32]bool{}, flags: map[int64]map[string]bool{}, moving: map[int64]bool{}}
	for _, en := range entries {
		if en.Op == opMove {
			for _, m := range en.p.Msgs {
				ps.moving[m.ID] = true
			}
		}
		switch en.Op {
		case opMove, opDelete:
			if en.p.Mailbox == mb && en.p.UIDValidity == uv {
				for _, m := range en.p.Msgs {
					if m.RemoteUID != 0 {
						ps.remote[m.RemoteUID] = true
					}
				}
			}
		case opFlags:
			for _, m := range en.p.Msgs {
				set := ps.flags[m.ID]
				if set == nil {
					set = map[string]bool{}
					ps.flags[m.ID] = set
				}
				for _, f := range append(append([]string(nil), m.Add...), m.Remove...) {
					set[f] = true
				}
			}
		}
	}
	return ps
}

// Sync-state keys.
func stateKey(mb, what string) string { return "imap:" + mb + ":" + what }

const (
	keyLearned  = "imap:learned"
	keyInflight = "imap:inflight"
)

// stateUint reads a numeric sync-state value (0 when unset).
func stateUint(ctx context.Context, st Store, key string) (uint64, error) {
	v, err := st.SyncState(ctx, key)
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sync state %s: %w", key, err)
	}
	return n, nil
}

func fmtUint[T uint32 | uint64](n T) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(n), 10)
}

// learnedRef is where a replayed move or append put a message on the
// server, kept until the journal drains (see the package doc).
type learnedRef struct {
	Mailbox string `json:"mb"`
	UV      uint32 `json:"uv"`
	UID     uint32 `json:"uid"`
}

func loadLearned(ctx context.Context, st Store) (map[int64]learnedRef, error) {
	m := map[int64]learnedRef{}
	v, err := st.SyncState(ctx, keyLearned)
	if err != nil || v == "" {
		return m, err
	}
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return map[int64]learnedRef{}, nil // unreadable: forget it
	}
	return m, nil
}

func learnedValue(m map[int64]learnedRef) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}
