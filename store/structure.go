package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/letterbox-mail/letterbox/store/mime"
)

// Structures returns the MIME structure and envelope of each of msgs, in
// order: what IMAP's BODYSTRUCTURE, BODY and ENVELOPE report (see
// mime.ParseStructure, which bounds the nesting it descends into). Each is
// computed once per message, by a streaming parse of its file on first
// use, and kept in the index (table structures), so a FETCH of many
// messages reads one row each. A message whose file is gone (expunged
// meanwhile) gets nil.
//
// The structures computed here are recorded in one write transaction. A
// failure to record them (a full disk, a closed store) is not an error:
// they are computed again next time. The error is non-nil when the index
// or a message file cannot be read.
func (s *Store) Structures(ctx context.Context, msgs []Message) ([]*mime.Structure, error) {
	out := make([]*mime.Structure, len(msgs))
	if len(msgs) == 0 {
		return out, nil
	}
	cached, err := s.cachedStructures(ctx, msgs)
	if err != nil {
		return nil, err
	}
	var fresh []structureRow
	for i := range msgs {
		m := &msgs[i]
		if st := cached[m.ID]; st != nil {
			out[i] = st
			continue
		}
		st, keep, err := s.computeStructure(ctx, m)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i] = st
		if keep {
			if data, err := st.MarshalBinary(); err == nil {
				fresh = append(fresh, structureRow{id: m.ID, size: m.Size, data: data})
			}
		}
	}
	s.recordStructures(ctx, fresh)
	return out, nil
}

type structureRow struct {
	id, size int64
	data     []byte
}

// cachedStructures reads the recorded structures of msgs that are still
// valid: of this version of the parser and of the message's current size
// (ReplaceBody keeps the id and changes the file).
func (s *Store) cachedStructures(ctx context.Context, msgs []Message) (map[int64]*mime.Structure, error) {
	out := make(map[int64]*mime.Structure, len(msgs))
	sizes := make(map[int64]int64, len(msgs))
	for _, m := range msgs {
		sizes[m.ID] = m.Size
	}
	const chunk = 500
	for start := 0; start < len(msgs); start += chunk {
		part := msgs[start:min(start+chunk, len(msgs))]
		args := make([]any, len(part))
		for i, m := range part {
			args[i] = m.ID
		}
		rows, err := s.rdb.QueryContext(ctx, "SELECT message_id, size, data FROM structures WHERE message_id IN ("+placeholders(len(part))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("read structures: %w", err)
		}
		for rows.Next() {
			var id, size int64
			var data []byte
			if err := rows.Scan(&id, &size, &data); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read structures: %w", err)
			}
			st := &mime.Structure{}
			if size != sizes[id] || st.UnmarshalBinary(data) != nil {
				continue // stale: computed again and replaced
			}
			out[id] = st
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read structures: %w", err)
		}
	}
	return out, nil
}

// computeStructure parses a message's file. keep is false when the parser
// failed (a panic, reported as an opaque body): such a structure is not
// recorded, so a fixed parser describes the message properly.
func (s *Store) computeStructure(ctx context.Context, m *Message) (st *mime.Structure, keep bool, err error) {
	f, err := s.OpenRaw(ctx, m.ID)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	defer func() {
		if v := recover(); v != nil {
			st = &mime.Structure{Body: &mime.Part{Type: "application", Subtype: "octet-stream", Size: m.Size}}
			keep, err = false, nil
		}
	}()
	st, err = mime.ParseStructure(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, false, fmt.Errorf("structure of message %d: %w", m.ID, err)
	}
	return st, true, nil
}

// recordStructures writes computed structures in one transaction,
// skipping messages expunged meanwhile. Errors are dropped: the rows are
// derived data (see Structures).
func (s *Store) recordStructures(ctx context.Context, rows []structureRow) {
	if len(rows) == 0 || s.lockWrite() != nil {
		return
	}
	defer s.wmu.Unlock()
	_ = s.withTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO structures (message_id, size, data)
				SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?)`, r.id, r.size, r.data, r.id); err != nil {
				return err
			}
		}
		return nil
	})
}
