package accounts

import (
	"context"
	"errors"
	"fmt"

	imapsync "github.com/letterbox-mail/letterbox/sync/imap"
)

// Local changes waiting for the server, and those it refused: a change an
// IMAP server refuses three times (a folder it will not create, a rename
// onto a name it has) is kept as a failed change with the server's words,
// never dropped on its own, and no longer sent. The user retries it
// (after fixing the cause) or drops it; dropping undoes locally what the
// server will never do (a move goes back), so the next sync brings the
// account back to the server's state.

// DescribeChange says in words what a pending change does: "move 2
// messages from INBOX to Archive".
func (a *Account) DescribeChange(c PendingChange) string { return imapsync.Describe(c) }

// FailedChanges lists the changes the server refused for good, oldest
// first, with its words in LastError.
func (a *Account) FailedChanges(ctx context.Context) ([]PendingChange, error) {
	all, err := a.PendingChanges(ctx)
	if err != nil {
		return nil, err
	}
	var out []PendingChange
	for _, c := range all {
		if c.Failed {
			out = append(out, c)
		}
	}
	return out, nil
}

// RetryChange sends pending change id again at the next sync (a running
// Watch replays it at once), its attempts counted from zero. An unknown
// id wraps ErrNotFound.
func (a *Account) RetryChange(ctx context.Context, id int64) error {
	if err := imapsync.Retry(ctx, a.store, id); err != nil {
		return a.changeError("retry", id, err)
	}
	a.localChanged()
	return nil
}

// DropChange gives up pending change id: it is never sent, and what it
// did locally is undone where possible (see imapsync.Drop). An unknown id
// wraps ErrNotFound.
func (a *Account) DropChange(ctx context.Context, id int64) error {
	if err := imapsync.Drop(ctx, a.store, id); err != nil {
		return a.changeError("drop", id, err)
	}
	return nil
}

// changeError names the account and the change of a failed RetryChange
// or DropChange once: the layers below name the id too, so an unknown
// one would read "drop change 9: drop change 9: not found".
func (a *Account) changeError(op string, id int64, err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s: change %d: %w", a.Config.Name, id, ErrNotFound)
	}
	return fmt.Errorf("%s: %s change %d: %w", a.Config.Name, op, id, err)
}
