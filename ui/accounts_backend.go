package ui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/store"
)

// AccountBackend is the Backend of one *accounts.Account. Reads go to the
// account's local store (keyset paging, search, counts); changes go
// through the account's methods, which journal them for the server.
type AccountBackend struct {
	A *accounts.Account
}

var _ Backend = (*AccountBackend)(nil)

// NewAccountBackend returns the Backend of a.
func NewAccountBackend(a *accounts.Account) *AccountBackend { return &AccountBackend{A: a} }

func (b *AccountBackend) Name() string    { return b.A.Config.Name }
func (b *AccountBackend) Address() string { return b.A.Config.Email }

func (b *AccountBackend) Mailboxes(ctx context.Context) ([]store.Mailbox, error) {
	boxes, err := b.A.Store.Mailboxes(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return boxes, nil
}

// hasIn reports whether a query names its own mailbox (in:).
func hasIn(q string) bool {
	for _, f := range strings.Fields(q) {
		if strings.HasPrefix(strings.TrimLeft(f, "-("), "in:") {
			return true
		}
	}
	return false
}

// quoteTerm quotes a value for the store query language.
func quoteTerm(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (b *AccountBackend) Page(ctx context.Context, req PageRequest) ([]store.Message, error) {
	st := b.A.Store
	if req.Query != "" {
		mb := req.Folder
		if hasIn(req.Query) {
			mb = ""
		}
		return st.Search(ctx, req.Query, store.SearchOptions{Mailbox: mb, Offset: req.Offset, Limit: req.Limit})
	}
	sort := store.SortDate
	if req.Threaded {
		sort = store.SortThread
		req.After = store.MessageKey{}
	}
	return st.List(ctx, store.ListOptions{Mailbox: req.Folder, Sort: sort, Offset: req.Offset, Limit: req.Limit, After: req.After})
}

func (b *AccountBackend) Count(ctx context.Context, req PageRequest) (int, error) {
	if req.Query != "" {
		q := req.Query
		if req.Folder != "" && !hasIn(q) {
			q = "(" + q + ") in:" + quoteTerm(req.Folder)
		}
		return b.A.Store.Count(ctx, q, store.SearchOptions{})
	}
	mb, err := b.A.Store.Mailbox(ctx, req.Folder)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return mb.Total, nil
}

func (b *AccountBackend) Render(ctx context.Context, id int64) (*store.Rendered, error) {
	return b.A.Render(ctx, id)
}

func (b *AccountBackend) SaveAttachment(ctx context.Context, id int64, part string, w io.Writer) (int64, error) {
	return b.A.Store.SaveAttachment(ctx, id, part, w)
}

func (b *AccountBackend) SetFlags(ctx context.Context, ids []int64, add, remove []string) error {
	return b.A.SetFlags(ctx, ids, add, remove)
}

func (b *AccountBackend) Move(ctx context.Context, ids []int64, folder string) error {
	return b.A.Move(ctx, ids, folder)
}

func (b *AccountBackend) Delete(ctx context.Context, ids []int64) error { return b.A.Delete(ctx, ids) }

func (b *AccountBackend) Archive(ctx context.Context, ids []int64) error {
	return b.A.Archive(ctx, ids)
}

func (b *AccountBackend) Trash(ctx context.Context) (string, error) {
	return b.A.Folder(ctx, accounts.RoleTrash)
}

func (b *AccountBackend) Compose() *compose.Draft { return b.A.Compose() }

func (b *AccountBackend) Reply(ctx context.Context, id int64, all bool) (*compose.Draft, error) {
	return b.A.Reply(ctx, id, all)
}

func (b *AccountBackend) Forward(ctx context.Context, id int64) (*compose.Draft, error) {
	return b.A.Forward(ctx, id)
}

func (b *AccountBackend) Queue(ctx context.Context, d *compose.Draft) error {
	_, err := b.A.Queue(ctx, d)
	return err
}

// SaveDraft stores d in the account's Drafts folder (journaled for the
// server on IMAP accounts).
func (b *AccountBackend) SaveDraft(ctx context.Context, d *compose.Draft) error {
	return b.A.SaveDraft(ctx, d)
}

func (b *AccountBackend) MarkAnswered(ctx context.Context, id int64) error {
	return b.A.MarkAnswered(ctx, id)
}

func (b *AccountBackend) Sync(ctx context.Context, report func(accounts.SyncEvent)) (SyncSummary, error) {
	res, err := b.A.Sync(ctx, accounts.SyncOptions{Report: report})
	sum := SyncSummary{Sent: res.Sent, OutboxErr: res.OutboxErr}
	if res.IMAP != nil {
		sum.New = res.IMAP.New
	}
	if res.POP3 != nil {
		sum.New = res.POP3.Downloaded
	}
	return sum, err
}

func (b *AccountBackend) Flush(ctx context.Context, report func(accounts.SyncEvent)) (int, error) {
	res, err := b.A.FlushOutbox(ctx, false, report)
	return len(res.Sent), err
}

// Addresses finds senders and recipients whose name or address starts
// with prefix, newest first, through the full-text index.
func (b *AccountBackend) Addresses(ctx context.Context, prefix string, limit int) ([]store.Address, error) {
	word := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, prefix)
	if word == "" {
		return nil, nil
	}
	msgs, err := b.A.Store.Search(ctx, "from:"+word+"* OR to:"+word+"* OR cc:"+word+"*", store.SearchOptions{Limit: 200})
	if err != nil {
		return nil, err
	}
	return matchAddresses(msgs, prefix, limit), nil
}

// matchAddresses picks from msgs the distinct addresses whose address or
// a word of whose name starts with prefix (case-insensitive).
func matchAddresses(msgs []store.Message, prefix string, limit int) []store.Address {
	p := strings.ToLower(strings.TrimSpace(prefix))
	seen := map[string]bool{}
	var out []store.Address
	for _, m := range msgs {
		for _, list := range [][]store.Address{m.From, m.To, m.Cc} {
			for _, a := range list {
				key := strings.ToLower(a.Addr)
				if seen[key] || a.Addr == "" {
					continue
				}
				ok := strings.HasPrefix(key, p)
				for _, w := range strings.Fields(strings.ToLower(a.Name)) {
					ok = ok || strings.HasPrefix(w, p)
				}
				if ok {
					seen[key] = true
					out = append(out, a)
					if len(out) >= limit {
						return out
					}
				}
			}
		}
	}
	return out
}

// Subscribe wraps the store's change feed.
func (b *AccountBackend) Subscribe() Feed { return storeFeed{b.A.Store.Subscribe()} }

func (b *AccountBackend) Temporary(err error) bool { return accounts.Temporary(err) }

type storeFeed struct{ s *store.Subscription }

func (f storeFeed) C() <-chan struct{}   { return f.s.C }
func (f storeFeed) Pull() []store.Change { return f.s.Pull() }
func (f storeFeed) Close()               { f.s.Close() }
