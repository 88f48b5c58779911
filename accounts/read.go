package accounts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/letterbox-mail/letterbox/store"
)

// Reading: every method here reads the local store only, so it answers
// at once, online or offline.

// PageRequest selects a page of messages: of Folder, or of the matches of
// Query (the store query language, see the README) in Folder. A query
// that names mailboxes itself (an in: term anywhere in it, read from its
// syntax tree, not from its text) searches those instead of Folder; an
// empty Folder with a query searches every folder.
//
// Without a query the page is newest first, continuing after After when
// it is set (keyset paging: the Key of the last row of the page before)
// and then skipping Offset rows; Threaded lists by thread instead
// (newest thread first, each a tree; keyset paging too), showing only
// the first message of the Collapsed threads (Message.ThreadID), with
// Message.ThreadSize set. A search is newest first with offset paging
// (After, Threaded and Collapsed are ignored). Limit is the page size;
// 50 when zero.
type PageRequest struct {
	Folder    string
	Query     string
	Threaded  bool
	Collapsed []int64
	After     MessageKey
	Offset    int
	Limit     int
}

// searchError wraps a search error with the account name, except a
// malformed query, whose error (with its position) is the user's own
// text and is returned as it is.
func (a *Account) searchError(err error) error {
	var qe *QueryError
	if errors.As(err, &qe) {
		return qe
	}
	return fmt.Errorf("%s: %w", a.Config.Name, err)
}

// Page returns one page of a folder or of a search (see PageRequest).
func (a *Account) Page(ctx context.Context, req PageRequest) ([]Message, error) {
	if req.Query == "" {
		msgs, err := a.store.List(ctx, listOptions(req))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Config.Name, err)
		}
		return msgs, nil
	}
	// The store scopes the search to the folder unless the query's
	// syntax tree names its own (query.Scope): Count follows the same rule.
	msgs, err := a.store.Search(ctx, req.Query, store.SearchOptions{Mailbox: req.Folder, Offset: req.Offset, Limit: req.Limit})
	if err != nil {
		return nil, a.searchError(err)
	}
	return msgs, nil
}

// Count returns how many messages Page can return for req: the same
// folder and query, paging fields ignored.
func (a *Account) Count(ctx context.Context, req PageRequest) (int, error) {
	if req.Query == "" {
		n, err := a.store.ListCount(ctx, listOptions(req))
		if err != nil {
			return 0, fmt.Errorf("%s: %w", a.Config.Name, err)
		}
		return n, nil
	}
	n, err := a.store.Count(ctx, req.Query, store.SearchOptions{Mailbox: req.Folder})
	if err != nil {
		return 0, a.searchError(err)
	}
	return n, nil
}

// listOptions is the store listing of a request without a query.
func listOptions(req PageRequest) store.ListOptions {
	o := store.ListOptions{Mailbox: req.Folder, Sort: store.SortDate, Offset: req.Offset, Limit: req.Limit, After: req.After}
	if req.Threaded {
		o.Sort, o.Collapsed = store.SortThread, req.Collapsed
	}
	return o
}

// Mailboxes lists the account's folders with their counts, INBOX first.
func (a *Account) Mailboxes(ctx context.Context) ([]Mailbox, error) {
	mbs, err := a.store.Mailboxes(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Config.Name, err)
	}
	return mbs, nil
}

// Mailbox returns one folder with its counts; the error wraps ErrNotFound
// when there is no such folder.
func (a *Account) Mailbox(ctx context.Context, name string) (*Mailbox, error) {
	mb, err := a.store.Mailbox(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Config.Name, err)
	}
	return mb, nil
}

// SaveAttachment writes the decoded MIME part of message id (part as in
// Attachment.Part) to w and returns the bytes written.
func (a *Account) SaveAttachment(ctx context.Context, id int64, part string, w io.Writer) (int64, error) {
	n, err := a.store.SaveAttachment(ctx, id, part, w)
	if err != nil {
		return n, fmt.Errorf("%s: save attachment: %w", a.Config.Name, err)
	}
	return n, nil
}

// Subscribe starts a feed of the account's committed changes (new mail,
// flags, moves, folders), from this process and from sync. The caller
// closes it; closing the account closes it too.
func (a *Account) Subscribe() *Subscription { return a.store.Subscribe() }

// PendingChanges lists the local changes waiting in the journal to be
// replayed on the server (IMAP accounts), oldest first; those the server
// refused for good are among them, with Failed set (see FailedChanges).
func (a *Account) PendingChanges(ctx context.Context) ([]PendingChange, error) {
	j, err := a.store.Journal(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Config.Name, err)
	}
	return j, nil
}

// Addresses finds senders and recipients whose address, or a word of
// whose name, starts with prefix (case-insensitive), newest first, at
// most limit, through the full-text index: for completion in a composer.
func (a *Account) Addresses(ctx context.Context, prefix string, limit int) ([]Address, error) {
	word := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, prefix)
	if word == "" || limit <= 0 {
		return nil, nil
	}
	msgs, err := a.store.Search(ctx, "from:"+word+"* OR to:"+word+"* OR cc:"+word+"*", store.SearchOptions{Limit: 200})
	if err != nil {
		return nil, fmt.Errorf("%s: addresses: %w", a.Config.Name, err)
	}
	return matchAddresses(msgs, prefix, limit), nil
}

// matchAddresses picks from msgs the distinct addresses whose address or
// a word of whose name starts with prefix (case-insensitive).
func matchAddresses(msgs []Message, prefix string, limit int) []Address {
	p := strings.ToLower(strings.TrimSpace(prefix))
	seen := map[string]bool{}
	var out []Address
	for _, m := range msgs {
		for _, list := range [][]Address{m.From, m.To, m.Cc} {
			for _, ad := range list {
				key := strings.ToLower(ad.Addr)
				if seen[key] || ad.Addr == "" {
					continue
				}
				ok := strings.HasPrefix(key, p)
				for _, w := range strings.Fields(strings.ToLower(ad.Name)) {
					ok = ok || strings.HasPrefix(w, p)
				}
				if ok {
					seen[key] = true
					out = append(out, ad)
					if len(out) >= limit {
						return out
					}
				}
			}
		}
	}
	return out
}
