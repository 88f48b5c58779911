package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/letterbox-mail/letterbox/store/mime"
)

// FlagUpdate is the new state of a message whose flags changed.
type FlagUpdate struct {
	ID     int64
	UID    uint32
	ModSeq uint64
	Flags  []string
}

// rowRef is what write operations need of a message row.
type rowRef struct {
	id    int64
	uid   uint32
	flags []string
	file  string
}

func (s *Store) selectRows(ctx context.Context, mbID int64, uids []uint32, extra string) ([]rowRef, error) {
	var out []rowRef
	scan := func(q string, args ...any) error {
		rows, err := s.wdb.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r rowRef
			var flags string
			if err := rows.Scan(&r.id, &r.uid, &flags, &r.file); err != nil {
				return err
			}
			r.flags = splitFlags(flags)
			out = append(out, r)
		}
		return rows.Err()
	}
	const q = "SELECT id, uid, flags, file FROM messages WHERE mailbox_id = ?"
	if uids == nil {
		return out, scan(q+extra+" ORDER BY uid", mbID)
	}
	for _, chunk := range chunkUIDs(uids, 500) {
		if err := scan(q+" AND uid IN ("+placeholders(len(chunk))+")"+extra+" ORDER BY uid", append([]any{mbID}, uidArgs(chunk)...)...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maildirName returns the file name relative to the mailbox directory for
// a message whose flags became flags.
func maildirName(file string, flags []string) string {
	base := file
	if i := strings.Index(base, ":2,"); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimPrefix(strings.TrimPrefix(base, "cur/"), "new/")
	return "cur/" + base + ":2," + MaildirFlags(flags)
}

// SetFlags changes the flags of the messages with the given UIDs (nil:
// all) and returns those that changed, each with a new MODSEQ. The Maildir
// file names follow the flags; the index is the truth if a rename fails.
func (s *Store) SetFlags(ctx context.Context, mailbox string, uids []uint32, op FlagOp, flags []string) ([]FlagUpdate, error) {
	return s.SetFlagsMany(ctx, mailbox, []FlagChange{{UIDs: uids, Op: op, Flags: flags}})
}

// FlagChange is one change of SetFlagsMany: Op with Flags on the messages
// UIDs (nil: all).
type FlagChange struct {
	UIDs  []uint32
	Op    FlagOp
	Flags []string
}

// SetFlagsMany makes several flag changes in one mailbox as one write:
// each message's flags go through the changes that name it, in order, and
// the messages whose flags changed are updated in one transaction, with
// one new MODSEQ, and returned. A sync applying the server's flags
// (several groups of messages, each gaining or losing some flags) pays
// for one lock, one read of the rows and one commit instead of one per
// group. The Maildir file names follow the flags, as in SetFlags.
func (s *Store) SetFlagsMany(ctx context.Context, mailbox string, changes []FlagChange) ([]FlagUpdate, error) {
	cflags := make([][]string, len(changes))
	var uids []uint32
	all := false
	for i, c := range changes {
		f, err := CanonicalFlags(c.Flags)
		if err != nil {
			return nil, fmt.Errorf("set flags: %w", err)
		}
		cflags[i] = f
		if c.UIDs == nil {
			all = true
		}
		uids = append(uids, c.UIDs...)
	}
	if len(changes) == 0 {
		return nil, nil
	}
	none := !all && len(uids) == 0
	if all {
		uids = nil
	} else {
		slices.Sort(uids)
		uids = slices.Compact(uids)
	}
	if err := s.lockWrite(); err != nil {
		return nil, err
	}
	defer s.wmu.Unlock()
	mbID, dir, cname, err := s.mailboxDirOf(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("set flags: %w", err)
	}
	if none {
		return nil, nil
	}
	rows, err := s.selectRows(ctx, mbID, uids, "")
	if err != nil {
		return nil, fmt.Errorf("set flags in %s: %w", cname, err)
	}
	if err := s.markDirty(ctx, mbID); err != nil {
		return nil, fmt.Errorf("set flags in %s: %w", cname, err)
	}
	// want returns the flags of message uid after every change naming it.
	sets := make([]map[uint32]bool, len(changes))
	for i, c := range changes {
		if c.UIDs != nil && len(changes) > 1 {
			sets[i] = make(map[uint32]bool, len(c.UIDs))
			for _, u := range c.UIDs {
				sets[i][u] = true
			}
		}
	}
	want := func(uid uint32, flags []string) []string {
		for i, c := range changes {
			if c.UIDs == nil || sets[i] == nil || sets[i][uid] {
				flags = applyFlags(flags, c.Op, cflags[i])
			}
		}
		return flags
	}
	var updates []FlagUpdate
	var files [][2]string
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		modseq := s.nextModSeq()
		ctx2tx := cachedTx{tx, &s.stmts}
		unreadDelta := 0
		for _, r := range rows {
			nf := want(r.uid, r.flags)
			if sameFlags(nf, r.flags) {
				continue
			}
			b, ob := bitsOf(nf), bitsOf(r.flags)
			unreadDelta += ob.seen - b.seen
			newFile := maildirName(r.file, nf)
			if _, err := ctx2tx.ExecContext(ctx, qSetFlags,
				joinFlags(nf), b.seen, b.answered, b.flagged, b.deleted, b.draft, modseq, newFile, r.id); err != nil {
				return err
			}
			if newFile != r.file {
				files = append(files, [2]string{r.file, newFile})
			}
			updates = append(updates, FlagUpdate{ID: r.id, UID: r.uid, ModSeq: modseq, Flags: nf})
		}
		if len(updates) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE mailboxes SET highestmodseq = ?, unread = unread + ? WHERE id = ?", modseq, unreadDelta, mbID); err != nil {
			return err
		}
		// Rename before commit: if a rename fails the transaction is
		// rolled back and the files put back.
		for i, f := range files {
			if err := renameFile(s.mailPath(dir, f[0]), s.mailPath(dir, f[1])); err != nil && !errors.Is(err, os.ErrNotExist) {
				for _, done := range files[:i] {
					renameFile(s.mailPath(dir, done[1]), s.mailPath(dir, done[0]))
				}
				return fmt.Errorf("rename %s: %w", f[0], err)
			}
		}
		return s.ensureDirty(ctx, tx, mbID)
	})
	if err != nil {
		return nil, fmt.Errorf("set flags in %s: %w", cname, err)
	}
	if len(updates) > 0 {
		changes := make([]Change, len(updates))
		for i, u := range updates {
			changes[i] = Change{Kind: ChangeFlags, MailboxID: mbID, Mailbox: cname, ID: u.ID, UID: u.UID, ModSeq: u.ModSeq, Flags: u.Flags}
		}
		s.feed.publish(changes)
	}
	return updates, nil
}

// UIDPair maps a source UID to the UID of its copy (RFC 4315 COPYUID).
type UIDPair struct {
	Src, Dst uint32
	// ID is the store id of the message in the destination.
	ID int64
}

// Copy copies messages into another mailbox, hard-linking their files,
// and returns the UID mapping. Flags are kept.
func (s *Store) Copy(ctx context.Context, src string, uids []uint32, dst string) ([]UIDPair, uint32, error) {
	return s.transfer(ctx, src, uids, dst, false)
}

// Move moves messages into another mailbox (RFC 6851): they get new UIDs
// there and are expunged from the source; store ids stay the same.
func (s *Store) Move(ctx context.Context, src string, uids []uint32, dst string) ([]UIDPair, uint32, error) {
	return s.transfer(ctx, src, uids, dst, true)
}

func (s *Store) transfer(ctx context.Context, src string, uids []uint32, dst string, move bool) ([]UIDPair, uint32, error) {
	op := "copy"
	if move {
		op = "move"
	}
	if err := s.lockWrite(); err != nil {
		return nil, 0, err
	}
	defer s.wmu.Unlock()
	srcID, srcDir, srcName, err := s.mailboxDirOf(ctx, src)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	dstID, dstDir, dstName, err := s.mailboxDirOf(ctx, dst)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	if srcID == dstID && move {
		return nil, 0, fmt.Errorf("move %s to itself: %w", srcName, ErrInvalid)
	}
	rows, err := s.selectRows(ctx, srcID, uids, "")
	if err != nil {
		return nil, 0, fmt.Errorf("%s from %s: %w", op, srcName, err)
	}
	if len(rows) == 0 {
		return nil, 0, nil
	}
	if err := s.markDirty(ctx, srcID, dstID); err != nil {
		return nil, 0, fmt.Errorf("%s from %s: %w", op, srcName, err)
	}
	// Files first. A crash after this and before commit leaves files that
	// the next Open indexes (copy) or moves the row for (move).
	type placed struct {
		row     rowRef
		newFile string
		parsed  *mime.Parsed // copies: the text to index again
	}
	var done []placed
	undo := func() {
		for _, p := range done {
			if move {
				renameFile(s.mailPath(dstDir, p.newFile), s.mailPath(srcDir, p.row.file))
			} else {
				os.Remove(s.mailPath(dstDir, p.newFile))
			}
		}
	}
	for _, r := range rows {
		var nf string
		if move {
			// A remote identity belongs to the source mailbox
			// (identity.go).
			nf = maildirName(stripIdentity(r.file), r.flags)
			err = renameFile(s.mailPath(srcDir, r.file), s.mailPath(dstDir, nf))
		} else {
			nf = "cur/" + s.uniqueName() + ":2," + MaildirFlags(r.flags)
			err = linkOrCopy(s.mailPath(srcDir, r.file), s.mailPath(dstDir, nf), !s.opts.NoSync)
		}
		if err != nil {
			undo()
			return nil, 0, fmt.Errorf("%s %s/%d: %w", op, srcName, r.uid, err)
		}
		p := placed{row: r, newFile: nf}
		if !move {
			p.parsed = parseFile(s.mailPath(dstDir, nf))
		}
		done = append(done, p)
	}
	for _, d := range []string{s.mailPath(dstDir, "cur"), s.mailPath(srcDir, "cur")} {
		if err := s.fsyncDir(d); err != nil {
			undo()
			return nil, 0, fmt.Errorf("%s: %w", op, err)
		}
	}
	var pairs []UIDPair
	var uv uint32
	var changes []Change
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var uidnext uint32
		if err := tx.QueryRowContext(ctx, "SELECT uidvalidity, uidnext FROM mailboxes WHERE id = ?", dstID).Scan(&uv, &uidnext); err != nil {
			return err
		}
		modseq := s.nextModSeq()
		unread := 0
		for _, p := range done {
			uid := uidnext
			uidnext++
			if bitsOf(p.row.flags).seen == 0 {
				unread++
			}
			id := p.row.id
			if move {
				if _, err := tx.ExecContext(ctx, "UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ?, file = ? WHERE id = ?", dstID, uid, modseq, p.newFile, id); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "INSERT INTO expunged(mailbox_id, uid, modseq) VALUES(?, ?, ?)", srcID, p.row.uid, modseq); err != nil {
					return err
				}
				changes = append(changes, Change{Kind: ChangeExpunged, MailboxID: srcID, Mailbox: srcName, ID: id, UID: p.row.uid, ModSeq: modseq})
			} else {
				var err error
				id = s.nextMessageID()
				if err = copyRow(ctx, tx, id, p.row.id, dstID, uid, modseq, p.newFile, p.parsed); err != nil {
					return err
				}
			}
			pairs = append(pairs, UIDPair{Src: p.row.uid, Dst: uid, ID: id})
			changes = append(changes, Change{Kind: ChangeMessageAdded, MailboxID: dstID, Mailbox: dstName, ID: id, UID: uid, ModSeq: modseq, Flags: p.row.flags})
		}
		if _, err := tx.ExecContext(ctx, "UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, total = total + ?, unread = unread + ? WHERE id = ?",
			uidnext, modseq, len(done), unread, dstID); err != nil {
			return err
		}
		if move {
			if _, err := tx.ExecContext(ctx, "UPDATE mailboxes SET highestmodseq = ?, total = total - ?, unread = unread - ? WHERE id = ?",
				modseq, len(done), unread, srcID); err != nil {
				return err
			}
			if err := s.ensureDirty(ctx, tx, srcID); err != nil {
				return err
			}
		}
		return s.ensureDirty(ctx, tx, dstID)
	})
	if err != nil {
		undo()
		return nil, 0, fmt.Errorf("%s from %s to %s: %w", op, srcName, dstName, err)
	}
	s.feed.publish(changes)
	return pairs, uv, nil
}

// copyRow duplicates a message row and its full-text entry.
func copyRow(ctx context.Context, tx *sql.Tx, id, srcID, dstMailbox int64, uid uint32, modseq uint64, file string, pm *mime.Parsed) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO messages(id, mailbox_id, uid, modseq, flags, seen, answered, flagged, deleted, draft,
		internal_date, size, file, date, from_addr, to_addr, cc_addr, subject, message_id, in_reply_to, refs, thread_id, has_attachment, preview)
		SELECT ?, ?, ?, ?, flags, seen, answered, flagged, deleted, draft, internal_date, size, ?, date, from_addr, to_addr, cc_addr,
		subject, message_id, in_reply_to, refs, thread_id, has_attachment, preview FROM messages WHERE id = ?`,
		id, dstMailbox, uid, modseq, file, srcID)
	if err != nil {
		return err
	}
	return insertText(ctx, tx, id, pm)
}

func linkOrCopy(src, dst string, sync bool) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if sync {
		if err := out.Sync(); err != nil {
			out.Close()
			os.Remove(dst)
			return err
		}
	}
	return out.Close()
}

// Expunge removes the messages flagged \Deleted among uids (nil: all of
// the mailbox's) and returns their UIDs.
func (s *Store) Expunge(ctx context.Context, mailbox string, uids []uint32) ([]uint32, error) {
	return s.remove(ctx, mailbox, uids, " AND deleted = 1")
}

// Remove removes the messages with the given UIDs whatever their flags
// (POP3 DELE at QUIT, sync of a server-side expunge).
func (s *Store) Remove(ctx context.Context, mailbox string, uids []uint32) ([]uint32, error) {
	if uids == nil {
		return nil, fmt.Errorf("remove from %s: no UIDs given: %w", mailbox, ErrInvalid)
	}
	return s.remove(ctx, mailbox, uids, "")
}

func (s *Store) remove(ctx context.Context, mailbox string, uids []uint32, extra string) ([]uint32, error) {
	if err := s.lockWrite(); err != nil {
		return nil, err
	}
	defer s.wmu.Unlock()
	mbID, dir, cname, err := s.mailboxDirOf(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("expunge: %w", err)
	}
	rows, err := s.selectRows(ctx, mbID, uids, extra)
	if err != nil {
		return nil, fmt.Errorf("expunge %s: %w", cname, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	if err := s.markDirty(ctx, mbID); err != nil {
		return nil, fmt.Errorf("expunge %s: %w", cname, err)
	}
	// Unlink first: the removal was asked for, so a crash before commit
	// must not bring the message back; Open drops rows without files.
	for _, r := range rows {
		if err := os.Remove(s.mailPath(dir, r.file)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("expunge %s/%d: %w", cname, r.uid, err)
		}
	}
	if err := s.fsyncDir(s.mailPath(dir, "cur")); err != nil {
		return nil, fmt.Errorf("expunge %s: %w", cname, err)
	}
	var out []uint32
	var changes []Change
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		modseq := s.nextModSeq()
		unread := 0
		for _, r := range rows {
			if err := deleteRow(ctx, tx, r.id, mbID, r.uid, modseq); err != nil {
				return err
			}
			if bitsOf(r.flags).seen == 0 {
				unread++
			}
			out = append(out, r.uid)
			changes = append(changes, Change{Kind: ChangeExpunged, MailboxID: mbID, Mailbox: cname, ID: r.id, UID: r.uid, ModSeq: modseq})
		}
		if _, err := tx.ExecContext(ctx, "UPDATE mailboxes SET highestmodseq = ?, total = total - ?, unread = unread - ? WHERE id = ?",
			modseq, len(rows), unread, mbID); err != nil {
			return err
		}
		return s.ensureDirty(ctx, tx, mbID)
	})
	if err != nil {
		return nil, fmt.Errorf("expunge %s: %w", cname, err)
	}
	s.feed.publish(changes)
	return out, nil
}

// deleteRow removes one message row, its text, and remembers the UID as
// expunged.
func deleteRow(ctx context.Context, tx *sql.Tx, id, mbID int64, uid uint32, modseq uint64) error {
	for _, q := range []string{"DELETE FROM fts WHERE rowid = ?", "DELETE FROM messages WHERE id = ?", "DELETE FROM remote_uids WHERE message_id = ?"} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO expunged(mailbox_id, uid, modseq) VALUES(?, ?, ?)", mbID, uid, modseq)
	return err
}
