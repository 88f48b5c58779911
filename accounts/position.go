package accounts

import (
	"context"
	"fmt"
)

// Position returns the row (0 first) that message id has in the folder
// listing req selects (req.Folder, by date or by thread with its
// collapsed threads, where a hidden message is at its thread's row;
// paging fields and Query ignored), so that an interface reopening the folder in
// another order, or leaving a search, keeps the message selected. The
// error wraps ErrNotFound when the message is not in that folder.
func (a *Account) Position(ctx context.Context, req PageRequest, id int64) (int, error) {
	n, err := a.store.Position(ctx, listOptions(req), id)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", a.Config.Name, err)
	}
	return n, nil
}
