package compose

import (
	"fmt"
	"io"

	"github.com/emersion/go-message"
)

// HTMLPart returns the first text/html part of the raw RFC 5322 message
// read from r that is not an attachment, decoded to UTF-8 (at most 4
// MiB), or "" when there is none: what an interface opens in a browser.
func HTMLPart(r io.Reader) (string, error) {
	e, err := message.Read(r)
	if e == nil {
		return "", fmt.Errorf("read message: %w", err)
	}
	w := partWalker{o: &original{}}
	w.walk(e, err)
	return w.html, nil
}
