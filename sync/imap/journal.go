package imapsync

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Journal operations written by Local and replayed by Sync. Entries with
// other ops belong to someone else and are left alone.
const (
	opFlags  = "imap.flags"
	opMove   = "imap.move"
	opDelete = "imap.delete"
	opAppend = "imap.append"
	// Folder operations (folders.go).
	opCreate    = "imap.create"
	opRename    = "imap.rename"
	opRmbox     = "imap.rmbox"
	opSubscribe = "imap.subscribe"
)

// ours reports whether op is a journal operation of this package.
func ours(op string) bool {
	switch op {
	case opFlags, opMove, opDelete, opAppend, opCreate, opRename, opRmbox, opSubscribe:
		return true
	}
	return false
}

// maxAttempts is how many permanent refusals an entry gets before it is
// marked failed for good (store.JournalGiveUp): kept, shown to the user,
// no longer replayed until retried.
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
	// Use is the special use (RFC 6154) a created folder asks for.
	Use string `json:"use,omitempty"`
	// On is what a subscribe entry sets: subscribed or not.
	On bool `json:"on,omitempty"`
}

// entry is a decoded journal entry of ours.
type entry struct {
	store.JournalEntry
	p payload
}

// pendingEntries returns the journal entries of this package in order,
// those marked failed included (they still describe the store). An entry
// that cannot be decoded can never replay: it is marked failed with the
// reason, so that it shows among the failed changes, and left out.
func pendingEntries(ctx context.Context, st Store) ([]entry, error) {
	all, err := st.Journal(ctx)
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, je := range all {
		if !ours(je.Op) {
			continue
		}
		var p payload
		if err := json.Unmarshal(je.Payload, &p); err != nil {
			if !je.Failed {
				if err := st.JournalGiveUp(ctx, je.ID, "the journal entry cannot be read: "+err.Error()); err != nil {
					return nil, err
				}
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

// loadLearned reads the learned map. One that cannot be read is
// forgotten with a note: it only speeds up finding messages, which
// resolve also finds by their remote UID or Message-ID.
func (e *engine) loadLearned(ctx context.Context) (map[int64]learnedRef, error) {
	m := map[int64]learnedRef{}
	v, err := e.st.SyncState(ctx, keyLearned)
	if err != nil || v == "" {
		return m, err
	}
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		e.note("", lbsync.PhaseReplay, fmt.Sprintf("sync state %s cannot be read (%v): forgotten; replayed messages are found by Message-ID", keyLearned, err))
		return map[int64]learnedRef{}, e.st.SetSyncState(ctx, map[string]string{keyLearned: ""})
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
