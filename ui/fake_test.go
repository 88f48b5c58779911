package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// fakeBackend is an in-memory Backend for the model tests: folders of
// messages, pages by offset or keyset like the store, and a record of
// the calls that change something.
type fakeBackend struct {
	name string
	mu   sync.Mutex
	msgs map[string][]accounts.Message // by folder, newest first
	// calls records changes: "flags 3 +\Seen", "delete 3", "move 3 Archive", "queue ...".
	calls   []string
	queued  []*compose.Draft
	drafts  []*compose.Draft
	syncErr error
	syncEv  []accounts.SyncEvent
	// syncGate, if set, holds Sync until it is closed.
	syncGate chan struct{}
	// watch, if set, is what Watch runs; nil: errNoWatch (as POP3).
	watch func(ctx context.Context, report func(accounts.SyncEvent)) error
	// failed are the changes the server refused, as FailedChanges lists.
	failed []FailedChange
	feed   *fakeFeed
	pages  int // Page calls
	// plainTrash lists Trash without its special use (as a POP3
	// account's local Trash may be).
	plainTrash bool
	// html is the HTML part of these messages.
	html map[int64]string
	// rendered replaces the made-up text of these messages.
	rendered map[int64]*accounts.Rendered
}

var _ Backend = (*fakeBackend)(nil)

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// newFake makes an account with n messages in INBOX (id 1 newest) and a
// few in the other folders.
func newFake(name string, n int) *fakeBackend {
	f := &fakeBackend{name: name, msgs: map[string][]accounts.Message{}, feed: newFakeFeed()}
	for _, mb := range []string{"INBOX", "Archive", "Drafts", "Sent", "Trash", "Outbox"} {
		f.msgs[mb] = nil
	}
	senders := []accounts.Address{{Name: "Ann Archer", Addr: "ann@example.test"}, {Name: "Bob Baker", Addr: "bob@example.test"},
		{Addr: "carol@example.test"}, {Name: "Dmitri Volkov", Addr: "dmitri@example.test"}}
	for i := 1; i <= n; i++ {
		m := accounts.Message{ID: int64(i), Mailbox: "INBOX", UID: uint32(n - i + 1),
			Date:    testNow.Add(-time.Duration(i) * 7 * time.Hour),
			From:    []accounts.Address{senders[i%len(senders)]},
			To:      []accounts.Address{{Name: "Me", Addr: name + "@example.test"}},
			Subject: fmt.Sprintf("Message number %d", i), MessageID: fmt.Sprintf("m%d@example.test", i),
			HasAttachment: i%5 == 0}
		if i%3 != 0 {
			m.Flags = []string{accounts.FlagSeen}
		}
		if i%7 == 0 {
			m.Flags = append(m.Flags, accounts.FlagFlagged)
		}
		f.msgs["INBOX"] = append(f.msgs["INBOX"], m)
	}
	return f
}

func (f *fakeBackend) Name() string    { return f.name }
func (f *fakeBackend) Address() string { return f.name + "@example.test" }

func (f *fakeBackend) Mailboxes(ctx context.Context) ([]accounts.Mailbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	uses := map[string]string{"Archive": accounts.SpecialArchive, "Drafts": accounts.SpecialDrafts, "Sent": accounts.SpecialSent, "Trash": accounts.SpecialTrash}
	if f.plainTrash {
		delete(uses, "Trash")
	}
	var out []accounts.Mailbox
	for name, list := range f.msgs {
		mb := accounts.Mailbox{Name: name, SpecialUse: uses[name], Total: len(list)}
		for _, m := range list {
			if !m.HasFlag(accounts.FlagSeen) {
				mb.Unread++
			}
		}
		out = append(out, mb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeBackend) source(req PageRequest) []accounts.Message {
	list := f.msgs[req.Folder]
	if req.Query == "" && req.Threaded && len(req.Collapsed) > 0 {
		// Collapsed threads: their first row, with the thread's size.
		var out []accounts.Message
		first := map[int64]int{}
		for _, m := range list {
			if !slices.Contains(req.Collapsed, m.ThreadID) {
				out = append(out, m)
				continue
			}
			unread := 0
			if !m.HasFlag(accounts.FlagSeen) {
				unread = 1
			}
			if i, ok := first[m.ThreadID]; ok {
				out[i].ThreadSize++
				out[i].ThreadUnread += unread
				continue
			}
			m.ThreadSize, m.ThreadUnread = 1, unread
			first[m.ThreadID] = len(out)
			out = append(out, m)
		}
		return out
	}
	if req.Query == "" {
		return list
	}
	var out []accounts.Message
	for _, m := range list {
		if strings.Contains(strings.ToLower(m.Subject+" "+accounts.FormatAddresses(m.From)), strings.ToLower(req.Query)) {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeBackend) Page(ctx context.Context, req PageRequest) ([]accounts.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages++
	if strings.Contains(req.Query, "(") {
		return nil, errors.New("query: unbalanced parenthesis at position 1")
	}
	list := f.source(req)
	start := 0
	if req.After.ID != 0 {
		start = len(list)
		for i, m := range list {
			if m.ID == req.After.ID {
				start = i + 1
				break
			}
		}
	}
	start += req.Offset
	if start >= len(list) {
		return nil, nil
	}
	end := min(len(list), start+req.Limit)
	return slices.Clone(list[start:end]), nil
}

func (f *fakeBackend) Count(ctx context.Context, req PageRequest) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.Contains(req.Query, "(") {
		return 0, errors.New("query: unbalanced parenthesis at position 1")
	}
	if !req.Threaded {
		req.Collapsed = nil
	}
	return len(f.source(req)), nil
}

func (f *fakeBackend) Message(ctx context.Context, id int64) (accounts.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mb, i := f.find(id)
	if i < 0 {
		return accounts.Message{}, fmt.Errorf("message %d: %w", id, accounts.ErrNotFound)
	}
	return f.msgs[mb][i], nil
}

func (f *fakeBackend) Position(ctx context.Context, req PageRequest, id int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req.Query = ""
	thread := int64(-1)
	if mb, i := f.find(id); i >= 0 && slices.Contains(req.Collapsed, f.msgs[mb][i].ThreadID) {
		thread = f.msgs[mb][i].ThreadID
	}
	for i, m := range f.source(req) {
		if m.ID == id || m.ThreadID == thread {
			return i, nil
		}
	}
	return 0, fmt.Errorf("position of %d: %w", id, accounts.ErrNotFound)
}

func (f *fakeBackend) find(id int64) (string, int) {
	for mb, list := range f.msgs {
		for i, m := range list {
			if m.ID == id {
				return mb, i
			}
		}
	}
	return "", -1
}

func (f *fakeBackend) Render(ctx context.Context, id int64) (*accounts.Rendered, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mb, i := f.find(id)
	if i < 0 {
		return nil, fmt.Errorf("message %d: %w", id, accounts.ErrNotFound)
	}
	m := f.msgs[mb][i]
	if r, ok := f.rendered[id]; ok {
		return r, nil
	}
	r := &accounts.Rendered{
		Headers: []accounts.HeaderField{{Key: "Date", Value: m.Date.Format(time.RFC1123Z)}, {Key: "From", Value: accounts.FormatAddresses(m.From)},
			{Key: "To", Value: accounts.FormatAddresses(m.To)}, {Key: "Subject", Value: m.Subject}},
		Text: "Hello,\n\nthis is the body of " + m.Subject + ", with a line long enough that it has to be wrapped when the terminal is narrow.\n\n" +
			"On Monday, Ann wrote:\n> the quoted text\n> of the previous message\n\n-- \nsignature\n",
	}
	if m.HasAttachment {
		r.Attachments = []accounts.Attachment{{Part: "2", Filename: "report.pdf", ContentType: "application/pdf", Size: 123456}}
	}
	return r, nil
}

func (f *fakeBackend) HTML(ctx context.Context, id int64) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h, ok := f.html[id]; ok {
		return h, nil
	}
	return "", fmt.Errorf("message %d: %w", id, accounts.ErrNoHTML)
}

func (f *fakeBackend) SaveAttachment(ctx context.Context, id int64, part string, w io.Writer) (int64, error) {
	n, err := io.WriteString(w, "%PDF-1.4 fake")
	return int64(n), err
}

func (f *fakeBackend) record(s string) {
	f.calls = append(f.calls, s)
}

// Calls returns the recorded changes.
func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func idList(ids []int64) string {
	s := make([]string, len(ids))
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for i, id := range sorted {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ",")
}

func (f *fakeBackend) SetFlags(ctx context.Context, ids []int64, add, remove []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(fmt.Sprintf("flags %s +%s -%s", idList(ids), strings.Join(add, ","), strings.Join(remove, ",")))
	for _, id := range ids {
		if mb, i := f.find(id); i >= 0 {
			m := &f.msgs[mb][i]
			m.Flags = slices.DeleteFunc(slices.Clone(m.Flags), func(x string) bool { return slices.Contains(remove, x) || slices.Contains(add, x) })
			m.Flags = append(m.Flags, add...)
		}
	}
	return nil
}

func (f *fakeBackend) moveLocked(ids []int64, to string) {
	for _, id := range ids {
		if mb, i := f.find(id); i >= 0 {
			m := f.msgs[mb][i]
			f.msgs[mb] = slices.Delete(f.msgs[mb], i, i+1)
			m.Mailbox = to
			f.msgs[to] = append([]accounts.Message{m}, f.msgs[to]...)
		}
	}
}

func (f *fakeBackend) Move(ctx context.Context, ids []int64, folder string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(fmt.Sprintf("move %s %s", idList(ids), folder))
	f.moveLocked(ids, folder)
	return nil
}

func (f *fakeBackend) Delete(ctx context.Context, ids []int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("delete " + idList(ids))
	for _, id := range ids {
		if mb, i := f.find(id); mb == "Trash" {
			f.msgs[mb] = slices.Delete(f.msgs[mb], i, i+1)
		} else if i >= 0 {
			f.moveLocked([]int64{id}, "Trash")
		}
	}
	return nil
}

func (f *fakeBackend) Archive(ctx context.Context, ids []int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("archive " + idList(ids))
	f.moveLocked(ids, "Archive")
	return nil
}

func (f *fakeBackend) Trash(ctx context.Context) (string, error) { return "Trash", nil }

func (f *fakeBackend) DeletedForGood(ctx context.Context, ids []int64) ([]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int64
	for _, id := range ids {
		if mb, _ := f.find(id); mb == "Trash" {
			out = append(out, id)
		}
	}
	return out, nil
}

func (f *fakeBackend) Snapshot(ctx context.Context, ids []int64, scope []string) (accounts.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := accounts.Snapshot{Flags: scope}
	for _, id := range ids {
		mb, i := f.find(id)
		if i < 0 {
			return s, accounts.ErrNotFound
		}
		s.Places = append(s.Places, accounts.Place{ID: id, Mailbox: mb, Flags: slices.Clone(f.msgs[mb][i].Flags)})
	}
	return s, nil
}

func (f *fakeBackend) Restore(ctx context.Context, s accounts.Snapshot) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int64
	for _, p := range s.Places {
		ids = append(ids, p.ID)
	}
	f.record("restore " + idList(ids))
	n := 0
	for _, p := range s.Places {
		mb, i := f.find(p.ID)
		if i < 0 {
			continue
		}
		n++
		if mb != p.Mailbox {
			f.moveLocked([]int64{p.ID}, p.Mailbox)
			mb, i = f.find(p.ID)
		}
		m := &f.msgs[mb][i]
		for _, fl := range s.Flags {
			m.Flags = slices.DeleteFunc(slices.Clone(m.Flags), func(x string) bool { return x == fl })
			if slices.Contains(p.Flags, fl) {
				m.Flags = append(m.Flags, fl)
			}
		}
	}
	return n, nil
}

func (f *fakeBackend) Compose() *compose.Draft {
	return &compose.Draft{From: compose.Address{Name: "Me", Addr: f.Address()}, Body: "\n\n-- \nme\n"}
}

func (f *fakeBackend) Reply(ctx context.Context, id int64, all bool) (*compose.Draft, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mb, i := f.find(id)
	if i < 0 {
		return nil, accounts.ErrNotFound
	}
	m := f.msgs[mb][i]
	d := &compose.Draft{From: compose.Address{Name: "Me", Addr: f.Address()}, Subject: "Re: " + m.Subject,
		To: []compose.Address{{Name: m.From[0].Name, Addr: m.From[0].Addr}}, InReplyTo: m.MessageID,
		Body: "On Monday, someone wrote:\n> quoted\n"}
	if all {
		d.Cc = []compose.Address{{Addr: "list@example.test"}}
	}
	return d, nil
}

func (f *fakeBackend) Forward(ctx context.Context, id int64) (*compose.Draft, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mb, i := f.find(id)
	if i < 0 {
		return nil, accounts.ErrNotFound
	}
	return &compose.Draft{From: compose.Address{Addr: f.Address()}, Subject: "Fwd: " + f.msgs[mb][i].Subject,
		Body: "---------- Forwarded message ----------\n"}, nil
}

func (f *fakeBackend) Queue(ctx context.Context, d *compose.Draft) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("queue " + d.Subject)
	f.queued = append(f.queued, d)
	return nil
}

func (f *fakeBackend) SaveDraft(ctx context.Context, d *compose.Draft) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("draft " + d.Subject)
	f.drafts = append(f.drafts, d)
	return nil
}

func (f *fakeBackend) OpenDraft(ctx context.Context, id int64) (*compose.Draft, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mb, i := f.find(id)
	if i < 0 {
		return nil, accounts.ErrNotFound
	}
	m := f.msgs[mb][i]
	d := &compose.Draft{From: compose.Address{Addr: f.Address()}, Subject: m.Subject, Body: "draft text of " + m.Subject + "\n"}
	for _, a := range m.To {
		d.To = append(d.To, compose.Address{Name: a.Name, Addr: a.Addr})
	}
	return d, nil
}

func (f *fakeBackend) ReplaceDraft(ctx context.Context, old int64, d *compose.Draft) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(fmt.Sprintf("replace draft %d %s", old, d.Subject))
	f.drafts = append(f.drafts, d)
	return old + 1000, nil
}

func (f *fakeBackend) DeleteDraft(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(fmt.Sprintf("delete draft %d", id))
	return nil
}

func (f *fakeBackend) CreateFolder(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("create " + name)
	if _, ok := f.msgs[name]; ok {
		return accounts.ErrExists
	}
	f.msgs[name] = nil
	return nil
}

func (f *fakeBackend) FailedChanges(ctx context.Context) ([]FailedChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.failed), nil
}

func (f *fakeBackend) RetryChange(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(fmt.Sprintf("retry %d", id))
	f.failed = slices.DeleteFunc(f.failed, func(c FailedChange) bool { return c.ID == id })
	return nil
}

func (f *fakeBackend) DropChange(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(fmt.Sprintf("drop %d", id))
	f.failed = slices.DeleteFunc(f.failed, func(c FailedChange) bool { return c.ID == id })
	return nil
}

func (f *fakeBackend) MarkAnswered(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(fmt.Sprintf("answered %d", id))
	return nil
}

func (f *fakeBackend) Sync(ctx context.Context, report func(accounts.SyncEvent)) (SyncSummary, error) {
	f.mu.Lock()
	evs, err, gate := f.syncEv, f.syncErr, f.syncGate
	f.record("sync")
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return SyncSummary{}, ctx.Err()
		}
	}
	for _, ev := range evs {
		report(ev)
	}
	return SyncSummary{New: 2}, err
}

func (f *fakeBackend) Watch(ctx context.Context, interval time.Duration, report func(accounts.SyncEvent)) error {
	f.mu.Lock()
	watch := f.watch
	if watch != nil {
		f.record("watch")
	}
	f.mu.Unlock()
	if watch == nil {
		return errNoWatch
	}
	return watch(ctx, report)
}

func (f *fakeBackend) Flush(ctx context.Context, report func(accounts.SyncEvent)) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("flush")
	return len(f.queued), nil
}

func (f *fakeBackend) Addresses(ctx context.Context, prefix string, limit int) ([]accounts.Address, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakeAddresses(f.msgs["INBOX"], prefix, limit), nil
}

func (f *fakeBackend) Subscribe() Feed { return f.feed }

func (f *fakeBackend) Temporary(err error) bool { return errors.Is(err, errOffline) }

var errOffline = errors.New("dial tcp: connection refused")

// fakeFeed is a Feed the test publishes to.
type fakeFeed struct {
	c       chan struct{}
	mu      sync.Mutex
	pending []accounts.Change
}

func newFakeFeed() *fakeFeed { return &fakeFeed{c: make(chan struct{}, 1)} }

func (f *fakeFeed) C() <-chan struct{} { return f.c }
func (f *fakeFeed) Pull() []accounts.Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.pending
	f.pending = nil
	return out
}
func (f *fakeFeed) Close() {}
func (f *fakeFeed) publish(ch ...accounts.Change) {
	f.mu.Lock()
	f.pending = append(f.pending, ch...)
	f.mu.Unlock()
	select {
	case f.c <- struct{}{}:
	default:
	}
}

// fakeAddresses returns the distinct senders of msgs whose address or
// name starts with prefix.
func fakeAddresses(msgs []accounts.Message, prefix string, limit int) []accounts.Address {
	p := strings.ToLower(prefix)
	seen := map[string]bool{}
	var out []accounts.Address
	for _, m := range msgs {
		for _, a := range append(append([]accounts.Address{}, m.From...), m.To...) {
			if seen[a.Addr] || len(out) >= limit ||
				!strings.HasPrefix(strings.ToLower(a.Addr), p) && !strings.HasPrefix(strings.ToLower(a.Name), p) {
				continue
			}
			seen[a.Addr] = true
			out = append(out, a)
		}
	}
	return out
}
