package store

// The client's sync state lives in the store's index, beside the messages
// it describes, so that "this message came from remote UID 42" is
// committed in the same transaction as the message itself: an
// interrupted sync can never store a message without remembering where it
// came from, which is what makes re-running a sync free of duplicates.
//
//	remote_uids  message id -> (mailbox, IMAP UID on the server, partial)
//	remote_ids   POP3 UIDL (or another stable remote id) -> message id;
//	             kept after the message is deleted, so it is never fetched
//	             again
//	sync_state   key/value: per-mailbox UIDVALIDITY, last UID, MODSEQ
//	journal      local changes not yet replayed on the server
//
// The server never uses these tables.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Remote ties a stored message to its copy on a remote server.
type Remote struct {
	// UID is the message's IMAP UID in the server mailbox this store
	// mailbox mirrors; 0 for none.
	UID uint32
	// Partial marks a message of which only the header was fetched;
	// ReplaceBody completes it. Only meaningful with UID.
	Partial bool
	// ID is a stable remote id such as a POP3 UIDL. It is remembered even
	// after the message is deleted, so HasRemoteIDs keeps answering yes.
	ID string
}

// RemoteRef is one row of RemoteIndex: a message of the mailbox and its
// remote UID, or a remote UID of the mailbox whose message was moved to
// another mailbox locally (Elsewhere).
type RemoteRef struct {
	ID        int64
	UID       uint32 // local UID; 0 when Elsewhere
	RemoteUID uint32 // 0 for a message not (yet) on the server
	Flags     []string
	ModSeq    uint64
	Partial   bool
	// Elsewhere is set when the message now lives in another local
	// mailbox (a local move not yet replayed on the server).
	Elsewhere bool
}

// RemotePair maps a local UID to a remote UID.
type RemotePair struct {
	UID, RemoteUID uint32
}

// RemoteIDInfo describes one remembered remote id.
type RemoteIDInfo struct {
	Key       string
	MessageID int64
	Created   time.Time
	// Present is false when the local message was deleted.
	Present bool
	// ServerGone is set once the message was deleted on the server.
	ServerGone bool
}

// JournalEntry is one pending local change, to be replayed on the server.
type JournalEntry struct {
	ID        int64
	Op        string
	Payload   []byte
	Created   time.Time
	Attempts  int
	LastError string
	// Failed marks a change the server refused for good (JournalGiveUp):
	// it stays, with the server's words in LastError, until JournalRetry
	// or JournalDone.
	Failed bool
}

func insertRemote(ctx context.Context, tx *sql.Tx, id, mbID int64, r Remote) error {
	if r.UID != 0 {
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO remote_uids(message_id, mailbox_id, remote_uid, partial) VALUES(?, ?, ?, ?)",
			id, mbID, r.UID, boolInt(r.Partial)); err != nil {
			return fmt.Errorf("remote uid: %w", err)
		}
	}
	if r.ID != "" {
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO remote_ids(key, message_id, created) VALUES(?, ?, ?)",
			r.ID, id, time.Now().Unix()); err != nil {
			return fmt.Errorf("remote id: %w", err)
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RemoteIndex lists every message of mailbox with its remote UID (0 when
// it has none), followed by the remote UIDs of this mailbox whose message
// was moved elsewhere locally. Sorted by local UID.
func (s *Store) RemoteIndex(ctx context.Context, mailbox string) ([]RemoteRef, error) {
	mbID, _, cname, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("remote index: %w", err)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT m.id, m.uid, COALESCE(r.remote_uid, 0), m.flags, m.modseq, COALESCE(r.partial, 0)
		FROM messages m LEFT JOIN remote_uids r ON r.message_id = m.id AND r.mailbox_id = m.mailbox_id
		WHERE m.mailbox_id = ? ORDER BY m.uid`, mbID)
	if err != nil {
		return nil, fmt.Errorf("remote index %s: %w", cname, err)
	}
	var out []RemoteRef
	for rows.Next() {
		var r RemoteRef
		var flags string
		var partial int
		if err := rows.Scan(&r.ID, &r.UID, &r.RemoteUID, &flags, &r.ModSeq, &partial); err != nil {
			rows.Close()
			return nil, fmt.Errorf("remote index %s: %w", cname, err)
		}
		r.Flags, r.Partial = splitFlags(flags), partial != 0
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("remote index %s: %w", cname, err)
	}
	rows, err = s.rdb.QueryContext(ctx, `SELECT r.message_id, r.remote_uid FROM remote_uids r
		JOIN messages m ON m.id = r.message_id WHERE r.mailbox_id = ? AND m.mailbox_id != ?`, mbID, mbID)
	if err != nil {
		return nil, fmt.Errorf("remote index %s: %w", cname, err)
	}
	defer rows.Close()
	for rows.Next() {
		r := RemoteRef{Elsewhere: true}
		if err := rows.Scan(&r.ID, &r.RemoteUID); err != nil {
			return nil, fmt.Errorf("remote index %s: %w", cname, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetRemoteUIDs records the remote UIDs of messages of mailbox (after an
// APPEND or MOVE replayed on the server told them, RFC 4315), replacing
// any previous mapping of those messages.
func (s *Store) SetRemoteUIDs(ctx context.Context, mailbox string, pairs []RemotePair) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	mbID, _, cname, err := s.mailboxDirOf(ctx, mailbox)
	if err != nil {
		return fmt.Errorf("set remote uids: %w", err)
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		for _, p := range pairs {
			var id int64
			err := tx.QueryRowContext(ctx, "SELECT id FROM messages WHERE mailbox_id = ? AND uid = ?", mbID, p.UID).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				continue // expunged meanwhile
			}
			if err != nil {
				return err
			}
			// A remote UID is never reused, so an older mapping of it
			// (a message moved away and back) is dropped.
			if _, err := tx.ExecContext(ctx, "DELETE FROM remote_uids WHERE mailbox_id = ? AND remote_uid = ? AND message_id != ?", mbID, p.RemoteUID, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO remote_uids(message_id, mailbox_id, remote_uid) VALUES(?, ?, ?)
				ON CONFLICT(message_id) DO UPDATE SET mailbox_id = excluded.mailbox_id, remote_uid = excluded.remote_uid`, id, mbID, p.RemoteUID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set remote uids in %s: %w", cname, err)
	}
	return nil
}

// ForgetRemoteUIDs drops the remote UID mapping of messages by store id
// (for example after their move was replayed and the server did not
// report the new UIDs).
func (s *Store) ForgetRemoteUIDs(ctx context.Context, ids []int64) error {
	return execEach(ctx, s, "forget remote uids", "DELETE FROM remote_uids WHERE message_id = ?", ids)
}

// ResetRemote forgets every remote UID of mailbox, as after a UIDVALIDITY
// change: the messages stay, and a sync matches them again.
func (s *Store) ResetRemote(ctx context.Context, mailbox string) error {
	mbID, _, cname, err := s.mailboxDirOf(ctx, mailbox)
	if err != nil {
		return fmt.Errorf("reset remote: %w", err)
	}
	if err := execEach(ctx, s, "reset remote "+cname, "DELETE FROM remote_uids WHERE mailbox_id = ?", []int64{mbID}); err != nil {
		return err
	}
	return nil
}

// ReplaceBody replaces the file of a partial message (header only) with
// the complete message read from r, keeping its UID, flags and envelope,
// and re-indexes its text. The old file is replaced atomically. It is
// ReplaceBodies of one.
func (s *Store) ReplaceBody(ctx context.Context, mailbox string, uid uint32, r io.Reader) error {
	errs, err := s.ReplaceBodies(ctx, mailbox, []Body{{UID: uid, R: r}})
	if err != nil {
		return err
	}
	return errs[0]
}

// HasRemoteIDs reports which of keys were ever stored with Remote.ID.
// A key longer than a file name can carry is also found under the hash
// an orphan's name restores it by (identity.go).
func (s *Store) HasRemoteIDs(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	asked := make([]string, 0, len(keys))
	hashed := map[string]string{}
	for _, k := range keys {
		asked = append(asked, k)
		if len(k) > idInName {
			h := hashedRemoteID(k)
			hashed[h] = k
			asked = append(asked, h)
		}
	}
	for start := 0; start < len(asked); start += 500 {
		chunk := asked[start:min(start+500, len(asked))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		rows, err := s.rdb.QueryContext(ctx, "SELECT key FROM remote_ids WHERE key IN (?"+strings.Repeat(", ?", len(chunk)-1)+")", args...)
		if err != nil {
			return nil, fmt.Errorf("remote ids: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("remote ids: %w", err)
			}
			if long, ok := hashed[k]; ok {
				k = long
			}
			out[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("remote ids: %w", err)
		}
	}
	return out, nil
}

// RemoteIDs lists every remembered remote id, oldest first.
func (s *Store) RemoteIDs(ctx context.Context) ([]RemoteIDInfo, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT r.key, r.message_id, r.created, m.id IS NOT NULL, r.server_gone
		FROM remote_ids r LEFT JOIN messages m ON m.id = r.message_id ORDER BY r.created, r.key`)
	if err != nil {
		return nil, fmt.Errorf("remote ids: %w", err)
	}
	defer rows.Close()
	var out []RemoteIDInfo
	for rows.Next() {
		var r RemoteIDInfo
		var created int64
		if err := rows.Scan(&r.Key, &r.MessageID, &created, &r.Present, &r.ServerGone); err != nil {
			return nil, fmt.Errorf("remote ids: %w", err)
		}
		r.Created = time.Unix(created, 0)
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkRemoteIDsGone records that the server no longer has these messages
// (deleted there by policy, or vanished); the ids stay remembered.
func (s *Store) MarkRemoteIDsGone(ctx context.Context, keys []string) error {
	return execEach(ctx, s, "mark remote ids gone", "UPDATE remote_ids SET server_gone = 1 WHERE key = ?", keys)
}

// RememberRemoteIDs records remote ids with no local message (for
// example "skip what the server already had when the account was
// added").
func (s *Store) RememberRemoteIDs(ctx context.Context, keys []string) error {
	now := time.Now().Unix()
	return execEach(ctx, s, "remember remote ids", fmt.Sprintf("INSERT OR IGNORE INTO remote_ids(key, message_id, created) VALUES(?, 0, %d)", now), keys)
}

// SyncState returns the value stored under key, or "" when there is none.
func (s *Store) SyncState(ctx context.Context, key string) (string, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, "SELECT value FROM sync_state WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sync state %s: %w", key, err)
	}
	return v, nil
}

// SetSyncState stores key/value pairs in one transaction; an empty value
// deletes the key.
func (s *Store) SetSyncState(ctx context.Context, kv map[string]string) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		for k, v := range kv {
			q, args := "INSERT INTO sync_state(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", []any{k, v}
			if v == "" {
				q, args = "DELETE FROM sync_state WHERE key = ?", []any{k}
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set sync state: %w", err)
	}
	return nil
}

// JournalAdd appends a pending local change and returns its id. Callers
// write the entry before applying the change locally, so a crash between
// the two replays a change the store does not show yet, which the next
// sync brings back; never the reverse.
func (s *Store) JournalAdd(ctx context.Context, op string, payload []byte) (int64, error) {
	if err := s.lockWrite(); err != nil {
		return 0, err
	}
	defer s.wmu.Unlock()
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO journal(op, payload, created) VALUES(?, ?, ?)", op, string(payload), time.Now().UnixNano())
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("journal %s: %w", op, err)
	}
	return id, nil
}

// Journal lists the pending changes in the order they were made, the
// failed ones (Failed) included.
func (s *Store) Journal(ctx context.Context) ([]JournalEntry, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT j.id, j.op, j.payload, j.created, j.attempts, j.last_error, f.journal_id IS NOT NULL
		FROM journal j LEFT JOIN journal_failed f ON f.journal_id = j.id ORDER BY j.id`)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []JournalEntry
	for rows.Next() {
		var e JournalEntry
		var payload string
		var created int64
		if err := rows.Scan(&e.ID, &e.Op, &payload, &created, &e.Attempts, &e.LastError, &e.Failed); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		e.Payload, e.Created = []byte(payload), time.Unix(0, created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// JournalDone removes replayed entries.
func (s *Store) JournalDone(ctx context.Context, ids ...int64) error {
	return execEach(ctx, s, "journal done", "DELETE FROM journal WHERE id = ?", ids)
}

// JournalFailed records a failed replay attempt of an entry.
func (s *Store) JournalFailed(ctx context.Context, id int64, reason string) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE journal SET attempts = attempts + 1, last_error = ? WHERE id = ?", reason, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal failed %d: %w", id, err)
	}
	return nil
}

// execEach runs q once per argument in one write transaction.
func execEach[T any](ctx context.Context, s *Store, what, q string, args []T) error {
	if len(args) == 0 {
		return nil
	}
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		for _, a := range args {
			if _, err := tx.ExecContext(ctx, q, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// RemoteCount counts the remote UIDs recorded for mailbox, including
// those of messages moved elsewhere locally (as RemoteIndex lists them):
// with the server's message count and UIDNEXT it tells a sync that
// nothing arrived or left, without reading the whole index.
func (s *Store) RemoteCount(ctx context.Context, mailbox string) (int, error) {
	mbID, _, cname, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		return 0, fmt.Errorf("remote count: %w", err)
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM remote_uids WHERE mailbox_id = ?", mbID).Scan(&n); err != nil {
		return 0, fmt.Errorf("remote count %s: %w", cname, err)
	}
	return n, nil
}

// partialUIDsQuery lists the partial messages of a mailbox (both ?s are
// its id). CROSS JOIN keeps remote_uids outside, so the remote_partial
// index finds the few rows at once instead of a walk of every message in
// uid order.
const partialUIDsQuery = `SELECT m.uid, r.remote_uid FROM remote_uids r CROSS JOIN messages m ON m.id = r.message_id
		WHERE r.mailbox_id = ? AND m.mailbox_id = ? AND r.partial = 1 ORDER BY m.uid`

// PartialUIDs lists the messages of mailbox stored with their header only
// (Remote.Partial), as local and remote UID pairs.
func (s *Store) PartialUIDs(ctx context.Context, mailbox string) ([]RemotePair, error) {
	mbID, _, cname, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("partial uids: %w", err)
	}
	rows, err := s.rdb.QueryContext(ctx, partialUIDsQuery, mbID, mbID)
	if err != nil {
		return nil, fmt.Errorf("partial uids %s: %w", cname, err)
	}
	defer rows.Close()
	var out []RemotePair
	for rows.Next() {
		var p RemotePair
		if err := rows.Scan(&p.UID, &p.RemoteUID); err != nil {
			return nil, fmt.Errorf("partial uids %s: %w", cname, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
