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
// index of the small remote_uids table; RemoteRefs and LocalOnly read
// the message rows of the UIDs asked for, or of the messages without a
// remote UID. Together they give what RemoteIndex gives:
//
//	RemoteIndex(mb) = RemoteRefs(mb, RemoteUIDs(mb)) + LocalOnly(mb)
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

// LocalOnly returns the rows of RemoteIndex(mailbox) without a remote
// UID: the messages of mailbox the server does not have, or not under
// this mailbox (appended or moved here locally, not yet replayed),
// ordered by local UID.
func (s *Store) LocalOnly(ctx context.Context, mailbox string) ([]RemoteRef, error) {
	mbID, _, cname, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("local only: %w", err)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT m.id, m.uid, m.flags, m.modseq FROM messages m
		WHERE m.mailbox_id = ? AND NOT EXISTS (SELECT 1 FROM remote_uids r WHERE r.message_id = m.id AND r.mailbox_id = m.mailbox_id)
		ORDER BY m.uid`, mbID)
	if err != nil {
		return nil, fmt.Errorf("local only %s: %w", cname, err)
	}
	defer rows.Close()
	var out []RemoteRef
	for rows.Next() {
		var r RemoteRef
		var flags string
		if err := rows.Scan(&r.ID, &r.UID, &flags, &r.ModSeq); err != nil {
			return nil, fmt.Errorf("local only %s: %w", cname, err)
		}
		r.Flags = splitFlags(flags)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("local only %s: %w", cname, err)
	}
	return out, nil
}
