package imapd

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/letterbox-mail/letterbox/store"
)

// hub holds the live state of the users that have sessions.
type hub struct {
	log   *slog.Logger
	mu    sync.Mutex
	users map[string]*userState
}

// acquire returns the user's state, creating it (and its feed
// subscription) for the user's first session. Release it with release.
func (h *hub) acquire(user string, st Store) *userState {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[user]
	if u == nil || u.st != st {
		u = newUserState(user, st, h.log)
		h.users[user] = u
	}
	u.refs++
	return u
}

// release drops one session's reference; the last one stops the state.
func (h *hub) release(u *userState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u.refs--
	if u.refs > 0 {
		return
	}
	if h.users[u.name] == u {
		delete(h.users, u.name)
	}
	u.sub.Close() // ends the dispatcher
}

// userState is shared by one user's sessions: the change feed and the
// views of the mailboxes they have selected. Lock order: userState.mu,
// then mailboxState.mu.
type userState struct {
	name string
	st   Store
	log  *slog.Logger
	sub  *store.Subscription
	refs int // guarded by hub.mu

	// mu serialises draining the feed. A session holds it across a
	// flag-changing store write and the drain that follows, so it knows
	// which queued changes are its own (see origin).
	mu      sync.Mutex
	mboxes  map[int64]*mailboxState
	changed chan struct{} // closed and replaced after each drain
}

func newUserState(name string, st Store, log *slog.Logger) *userState {
	u := &userState{
		name: name, st: st, log: log.With("user", name),
		sub:     st.Subscribe(),
		mboxes:  map[int64]*mailboxState{},
		changed: make(chan struct{}),
	}
	go u.dispatch()
	return u
}

// dispatch drains the feed whenever it has something, so that idling
// sessions hear of changes. It ends when the subscription is closed.
func (u *userState) dispatch() {
	for range u.sub.C {
		u.drain()
	}
}

// drain applies pending store changes to the selected mailboxes' views.
func (u *userState) drain() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.drainLocked(nil)
}

// origin names the flag changes of one store write by one session: they
// are queued for every session but that one.
type origin struct {
	mailboxID int64
	modseq    uint64
	tracker   *imapserver.SessionTracker
}

// drainLocked is drain with u.mu held; own may be nil.
func (u *userState) drainLocked(own *origin) {
	changes := u.sub.Pull()
	if len(changes) == 0 {
		return
	}
	for _, c := range changes {
		mb := u.mboxes[c.MailboxID]
		if mb == nil {
			continue
		}
		mb.apply(c, own, u.log)
	}
	close(u.changed)
	u.changed = make(chan struct{})
}

// waitChan returns a channel that is closed by the next drain that
// applies changes.
func (u *userState) waitChan() <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.changed
}

// open returns the view of a mailbox for a session that selects it, with
// a snapshot for the SELECT response. Release it with close.
func (u *userState) open(ctx context.Context, name string) (*mailboxState, *imapserver.SessionTracker, *store.Snapshot, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.drainLocked(nil)
	// Every change not in the snapshot has a higher MODSEQ and is still to
	// come through the feed (the subscription predates the snapshot).
	snap, err := u.st.Snapshot(ctx, name)
	if err != nil {
		return nil, nil, nil, err
	}
	mb := u.mboxes[snap.Mailbox.ID]
	if mb == nil {
		mb = &mailboxState{
			id:      snap.Mailbox.ID,
			name:    snap.Mailbox.Name,
			uids:    snap.UIDs,
			base:    snap.Mailbox.HighestModSeq,
			tracker: imapserver.NewMailboxTracker(uint32(len(snap.UIDs))),
		}
		u.mboxes[mb.id] = mb
	}
	mb.refs++
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb, mb.tracker.NewSession(), snap, nil
}

// close releases a view taken with open.
func (u *userState) close(mb *mailboxState, st *imapserver.SessionTracker) {
	u.mu.Lock()
	defer u.mu.Unlock()
	st.Close()
	mb.refs--
	if mb.refs == 0 {
		delete(u.mboxes, mb.id)
	}
}

// mailboxState is the server's view of one selected mailbox: its UIDs in
// ascending order, so that UIDs[i] has the server sequence number i+1,
// and the tracker that maps it to each session's sequence numbers.
type mailboxState struct {
	id      int64
	tracker *imapserver.MailboxTracker
	refs    int // guarded by userState.mu

	mu      sync.Mutex
	name    string
	uids    []uint32
	base    uint64 // MODSEQ of the snapshot the view started from
	deleted bool
}

// apply applies one store change to the view and queues the matching
// update for the sessions (RFC 9051 section 7.4 and 7.5).
func (mb *mailboxState) apply(c store.Change, own *origin, log *slog.Logger) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	switch c.Kind {
	case store.ChangeMailboxRenamed:
		mb.name = c.Mailbox
		return
	case store.ChangeMailboxDeleted:
		mb.deleted = true
		return
	}
	if c.ModSeq <= mb.base {
		return // already in the snapshot
	}
	i, found := slices.BinarySearch(mb.uids, c.UID)
	switch c.Kind {
	case store.ChangeMessageAdded:
		if found {
			return
		}
		if i != len(mb.uids) {
			// UIDs only grow (RFC 9051 section 2.3.1.1); a lower one
			// cannot get a sequence number without renumbering.
			log.Warn("imap: ignoring out-of-order UID", "mailbox", mb.name, "uid", c.UID)
			return
		}
		mb.uids = append(mb.uids, c.UID)
		mb.tracker.QueueNumMessages(uint32(len(mb.uids)))
	case store.ChangeExpunged:
		if !found {
			return
		}
		mb.uids = slices.Delete(mb.uids, i, i+1)
		mb.tracker.QueueExpunge(uint32(i + 1))
	case store.ChangeFlags:
		if !found {
			return
		}
		var src *imapserver.SessionTracker
		if own != nil && own.mailboxID == c.MailboxID && own.modseq == c.ModSeq {
			src = own.tracker
		}
		mb.tracker.QueueMessageFlags(uint32(i+1), imapUID(c.UID), imapFlags(c.Flags), src)
	}
}
