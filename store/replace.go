package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
)

// Body is the complete message of a partial one, for ReplaceBodies.
type Body struct {
	UID uint32
	R   io.Reader
}

// ReplaceBodies replaces the files of partial messages (header only) of
// mailbox with the complete messages, keeping their UIDs, flags and
// envelopes, and re-indexes their text, all in one write unit: the files
// are written and made durable as staged messages are (Stage), renamed over
// the old ones (atomically each) with one directory fsync, and the rows
// change in one transaction, whose full-text rows come last so that FTS5
// writes one segment (see indexPlacedLocked). One at a time, a sync's
// body pass wrote a segment per message, and FTS5 spent more on merging
// them than on the rest of the pass (docs/BENCHMARKS.md, issue 17).
//
// errs has one entry per body: ErrNotFound for a message that is gone,
// the read error of a body that could not be read; the others are
// replaced. err is set when nothing could be done (the mailbox is
// missing, the disk or the index failed).
func (s *Store) ReplaceBodies(ctx context.Context, mailbox string, bodies []Body) (errs []error, err error) {
	items := make([]AppendItem, len(bodies))
	for i, b := range bodies {
		items[i] = AppendItem{Open: func() (io.ReadCloser, error) { return io.NopCloser(b.R), nil }}
	}
	// The new files are written, parsed and made durable as Stage and
	// Commit do for new messages.
	st, err := s.Stage(ctx, mailbox, items)
	if err != nil {
		return nil, fmt.Errorf("replace body: %w", err)
	}
	st.done = true
	written, err := st.durable(ctx)
	if err != nil {
		return nil, fmt.Errorf("replace body: %w", err)
	}
	mbID, dir, cname, ps := st.mbID, st.dir, st.mailbox, st.items
	errs = make([]error, len(bodies))
	for i, p := range ps {
		if p.err != nil {
			errs[i] = fmt.Errorf("replace body of %s/%d: %w", cname, bodies[i].UID, p.err)
		}
	}
	if len(written) == 0 {
		return errs, nil
	}
	if err := s.lockWrite(); err != nil {
		removeTmp(written)
		return nil, err
	}
	defer s.wmu.Unlock()
	ids := make([]int64, len(bodies))
	for i, b := range bodies {
		if errs[i] != nil {
			continue
		}
		var file string
		err := s.wdb.QueryRowContext(ctx, "SELECT id, file FROM messages WHERE mailbox_id = ? AND uid = ?", mbID, b.UID).Scan(&ids[i], &file)
		if errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound
		}
		if err == nil {
			err = renameFile(ps[i].tmp, s.mailPath(dir, file))
		}
		if err != nil {
			os.Remove(ps[i].tmp)
			errs[i] = fmt.Errorf("replace body of %s/%d: %w", cname, b.UID, err)
		}
	}
	if err := s.fsyncDir(s.mailPath(dir, "cur")); err != nil {
		return nil, fmt.Errorf("replace bodies in %s: %w", cname, err)
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		for i, p := range ps {
			if errs[i] != nil {
				continue
			}
			pm := p.parsed
			if _, err := tx.ExecContext(ctx, "UPDATE messages SET size = ?, has_attachment = ?, preview = ? WHERE id = ?",
				p.size, boolInt(pm.HasAttachment), cleanText(pm.Preview), ids[i]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE remote_uids SET partial = 0 WHERE message_id = ?", ids[i]); err != nil {
				return err
			}
		}
		// The full text last: one segment (see indexPlacedLocked).
		for i := range ps {
			if errs[i] != nil {
				continue
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM fts WHERE rowid = ?", ids[i]); err != nil {
				return err
			}
		}
		for i, p := range ps {
			if errs[i] != nil {
				continue
			}
			if err := insertText(ctx, tx, ids[i], p.parsed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replace bodies in %s: %w", cname, err)
	}
	return errs, nil
}
