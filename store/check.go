package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Check compares every mailbox's files with the index, the counters with
// the rows, and the full-text index with the messages. With repair, what
// it finds is fixed: orphan files indexed, rows without files dropped,
// counters recomputed, missing full-text rows rebuilt.
func (s *Store) Check(ctx context.Context, repair bool) (*Report, error) {
	if err := s.lockWrite(); err != nil {
		return nil, err
	}
	defer s.wmu.Unlock()
	s.fmu.Lock()
	defer s.fmu.Unlock()
	defer s.dirs.reset()
	rep := &Report{Repaired: repair}
	mbs, err := s.mailboxRows(ctx)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	rep.Mailboxes = len(mbs)
	named := map[string][]string{} // remote id in a file name -> files
	live := s.liveness()
	for _, mb := range mbs {
		if err := s.rescan(ctx, mb, repair, rep, named, live); err != nil {
			return nil, fmt.Errorf("check %s: %w", mb.name, err)
		}
		var total, unread, uidnext, realTotal, realUnread, maxUID int64
		err := s.wdb.QueryRowContext(ctx, `SELECT total, unread, uidnext,
			(SELECT COUNT(*) FROM messages WHERE mailbox_id = ?1),
			(SELECT COUNT(*) FROM messages WHERE mailbox_id = ?1 AND seen = 0),
			(SELECT COALESCE(MAX(uid), 0) FROM messages WHERE mailbox_id = ?1)
			FROM mailboxes WHERE id = ?1`, mb.id).Scan(&total, &unread, &uidnext, &realTotal, &realUnread, &maxUID)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", mb.name, err)
		}
		if total != realTotal || unread != realUnread || uidnext <= maxUID {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: counters total=%d unread=%d uidnext=%d, rows say %d, %d, >%d", mb.name, total, unread, uidnext, realTotal, realUnread, maxUID))
			if repair {
				if err := s.withTx(ctx, func(tx *sql.Tx) error { return fixCounters(ctx, tx, mb.id) }); err != nil {
					return nil, fmt.Errorf("check %s: %w", mb.name, err)
				}
			}
		}
		if repair {
			if err := s.recordMtimes(ctx, mb); err != nil {
				return nil, err
			}
		}
	}
	if err := s.checkText(ctx, repair, rep); err != nil {
		return nil, fmt.Errorf("check full-text index: %w", err)
	}
	if err := s.checkDuplicates(ctx, rep, named); err != nil {
		return nil, fmt.Errorf("check duplicates: %w", err)
	}
	return rep, nil
}

// checkDuplicates reports messages stored more than once: the same
// Message-ID and size twice in one mailbox (what a sync that fetched a
// message again leaves), and one remote id carried by the names of two
// files (identity.go). named maps remote ids to the files that carry
// them. A remote UID in a name is not compared: after a UIDVALIDITY
// change the server hands out the same UIDs to other messages.
func (s *Store) checkDuplicates(ctx context.Context, rep *Report, named map[string][]string) error {
	rows, err := s.wdb.QueryContext(ctx, `SELECT mb.name, m.message_id, m.size, COUNT(*), group_concat(m.uid, ', ')
		FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE m.message_id != ''
		GROUP BY m.mailbox_id, m.message_id, m.size HAVING COUNT(*) > 1 ORDER BY mb.name, m.message_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var box, mid, uids string
		var size int64
		var n int
		if err := rows.Scan(&box, &mid, &size, &n, &uids); err != nil {
			return err
		}
		rep.Duplicates = append(rep.Duplicates, fmt.Sprintf("%s: Message-ID <%s> (%d bytes) stored %d times: uids %s", box, mid, size, n, uids))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	ids := make([]string, 0, len(named))
	for id, files := range named {
		if len(files) > 1 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		rep.Duplicates = append(rep.Duplicates, fmt.Sprintf("remote id %q carried by %d files: %s", id, len(named[id]), strings.Join(named[id], ", ")))
	}
	return nil
}

// checkText finds messages without a full-text row and full-text rows
// without a message.
func (s *Store) checkText(ctx context.Context, repair bool, rep *Report) error {
	rows, err := s.wdb.QueryContext(ctx, `SELECT m.id, mb.dir, m.file FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id
		WHERE m.id NOT IN (SELECT rowid FROM fts) AND m.id NOT IN (SELECT message_id FROM fts_pending)`)
	if err != nil {
		return err
	}
	type missing struct {
		id   int64
		path string
	}
	var list []missing
	for rows.Next() {
		var m missing
		var dir, file string
		if err := rows.Scan(&m.id, &dir, &file); err != nil {
			rows.Close()
			return err
		}
		m.path = s.mailPath(dir, file)
		list = append(list, m)
	}
	rows.Close()
	var stale int
	if err := s.wdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM fts WHERE rowid NOT IN (SELECT id FROM messages)").Scan(&stale); err != nil {
		return err
	}
	for _, m := range list {
		rep.Problems = append(rep.Problems, fmt.Sprintf("message %d has no full-text row", m.id))
	}
	if stale > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d full-text rows without a message", stale))
	}
	if !repair || (len(list) == 0 && stale == 0) {
		return nil
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM fts WHERE rowid NOT IN (SELECT id FROM messages)"); err != nil {
			return err
		}
		for _, m := range list {
			if err := insertText(ctx, tx, m.id, parseFile(m.path)); err != nil {
				return err
			}
		}
		return nil
	})
}
