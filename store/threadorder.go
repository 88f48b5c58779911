package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The thread order of a mailbox, kept in the index so a threaded listing
// pages by keyset like the date order (schema version 10).
//
// Every message row carries:
//   - thread_date: its thread's latest date (threads.last_date), copied
//     by triggers when the thread's date changes or the message joins
//     a thread;
//   - thread_order: minus its place in its thread's tree within its
//     mailbox (0 for the first message, -1 for the next...), parents
//     before their replies, siblings oldest first;
//   - thread_depth: how many of its ancestors are in the mailbox.
//
// The index messages_by_thread_order (mailbox_id, thread_date DESC,
// thread_id DESC, thread_order DESC) is the listing's order: newest
// thread first, each thread's messages as a tree. Triggers note in
// thread_dirty the (mailbox, thread) pairs whose messages came, went or
// changed thread, or whose thread's date changed, whoever writes (any
// process, any code path); a threaded listing (List, ListCount,
// Position) first lays those threads out again (catchUpThreads), as a
// search first catches up the full text. So appends pay only for the
// notes (a store that is never listed by thread, a server's, pays
// nothing more), and the order is never stale when read.

// migrateThreadOrder brings a store of schema version from up to the
// thread order: the columns, the index, the triggers, and every thread
// laid out (on 100,000 messages, a few seconds, once).
func migrateThreadOrder(ctx context.Context, db *sql.DB, from int) error {
	if from >= 10 {
		return nil
	}
	have := map[string]bool{}
	rows, err := db.QueryContext(ctx, "SELECT name FROM pragma_table_info('messages')")
	if err != nil {
		return err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, col := range []string{"thread_date", "thread_order", "thread_depth"} {
		if !have[col] {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE messages ADD COLUMN "+col+" INTEGER NOT NULL DEFAULT 0"); err != nil {
				return fmt.Errorf("add column %s: %w", col, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, threadOrderSchema); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO thread_dirty(mailbox_id, thread_id) SELECT DISTINCT mailbox_id, thread_id FROM messages`); err != nil {
		return err
	}
	if err := orderThreads(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// threadOrderSchema is the index, the notes and the triggers.
const threadOrderSchema = `
CREATE INDEX IF NOT EXISTS messages_by_thread_order ON messages (mailbox_id, thread_date DESC, thread_id DESC, thread_order DESC);
CREATE TABLE IF NOT EXISTS thread_dirty (
	mailbox_id INTEGER NOT NULL,
	thread_id  INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, thread_id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS thread_order_insert AFTER INSERT ON messages BEGIN
	INSERT OR IGNORE INTO thread_dirty(mailbox_id, thread_id) VALUES (NEW.mailbox_id, NEW.thread_id);
END;
CREATE TRIGGER IF NOT EXISTS thread_order_delete AFTER DELETE ON messages BEGIN
	INSERT OR IGNORE INTO thread_dirty(mailbox_id, thread_id) VALUES (OLD.mailbox_id, OLD.thread_id);
END;
CREATE TRIGGER IF NOT EXISTS thread_order_move AFTER UPDATE OF mailbox_id, thread_id ON messages
WHEN OLD.mailbox_id != NEW.mailbox_id OR OLD.thread_id != NEW.thread_id BEGIN
	INSERT OR IGNORE INTO thread_dirty(mailbox_id, thread_id) VALUES (OLD.mailbox_id, OLD.thread_id), (NEW.mailbox_id, NEW.thread_id);
END;
CREATE TRIGGER IF NOT EXISTS thread_order_date AFTER UPDATE OF last_date ON threads
WHEN OLD.last_date != NEW.last_date BEGIN
	INSERT OR IGNORE INTO thread_dirty(mailbox_id, thread_id) VALUES (0, NEW.id);
END;
`

// threadRow is what laying a thread out reads of a message.
type threadRow struct {
	id        int64
	msgID     string
	inReplyTo string
	refs      []string
	date      int64
	order     int
	depth     int
	tdate     int64
}

// catchUpThreads lays out the threads noted in thread_dirty, under the
// writer lock; a threaded listing calls it first. Without notes it only
// reads.
func (s *Store) catchUpThreads(ctx context.Context) error {
	var dirty bool
	if err := s.rdb.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM thread_dirty)").Scan(&dirty); err != nil {
		return fmt.Errorf("thread order: %w", err)
	}
	if !dirty {
		return nil
	}
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	return s.withTx(ctx, func(tx *sql.Tx) error { return orderThreads(ctx, tx) })
}

// orderThreads lays out the threads noted in thread_dirty, in tx, and
// clears the notes. Rows whose place did not change are not written.
func orderThreads(ctx context.Context, tx sqlTx) error {
	rows, err := tx.QueryContext(ctx, "SELECT mailbox_id, thread_id FROM thread_dirty")
	if err != nil {
		return fmt.Errorf("thread order: %w", err)
	}
	type pair struct{ mb, thread int64 }
	var dirty []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.mb, &p.thread); err != nil {
			rows.Close()
			return err
		}
		dirty = append(dirty, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(dirty) == 0 {
		return nil
	}
	// A note of mailbox 0 says the thread's date changed: every mailbox
	// holding it is laid out (for its thread_date).
	todo := map[pair]bool{}
	for _, p := range dirty {
		if p.mb != 0 {
			todo[p] = true
			continue
		}
		mbs, err := tx.QueryContext(ctx, "SELECT DISTINCT mailbox_id FROM messages INDEXED BY messages_by_thread WHERE thread_id = ?", p.thread)
		if err != nil {
			return fmt.Errorf("thread order: %w", err)
		}
		for mbs.Next() {
			q := pair{thread: p.thread}
			if err := mbs.Scan(&q.mb); err != nil {
				mbs.Close()
				return err
			}
			todo[q] = true
		}
		mbs.Close()
		if err := mbs.Err(); err != nil {
			return err
		}
	}
	for p := range todo {
		if err := orderThread(ctx, tx, p.mb, p.thread); err != nil {
			return fmt.Errorf("thread order of thread %d: %w", p.thread, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM thread_dirty"); err != nil {
		return fmt.Errorf("thread order: %w", err)
	}
	return nil
}

// orderThread lays out one thread of one mailbox.
func orderThread(ctx context.Context, tx sqlTx, mb, thread int64) error {
	var last int64
	switch err := tx.QueryRowContext(ctx, "SELECT last_date FROM threads WHERE id = ?", thread).Scan(&last); {
	case errors.Is(err, sql.ErrNoRows):
		last = -1 // no such thread: each message's own date
	case err != nil:
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, message_id, in_reply_to, refs, date, thread_order, thread_depth, thread_date
		FROM messages INDEXED BY messages_by_thread WHERE thread_id = ? AND mailbox_id = ?`, thread, mb)
	if err != nil {
		return err
	}
	var msgs []threadRow
	for rows.Next() {
		var r threadRow
		var refs string
		if err := rows.Scan(&r.id, &r.msgID, &r.inReplyTo, &refs, &r.date, &r.order, &r.depth, &r.tdate); err != nil {
			rows.Close()
			return err
		}
		r.refs = strings.Fields(refs)
		msgs = append(msgs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i, pos := range threadTree(msgs) {
		order, depth, tdate := -pos.place, pos.depth, last
		if last < 0 {
			tdate = msgs[i].date
		}
		if msgs[i].order == order && msgs[i].depth == depth && msgs[i].tdate == tdate {
			continue
		}
		if _, err := tx.ExecContext(ctx, "UPDATE messages SET thread_order = ?, thread_depth = ?, thread_date = ? WHERE id = ?",
			order, depth, tdate, msgs[i].id); err != nil {
			return err
		}
	}
	return nil
}

// treePlace is a message's place in its thread: its rank in the tree
// walk and its depth.
type treePlace struct{ place, depth int }

// threadTree returns the place of each of msgs (one thread of one
// mailbox): a message's parent is the nearest message it answers that
// is among msgs (In-Reply-To, then References from the last); the tree
// is walked depth first, parents before their replies, messages with
// the same parent oldest first. Messages caught in a reference cycle
// start trees of their own.
func threadTree(msgs []threadRow) []treePlace {
	byMsgID := make(map[string]int, len(msgs))
	for i, m := range msgs {
		if m.msgID != "" {
			if _, dup := byMsgID[m.msgID]; !dup {
				byMsgID[m.msgID] = i
			}
		}
	}
	parent := make([]int, len(msgs))
	for i, m := range msgs {
		parent[i] = -1
		cands := make([]string, 0, 1+len(m.refs))
		cands = append(cands, m.inReplyTo)
		for k := len(m.refs) - 1; k >= 0; k-- {
			cands = append(cands, m.refs[k])
		}
		for _, c := range cands {
			if j, ok := byMsgID[c]; ok && c != "" && j != i {
				parent[i] = j
				break
			}
		}
	}
	// A parent chain that comes back to itself is cut where it closes.
	for i := range msgs {
		seen := map[int]bool{i: true}
		for j := parent[i]; j >= 0; j = parent[j] {
			if seen[j] {
				parent[i] = -1
				break
			}
			seen[j] = true
		}
	}
	children := make([][]int, len(msgs))
	var roots []int
	for i := range msgs {
		if parent[i] < 0 {
			roots = append(roots, i)
		} else {
			children[parent[i]] = append(children[parent[i]], i)
		}
	}
	older := func(list []int) {
		sort.Slice(list, func(a, b int) bool {
			x, y := msgs[list[a]], msgs[list[b]]
			return x.date < y.date || x.date == y.date && x.id < y.id
		})
	}
	older(roots)
	out := make([]treePlace, len(msgs))
	placed := make([]bool, len(msgs))
	next := 0
	type frame struct{ i, depth int }
	var stack []frame
	walk := func(root int) {
		stack = append(stack[:0], frame{root, 0})
		for len(stack) > 0 {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if placed[f.i] {
				continue
			}
			placed[f.i] = true
			out[f.i] = treePlace{place: next, depth: f.depth}
			next++
			kids := children[f.i]
			older(kids)
			for k := len(kids) - 1; k >= 0; k-- {
				stack = append(stack, frame{kids[k], f.depth + 1})
			}
		}
	}
	for _, r := range roots {
		walk(r)
	}
	for i := range msgs { // unreachable (cannot happen after the cut): keep them listed
		if !placed[i] {
			walk(i)
		}
	}
	return out
}
