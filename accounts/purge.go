package accounts

import (
	"context"
	"fmt"

	"github.com/letterbox-mail/letterbox/store"
)

// DeletedForGood returns the ids among ids that Delete would remove for
// good instead of moving to the Trash folder: those in Trash already
// (an account without a Trash folder gets one at the Delete, so none of
// its messages is). Callers ask the user before such a Delete. An
// unknown id wraps store.ErrNotFound.
func (a *Account) DeletedForGood(ctx context.Context, ids []int64) ([]int64, error) {
	trash, err := a.roleFolder(ctx, RoleTrash, false)
	if err != nil {
		return nil, fmt.Errorf("%s: delete: %w", a.Config.Name, err)
	}
	canonTrash, _ := store.CanonicalName(trash)
	var out []int64
	for _, id := range ids {
		m, err := a.Message(ctx, id)
		if err != nil {
			return nil, err
		}
		if mb, _ := store.CanonicalName(m.Mailbox); mb == canonTrash {
			out = append(out, id)
		}
	}
	return out, nil
}
