package accounts

import (
	"context"
	"fmt"

	"github.com/letterbox-mail/letterbox/store"
)

// Position returns the row (0 first) that message id has in the folder
// listing req selects (req.Folder, by date or by thread; paging fields
// and Query ignored), so that an interface reopening the folder in
// another order, or leaving a search, keeps the message selected. The
// error wraps ErrNotFound when the message is not in that folder.
func (a *Account) Position(ctx context.Context, req PageRequest, id int64) (int, error) {
	sort := store.SortDate
	if req.Threaded {
		sort = store.SortThread
	}
	n, err := a.store.Position(ctx, store.ListOptions{Mailbox: req.Folder, Sort: sort}, id)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", a.Config.Name, err)
	}
	return n, nil
}
