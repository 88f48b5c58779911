package store

import (
	"context"
	"fmt"
	"slices"
)

// Parts of RemoteIndex, for a sync that needs only some of its rows. A
// sync of a mailbox where a few hundred flags changed and a few messages
// arrived should not read every message row: RemoteIndex reads each
// row's flags from the messages table, which for 10,000 messages in a
// fresh process is thousands of page reads. RemoteUIDs reads only the
// index of the small remote_uids table; RemoteRefs reads the message rows
// of the UIDs asked for, and LocalCandidates the messages without a
// remote UID that have given Message-IDs or store ids. Together they give
// RemoteIndex's rows:
//
//	RemoteIndex(mb) = RemoteRefs(mb, RemoteUIDs(mb)) + the rows without a
//	remote UID, LocalCandidates of their Message-IDs
//
// (in another order).

// remoteRefsChunk bounds the UIDs of one RemoteRefs query.
const remoteRefsChunk = 500

// RemoteUIDs returns the remote UIDs recorded for mailbox, ascending: those
// of its messages and those of messages moved out of it locally whose move
// the server has not seen yet (RemoteIndex's Elsewhere rows).
func (s *Store) RemoteUIDs(ctx context.Context, mailbox string) ([]uint32, error) {
	mbID, _, cname, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("remote uids: %w", err)
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT remote_uid FROM remote_uids WHERE mailbox_id = ? ORDER BY remote_uid", mbID)
	if err != nil {
		return nil, fmt.Errorf("remote uids %s: %w", cname, err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("remote uids %s: %w", cname, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("remote uids %s: %w", cname, err)
	}
	return out, nil
}

// RemoteRefs returns the rows of RemoteIndex(mailbox) whose remote UID is
// one of remote, ordered by remote UID; a UID the store does not know is
// left out. A row of a message moved elsewhere locally has Elsewhere set
// and only ID and RemoteUID, as in RemoteIndex.
func (s *Store) RemoteRefs(ctx context.Context, mailbox string, remote []uint32) ([]RemoteRef, error) {
	mbID, _, cname, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("remote refs: %w", err)
	}
	var out []RemoteRef
	for _, chunk := range chunkUIDs(remote, remoteRefsChunk) {
		rows, err := s.rdb.QueryContext(ctx, `SELECT r.message_id, r.remote_uid, r.partial, m.mailbox_id, m.uid, m.flags, m.modseq
			FROM remote_uids r JOIN messages m ON m.id = r.message_id
			WHERE r.mailbox_id = ? AND r.remote_uid IN (`+placeholders(len(chunk))+`)`,
			append([]any{mbID}, uidArgs(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("remote refs %s: %w", cname, err)
		}
		for rows.Next() {
			var r RemoteRef
			var partial int
			var msgMailbox int64
			var flags string
			if err := rows.Scan(&r.ID, &r.RemoteUID, &partial, &msgMailbox, &r.UID, &flags, &r.ModSeq); err != nil {
				rows.Close()
				return nil, fmt.Errorf("remote refs %s: %w", cname, err)
			}
			if msgMailbox != mbID {
				r = RemoteRef{ID: r.ID, RemoteUID: r.RemoteUID, Elsewhere: true}
			} else {
				r.Flags, r.Partial = splitFlags(flags), partial != 0
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("remote refs %s: %w", cname, err)
		}
	}
	slices.SortFunc(out, func(a, b RemoteRef) int { return int(int64(a.RemoteUID) - int64(b.RemoteUID)) })
	return out, nil
}

// LocalMessage is a message of a mailbox without a remote UID there:
// appended or moved there locally and not (yet) known on the server
// under this mailbox.
type LocalMessage struct {
	ID        int64
	UID       uint32
	MessageID string // as the index keeps it: without angle brackets
}

// LocalCandidates returns the messages of mailbox without a remote UID
// there (RemoteIndex's rows with RemoteUID 0) that have one of the
// Message-IDs mids (as the index keeps them) or one of the store ids ids.
// It reads them through the Message-ID index and by id, never every
// message of the mailbox: a sync that matches a few new server messages
// to local copies looks up just those.
func (s *Store) LocalCandidates(ctx context.Context, mailbox string, mids []string, ids []int64) ([]LocalMessage, error) {
	mbID, _, cname, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("local candidates: %w", err)
	}
	// "+m.mailbox_id" keeps the planner off the mailbox's index, which
	// would walk every message of the mailbox.
	const q = `SELECT m.id, m.uid, m.message_id FROM messages m WHERE %s AND +m.mailbox_id = ?
		AND NOT EXISTS (SELECT 1 FROM remote_uids r WHERE r.message_id = m.id AND r.mailbox_id = m.mailbox_id)`
	seen := map[int64]bool{}
	var out []LocalMessage
	scan := func(where string, args []any) error {
		rows, err := s.rdb.QueryContext(ctx, fmt.Sprintf(q, where), append(args, mbID)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m LocalMessage
			if err := rows.Scan(&m.ID, &m.UID, &m.MessageID); err != nil {
				return err
			}
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
		return rows.Err()
	}
	for start := 0; start < len(mids); start += remoteRefsChunk {
		chunk := mids[start:min(start+remoteRefsChunk, len(mids))]
		args := make([]any, len(chunk))
		for i, m := range chunk {
			args[i] = m
		}
		if err := scan("m.message_id IN ("+placeholders(len(chunk))+")", args); err != nil {
			return nil, fmt.Errorf("local candidates %s: %w", cname, err)
		}
	}
	for start := 0; start < len(ids); start += remoteRefsChunk {
		chunk := ids[start:min(start+remoteRefsChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := scan("m.id IN ("+placeholders(len(chunk))+")", args); err != nil {
			return nil, fmt.Errorf("local candidates %s: %w", cname, err)
		}
	}
	slices.SortFunc(out, func(a, b LocalMessage) int { return int(int64(a.UID) - int64(b.UID)) })
	return out, nil
}
