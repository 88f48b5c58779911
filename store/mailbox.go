package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// mailboxDir maps a mailbox name to its directory under ROOT/mail: "/"
// becomes "." as in Maildir++, and ".", "%" and control bytes are
// percent-encoded so the mapping is reversible.
func mailboxDir(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '/':
			b.WriteByte('.')
		case c == '.' || c == '%' || c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// mailboxNameFromDir reverses mailboxDir.
func mailboxNameFromDir(dir string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(dir); i++ {
		c := dir[i]
		switch {
		case c == '.':
			b.WriteByte('/')
		case c == '%' && i+2 < len(dir):
			var v byte
			if _, err := fmt.Sscanf(dir[i+1:i+3], "%02X", &v); err != nil {
				return "", false
			}
			b.WriteByte(v)
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	name, err := CanonicalName(b.String())
	return name, err == nil
}

func (s *Store) mailPath(dir string, elem ...string) string {
	return filepath.Join(append([]string{s.root, "mail", dir}, elem...)...)
}

func (s *Store) makeMaildir(dir string) error {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(s.mailPath(dir, sub), 0o700); err != nil {
			return err
		}
	}
	return s.fsyncDir(filepath.Join(s.root, "mail"))
}

const mailboxCols = "id, name, special_use, uidvalidity, uidnext, highestmodseq, subscribed, total, unread"

func scanMailbox(row interface{ Scan(...any) error }) (*Mailbox, error) {
	var mb Mailbox
	var sub int
	if err := row.Scan(&mb.ID, &mb.Name, &mb.SpecialUse, &mb.UIDValidity, &mb.UIDNext, &mb.HighestModSeq, &sub, &mb.Total, &mb.Unread); err != nil {
		return nil, err
	}
	mb.Subscribed = sub != 0
	return &mb, nil
}

// Mailboxes lists all mailboxes, INBOX first, then by name.
func (s *Store) Mailboxes(ctx context.Context) ([]Mailbox, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+mailboxCols+" FROM mailboxes ORDER BY name <> 'INBOX', name")
	if err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	defer rows.Close()
	var out []Mailbox
	for rows.Next() {
		mb, err := scanMailbox(rows)
		if err != nil {
			return nil, fmt.Errorf("list mailboxes: %w", err)
		}
		out = append(out, *mb)
	}
	return out, rows.Err()
}

// Mailbox returns one mailbox by name; ErrNotFound if there is none.
func (s *Store) Mailbox(ctx context.Context, name string) (*Mailbox, error) {
	return s.mailbox(ctx, s.rdb, name)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) mailbox(ctx context.Context, q querier, name string) (*Mailbox, error) {
	cname, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	mb, err := scanMailbox(q.QueryRowContext(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE name = ?", cname))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("mailbox %q: %w", cname, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox %q: %w", cname, err)
	}
	return mb, nil
}

// mailboxDirOf returns the id and directory of a mailbox for a writer.
func (s *Store) mailboxDirOf(ctx context.Context, name string) (int64, string, string, error) {
	return lookupMailboxDir(ctx, s.wdb, name)
}

// mailboxDirRead is mailboxDirOf on the reader pool, for callers that
// must not wait for the writer connection, through a cache: every
// delivery looks its mailbox up twice, and the query cost more than a
// twentieth of a delivery's CPU.
func (s *Store) mailboxDirRead(ctx context.Context, name string) (int64, string, string, error) {
	if d, ok := s.dirs.get(name); ok {
		return d.id, d.dir, d.cname, nil
	}
	gen := s.dirs.generation()
	id, dir, cname, err := lookupMailboxDir(ctx, s.rdb, name)
	if err == nil {
		s.dirs.put(name, gen, mailboxDirEntry{id, dir, cname})
	}
	return id, dir, cname, err
}

// dirCache remembers mailbox lookups. A rename or delete of mailboxes
// calls reset after its transaction commits and before it releases fmu;
// a lookup that raced with it is not cached (its generation changed).
// reset also bumps the generation in ROOT/counters, which every get
// reads (one pread), so other processes' caches forget too.
type dirCache struct {
	mu     sync.Mutex
	gen    uint64
	m      map[string]mailboxDirEntry
	shared counters // ROOT/counters
	seen   uint64   // its value when m was last emptied
}

type mailboxDirEntry struct {
	id         int64
	dir, cname string
}

func (c *dirCache) get(name string) (mailboxDirEntry, bool) {
	v := c.shared.generation()
	c.mu.Lock()
	defer c.mu.Unlock()
	if v != c.seen {
		c.seen = v
		c.gen++
		c.m = nil
	}
	d, ok := c.m[name]
	return d, ok
}

func (c *dirCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *dirCache) put(name string, gen uint64, d mailboxDirEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) > 4096 {
		c.m = map[string]mailboxDirEntry{}
	}
	c.m[name] = d
}

// reset forgets every lookup, in this process and the others; the
// caller holds the writer lock.
func (c *dirCache) reset() {
	c.shared.bump()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

// lookupMailboxDir returns a mailbox's id, directory and canonical name.
func lookupMailboxDir(ctx context.Context, db *sql.DB, name string) (int64, string, string, error) {
	cname, err := CanonicalName(name)
	if err != nil {
		return 0, "", "", err
	}
	var id int64
	var dir string
	err = db.QueryRowContext(ctx, "SELECT id, dir FROM mailboxes WHERE name = ?", cname).Scan(&id, &dir)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", "", fmt.Errorf("mailbox %q: %w", cname, ErrNotFound)
	}
	if err != nil {
		return 0, "", "", fmt.Errorf("mailbox %q: %w", cname, err)
	}
	return id, dir, cname, nil
}

// CreateMailbox creates a mailbox with an optional special-use attribute
// (SpecialSent, ...). Parent levels of a hierarchical name are not created.
func (s *Store) CreateMailbox(ctx context.Context, name, specialUse string) (*Mailbox, error) {
	if err := s.lockWrite(); err != nil {
		return nil, err
	}
	defer s.wmu.Unlock()
	return s.createMailboxLocked(ctx, name, specialUse)
}

func (s *Store) createMailboxLocked(ctx context.Context, name, specialUse string) (*Mailbox, error) {
	cname, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	var exists int
	if err := s.wdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM mailboxes WHERE name = ?", cname).Scan(&exists); err != nil {
		return nil, fmt.Errorf("create mailbox %q: %w", cname, err)
	}
	if exists > 0 {
		return nil, fmt.Errorf("create mailbox %q: %w", cname, ErrExists)
	}
	if err := ValidateName(cname); err != nil {
		return nil, fmt.Errorf("create mailbox: %w", err)
	}
	dir := mailboxDir(cname)
	if err := s.makeMaildir(dir); err != nil {
		return nil, fmt.Errorf("create mailbox %q: %w", cname, err)
	}
	var id int64
	var modseq uint64
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		uv, err := nextUIDValidity(ctx, tx)
		if err != nil {
			return err
		}
		modseq = s.nextModSeq()
		res, err := tx.ExecContext(ctx, "INSERT INTO mailboxes(name, dir, special_use, uidvalidity, uidnext, highestmodseq) VALUES(?, ?, ?, ?, 1, ?)",
			cname, dir, specialUse, uv, modseq)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		if err != nil {
			return err
		}
		if err := logMailboxChange(ctx, tx, Change{Kind: ChangeMailboxCreated, MailboxID: id, Mailbox: cname, ModSeq: modseq}); err != nil {
			return err
		}
		return markDirtyTx(ctx, tx, s.session, id)
	})
	if err != nil {
		return nil, fmt.Errorf("create mailbox %q: %w", cname, err)
	}
	s.dirtyMu.Lock()
	s.dirty[id] = true
	s.dirtyMu.Unlock()
	s.feed.publish([]Change{{Kind: ChangeMailboxCreated, MailboxID: id, Mailbox: cname, ModSeq: modseq}})
	return s.mailbox(ctx, s.wdb, cname)
}

// nextUIDValidity returns a UIDVALIDITY never used before in this store:
// the current time, or one more than the last one handed out.
func nextUIDValidity(ctx context.Context, tx *sql.Tx) (uint32, error) {
	var last sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='uidvalidity'").Scan(&last); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	uv := uint32(time.Now().Unix())
	if last.Valid && int64(uv) <= last.Int64 {
		uv = uint32(last.Int64 + 1)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES('uidvalidity', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", fmt.Sprint(uv))
	return uv, err
}

// ensureDirty marks a mailbox dirty for this session in tx, if it was
// not (a writer marks it before moving files, with markDirty; this is
// the safety net); the caller holds wmu.
func (s *Store) ensureDirty(ctx context.Context, tx *sql.Tx, mailboxID int64) error {
	if s.isMarked(mailboxID) {
		return nil
	}
	return markDirtyTx(ctx, tx, s.session, mailboxID)
}

// logMailboxChange records a mailbox created, renamed or deleted for the
// feeds of other processes (feed_poll.go), keeping the last 1000.
func logMailboxChange(ctx context.Context, tx *sql.Tx, c Change) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO mailbox_changes(modseq, kind, mailbox_id, name, old_name) VALUES(?, ?, ?, ?, ?)",
		c.ModSeq, c.Kind, c.MailboxID, c.Mailbox, c.OldName); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM mailbox_changes WHERE modseq <= ?", int64(c.ModSeq)-1000)
	return err
}

// RenameMailbox renames a mailbox and the mailboxes below it. Renaming
// INBOX is not supported (IMAP's special INBOX move is done by the server
// with Move).
func (s *Store) RenameMailbox(ctx context.Context, oldName, newName string) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	defer s.dirs.reset()
	from, err := CanonicalName(oldName)
	if err != nil {
		return err
	}
	to, err := CanonicalName(newName)
	if err != nil {
		return err
	}
	if from == Inbox || to == Inbox {
		return fmt.Errorf("rename mailbox %q to %q: INBOX cannot be renamed: %w", from, to, ErrInvalid)
	}
	type mbox struct {
		id             int64
		name, dir, new string
	}
	rows, err := s.wdb.QueryContext(ctx, "SELECT id, name, dir FROM mailboxes WHERE name = ? OR substr(name, 1, ?) = ?", from, len(from)+1, from+"/")
	if err != nil {
		return fmt.Errorf("rename mailbox %q: %w", from, err)
	}
	var list []mbox
	for rows.Next() {
		var m mbox
		if err := rows.Scan(&m.id, &m.name, &m.dir); err != nil {
			rows.Close()
			return fmt.Errorf("rename mailbox %q: %w", from, err)
		}
		m.new = to + m.name[len(from):]
		if err := ValidateName(m.new); err != nil {
			rows.Close()
			return fmt.Errorf("rename mailbox %q: %w", m.name, err)
		}
		list = append(list, m)
	}
	rows.Close()
	if len(list) == 0 {
		return fmt.Errorf("rename mailbox %q: %w", from, ErrNotFound)
	}
	for _, m := range list {
		var n int
		if err := s.wdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM mailboxes WHERE name = ?", m.new).Scan(&n); err != nil {
			return fmt.Errorf("rename mailbox %q: %w", from, err)
		}
		if n > 0 {
			return fmt.Errorf("rename mailbox %q to %q: %w", m.name, m.new, ErrExists)
		}
	}
	// Directories first: a crash after this leaves Maildirs that the next
	// Open finds under their new names (and drops the old rows' files).
	for i, m := range list {
		if err := os.Rename(s.mailPath(m.dir), s.mailPath(mailboxDir(m.new))); err != nil {
			for _, done := range list[:i] {
				os.Rename(s.mailPath(mailboxDir(done.new)), s.mailPath(done.dir))
			}
			return fmt.Errorf("rename mailbox %q: %w", m.name, err)
		}
	}
	if err := s.fsyncDir(filepath.Join(s.root, "mail")); err != nil {
		return fmt.Errorf("rename mailbox %q: %w", from, err)
	}
	var changes []Change
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		changes = nil
		for _, m := range list {
			if _, err := tx.ExecContext(ctx, "UPDATE mailboxes SET name = ?, dir = ? WHERE id = ?", m.new, mailboxDir(m.new), m.id); err != nil {
				return err
			}
			c := Change{Kind: ChangeMailboxRenamed, MailboxID: m.id, Mailbox: m.new, OldName: m.name, ModSeq: s.nextModSeq()}
			if err := logMailboxChange(ctx, tx, c); err != nil {
				return err
			}
			changes = append(changes, c)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rename mailbox %q: %w", from, err)
	}
	s.feed.publish(changes)
	return nil
}

// DeleteMailbox deletes a mailbox and every message in it. INBOX cannot
// be deleted. Mailboxes below it are kept.
func (s *Store) DeleteMailbox(ctx context.Context, name string) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	defer s.dirs.reset()
	id, dir, cname, err := s.mailboxDirOf(ctx, name)
	if err != nil {
		return err
	}
	if cname == Inbox {
		return fmt.Errorf("delete mailbox INBOX: %w", ErrInvalid)
	}
	// Move the directory aside first, so a crash never resurrects it.
	trash := filepath.Join(s.root, "mail", fmt.Sprintf(".deleted-%d-%d", id, time.Now().UnixNano()))
	if err := os.Rename(s.mailPath(dir), trash); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("delete mailbox %q: %w", cname, err)
	}
	if err := s.fsyncDir(filepath.Join(s.root, "mail")); err != nil {
		return fmt.Errorf("delete mailbox %q: %w", cname, err)
	}
	var change Change
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		stmts := []string{
			"DELETE FROM fts WHERE rowid IN (SELECT id FROM messages WHERE mailbox_id = ?)",
			"DELETE FROM messages WHERE mailbox_id = ?",
			"DELETE FROM expunged WHERE mailbox_id = ?",
			"DELETE FROM session_dirty WHERE mailbox_id = ?",
			"DELETE FROM mailboxes WHERE id = ?",
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		change = Change{Kind: ChangeMailboxDeleted, MailboxID: id, Mailbox: cname, ModSeq: s.nextModSeq()}
		return logMailboxChange(ctx, tx, change)
	})
	if err != nil {
		return fmt.Errorf("delete mailbox %q: %w", cname, err)
	}
	os.RemoveAll(trash)
	s.feed.publish([]Change{change})
	return nil
}

// SetSubscribed sets a mailbox's subscription (IMAP SUBSCRIBE).
func (s *Store) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	id, _, cname, err := s.mailboxDirOf(ctx, name)
	if err != nil {
		return err
	}
	v := 0
	if subscribed {
		v = 1
	}
	if _, err := s.wdb.ExecContext(ctx, "UPDATE mailboxes SET subscribed = ? WHERE id = ?", v, id); err != nil {
		return fmt.Errorf("subscribe %q: %w", cname, err)
	}
	return nil
}

// SetSpecialUse sets a mailbox's special-use attribute ("" to clear).
func (s *Store) SetSpecialUse(ctx context.Context, name, specialUse string) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	id, _, cname, err := s.mailboxDirOf(ctx, name)
	if err != nil {
		return err
	}
	if _, err := s.wdb.ExecContext(ctx, "UPDATE mailboxes SET special_use = ? WHERE id = ?", specialUse, id); err != nil {
		return fmt.Errorf("special use %q: %w", cname, err)
	}
	return nil
}
