package pop3d

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/letterbox-mail/letterbox/store"
)

// errGone means a message of the maildrop was removed from the store, by
// another protocol, after the session logged in.
var errGone = errors.New("message no longer in the mailbox")

// maildrop is the INBOX snapshot of one session (RFC 1939 section 4):
// message n of the session is msgs[n-1] until the session ends.
type maildrop struct {
	st          Store
	user        string
	uidValidity uint32
	msgs        []dropMsg
	sizes       *sizeCache
}

// dropMsg is one message of the maildrop.
type dropMsg struct {
	uid uint32
	// file is the path of the message file relative to the store root,
	// as last seen; flag changes rename it.
	file string
	// key is the Maildir unique name of the file; it identifies the
	// message's content for good.
	key string
	// storeSize is the stored file's size, the fallback when the file
	// went away before its wire size was counted.
	storeSize int64
	// size is the size as sent, or -1 until counted.
	size      int64
	deleted   bool
	retrieved bool
}

// openMaildrop takes the snapshot of user's INBOX.
func openMaildrop(ctx context.Context, be Backend, sizes *sizeCache, user string) (*maildrop, error) {
	st, err := be.Store(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("maildrop of %s: %w", user, err)
	}
	mb, err := st.Mailbox(ctx, store.Inbox)
	if err != nil {
		return nil, fmt.Errorf("maildrop of %s: %w", user, err)
	}
	list, err := st.Fetch(ctx, store.Inbox, nil)
	if err != nil {
		return nil, fmt.Errorf("maildrop of %s: %w", user, err)
	}
	d := &maildrop{st: st, user: user, uidValidity: mb.UIDValidity, sizes: sizes, msgs: make([]dropMsg, len(list))}
	for i, m := range list {
		d.msgs[i] = dropMsg{uid: m.UID, file: m.File, key: maildirKey(m.File), storeSize: m.Size, size: -1}
		if n, ok := sizes.get(user, d.msgs[i].key); ok {
			d.msgs[i].size = n
		}
	}
	return d, nil
}

// maildirKey is the unique part of a Maildir file name, before ":2,".
func maildirKey(file string) string {
	name := filepath.Base(file)
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[:i]
	}
	return name
}

// msg returns message n (1-based) if it exists and is not marked deleted,
// or the -ERR text.
func (d *maildrop) msg(n int) (*dropMsg, string) {
	if n < 1 || n > len(d.msgs) {
		return nil, "No such message"
	}
	m := &d.msgs[n-1]
	if m.deleted {
		return nil, fmt.Sprintf("Message %d already deleted", n)
	}
	return m, ""
}

// uidl is the unique-id of a message (RFC 1939 section 7): UIDVALIDITY and
// UID, never reused by the store.
func (d *maildrop) uidl(m *dropMsg) string {
	return fmt.Sprintf("%08x%08x", d.uidValidity, m.uid)
}

// open opens the message file, making sure it is still the message of the
// snapshot; errGone when it is not in INBOX any more. The file name known
// from the snapshot is tried first: Maildir names are unique and files
// never change, so if it opens, it is the message. When it is missing (a
// flag change renamed it, or the message was removed) the store is asked.
func (d *maildrop) open(ctx context.Context, m *dropMsg) (*os.File, error) {
	f, err := os.Open(filepath.Join(d.st.Root(), m.file))
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open INBOX/%d: %w", m.uid, err)
	}
	cur, err := d.st.GetByUID(ctx, store.Inbox, m.uid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGone
	}
	if err != nil {
		return nil, fmt.Errorf("open INBOX/%d: %w", m.uid, err)
	}
	if maildirKey(cur.File) != m.key {
		return nil, errGone // INBOX was recreated under a new UIDVALIDITY
	}
	f, err = d.st.OpenRaw(ctx, cur.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGone
	}
	if err != nil {
		return nil, fmt.Errorf("open INBOX/%d: %w", m.uid, err)
	}
	// The id could have been given to another message between the two
	// lookups; the file name tells.
	if maildirKey(f.Name()) != m.key {
		f.Close()
		return nil, errGone
	}
	m.file = cur.File
	return f, nil
}

// size returns the size of m as sent, counting it from f (then rewound)
// or from a freshly opened file when f is nil.
func (d *maildrop) size(ctx context.Context, m *dropMsg, f *os.File) (int64, error) {
	if m.size >= 0 {
		return m.size, nil
	}
	if f == nil {
		var err error
		if f, err = d.open(ctx, m); err != nil {
			return 0, err
		}
		defer f.Close()
	}
	n, err := wireSize(f)
	if err != nil {
		return 0, fmt.Errorf("size of INBOX/%d: %w", m.uid, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("size of INBOX/%d: %w", m.uid, err)
	}
	m.size = n
	d.sizes.put(d.user, m.key, n)
	return n, nil
}

// sizeOrFallback is size for listings: a message that went away meanwhile
// is listed with its stored size rather than failing the whole listing.
func (d *maildrop) sizeOrFallback(ctx context.Context, m *dropMsg) (int64, error) {
	n, err := d.size(ctx, m, nil)
	if errors.Is(err, errGone) {
		return m.storeSize, nil
	}
	return n, err
}

// stat returns the number and total size of the messages not marked
// deleted.
func (d *maildrop) stat(ctx context.Context) (count int, total int64, err error) {
	for i := range d.msgs {
		m := &d.msgs[i]
		if m.deleted {
			continue
		}
		n, err := d.sizeOrFallback(ctx, m)
		if err != nil {
			return 0, 0, err
		}
		count++
		total += n
	}
	return count, total, nil
}

// reset unmarks every message (RSET).
func (d *maildrop) reset() {
	for i := range d.msgs {
		d.msgs[i].deleted = false
	}
}

// commit is the UPDATE state (RFC 1939 section 6): the marked messages
// are removed from the store in one transaction, and those retrieved and
// kept get \Seen. It returns how many marked messages it removed and how
// many were marked.
func (d *maildrop) commit(ctx context.Context) (removed, marked int, err error) {
	var del, seen []uint32
	for _, m := range d.msgs {
		switch {
		case m.deleted:
			del = append(del, m.uid)
		case m.retrieved:
			seen = append(seen, m.uid)
		}
	}
	if len(del) == 0 && len(seen) == 0 {
		return 0, 0, nil
	}
	mb, err := d.st.Mailbox(ctx, store.Inbox)
	if err != nil {
		return 0, len(del), fmt.Errorf("update INBOX of %s: %w", d.user, err)
	}
	if mb.UIDValidity != d.uidValidity {
		return 0, len(del), fmt.Errorf("update INBOX of %s: UIDVALIDITY changed from %d to %d; nothing removed", d.user, d.uidValidity, mb.UIDValidity)
	}
	if len(del) > 0 {
		got, err := d.st.Remove(ctx, store.Inbox, del)
		if err != nil {
			return 0, len(del), fmt.Errorf("update INBOX of %s: %w", d.user, err)
		}
		removed = len(got)
	}
	if len(seen) > 0 {
		if _, err := d.st.SetFlags(ctx, store.Inbox, seen, store.FlagsAdd, []string{store.FlagSeen}); err != nil {
			return removed, len(del), fmt.Errorf("update INBOX of %s: mark seen: %w", d.user, err)
		}
	}
	return removed, len(del), nil
}

// sizeCache remembers wire sizes across sessions, keyed by user and
// Maildir key (a Maildir file's content never changes). It is bounded:
// when full it starts over.
type sizeCache struct {
	mu sync.Mutex
	m  map[string]int64
}

// maxCachedSizes bounds sizeCache; 16 bytes of size and ~60 of key each.
const maxCachedSizes = 1 << 18

func newSizeCache() *sizeCache { return &sizeCache{m: map[string]int64{}} }

func (c *sizeCache) get(user, key string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.m[user+"\x00"+key]
	return n, ok
}

func (c *sizeCache) put(user, key string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedSizes {
		clear(c.m)
	}
	c.m[user+"\x00"+key] = n
}
