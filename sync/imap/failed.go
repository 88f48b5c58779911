package imapsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/letterbox-mail/letterbox/store"
)

// Failed changes: a journal entry the server refused maxAttempts times is
// kept, marked failed (store.JournalGiveUp), and replayed no more until
// the user retries it (Retry) or gives it up (Drop). Meanwhile it still
// describes the store: a failed rename or folder delete keeps the server's
// folder of the old name from coming back locally (hideOwned), and a
// failed move keeps the message where the user put it.

// Describe says in words what journal entry je of this package changes,
// for lists of pending and failed changes: "move 2 messages from INBOX to
// Archive". Entries of other packages and unreadable ones say what they
// are.
func Describe(je store.JournalEntry) string {
	if !ours(je.Op) {
		return je.Op
	}
	var p payload
	if err := json.Unmarshal(je.Payload, &p); err != nil {
		return opName(je.Op) + " (unreadable entry)"
	}
	n := len(p.Msgs)
	msgs := fmt.Sprintf("%d messages", n)
	if n == 1 {
		msgs = "1 message"
	}
	switch je.Op {
	case opFlags:
		return fmt.Sprintf("change flags of %s in %s", msgs, p.Mailbox)
	case opMove:
		return fmt.Sprintf("move %s from %s to %s", msgs, p.Mailbox, p.Dest)
	case opDelete:
		return fmt.Sprintf("delete %s from %s", msgs, p.Mailbox)
	case opAppend:
		return "upload a message to " + p.Mailbox
	case opCreate:
		return "create folder " + p.Mailbox
	case opRename:
		return fmt.Sprintf("rename folder %s to %s", p.Mailbox, p.Dest)
	case opRmbox:
		return "delete folder " + p.Mailbox
	case opSubscribe:
		if p.On {
			return "subscribe to " + p.Mailbox
		}
		return "unsubscribe from " + p.Mailbox
	}
	return je.Op
}

// Retry makes journal entry id, failed or not, replay again at the next
// sync, with its attempts counted from zero.
func Retry(ctx context.Context, st Store, id int64) error {
	return st.JournalRetry(ctx, id)
}

// Drop gives up journal entry id for good: it is deleted, and what the
// server will now never do is undone locally where that is possible, so
// that the next sync brings the store back to the server's state:
//
//   - a move: the messages go back to the folder they came from;
//   - a flag change: the folder's flags are read again from the server;
//   - a folder rename: the folder takes its old name again (when that
//     name is free locally);
//   - a deleted message or folder comes back from the server at the next
//     sync by itself;
//   - an uploaded message (Sent, Drafts) stays here, on no server; a
//     created folder stays here too, as do subscriptions.
func Drop(ctx context.Context, st Store, id int64) error {
	all, err := st.Journal(ctx)
	if err != nil {
		return err
	}
	var je *store.JournalEntry
	for i := range all {
		if all[i].ID == id {
			je = &all[i]
		}
	}
	if je == nil {
		return fmt.Errorf("drop change %d: %w", id, store.ErrNotFound)
	}
	var p payload
	if ours(je.Op) && json.Unmarshal(je.Payload, &p) == nil {
		if err := undo(ctx, st, je.Op, p); err != nil {
			return fmt.Errorf("drop change %d: %w", id, err)
		}
	}
	return st.JournalDone(ctx, id)
}

// undo reverts locally what a dropped entry did (see Drop).
func undo(ctx context.Context, st Store, op string, p payload) error {
	switch op {
	case opMove:
		e := &engine{st: st}
		var d *dropError
		if err := e.moveBack(ctx, p, ""); err != nil && !errors.As(err, &d) {
			return err
		}
	case opFlags:
		return st.SetSyncState(ctx, map[string]string{stateKey(p.Mailbox, "modseq"): ""})
	case opRename:
		if _, err := st.Mailbox(ctx, p.Mailbox); err == nil {
			return nil // the old name is taken again
		}
		if _, err := st.Mailbox(ctx, p.Dest); err != nil {
			return nil // gone since
		}
		l := &Local{Store: st}
		return l.renameLocal(ctx, p.Dest, p.Mailbox)
	}
	return nil
}

// hideOwned takes out of the server's folders those that a rename or a
// folder delete still waiting in the journal (failed, or held back) is
// about: the source, which the sync must not bring back locally, and the
// target of a rename, whose local folder is the renamed one and must not
// be synced against another folder of that name on the server.
func (e *engine) hideOwned(entries []entry) {
	hide := func(mb string, below bool) {
		for local := range e.boxes {
			if local == mb || below && strings.HasPrefix(local, mb+"/") {
				delete(e.boxes, local)
			}
		}
	}
	for _, en := range entries {
		switch en.Op {
		case opRename:
			hide(en.p.Mailbox, true)
			hide(en.p.Dest, true)
		case opRmbox:
			hide(en.p.Mailbox, false)
		}
	}
}
