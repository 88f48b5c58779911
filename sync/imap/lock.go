package imapsync

import (
	"context"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// locked runs fn holding the store's sync lock (store.LockSync): the
// syncs of one account, in this process or in others (a cron job beside
// the interface's Watch), run one at a time, so none replays a journal
// entry or stores a message that another already did. The lock is held
// for one pass, never while idling. What the engine keeps between passes
// (the UIDs replays taught) is read again under the lock, since another
// process's pass may have changed it.
func (e *engine) locked(ctx context.Context, fn func() error) error {
	unlock, err := e.st.LockSync(ctx, func() {
		e.report(lbsync.Event{Phase: lbsync.PhaseConnect, Note: "waiting for another sync of this account"})
	})
	if err != nil {
		return lbsync.E("imap sync", lbsync.Other, err)
	}
	defer unlock()
	if e.learned, err = e.loadLearned(ctx); err != nil {
		return err
	}
	return fn()
}
