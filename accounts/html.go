package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// ErrNoHTML is wrapped by the error of HTML for a message without an
// HTML part.
var ErrNoHTML = errors.New("the message has no HTML part")

// HTML returns the HTML part of message id, decoded to UTF-8, for an
// interface to open in a browser. A message with none gives ErrNoHTML.
func (a *Account) HTML(ctx context.Context, id int64) (string, error) {
	f, err := a.store.OpenRaw(ctx, id)
	if err != nil {
		return "", fmt.Errorf("%s: html of %d: %w", a.Config.Name, id, err)
	}
	defer f.Close()
	html, err := compose.HTMLPart(f)
	if err != nil {
		return "", fmt.Errorf("%s: html of %d: %w", a.Config.Name, id, err)
	}
	if html == "" {
		return "", fmt.Errorf("%s: message %d: %w", a.Config.Name, id, ErrNoHTML)
	}
	return html, nil
}
