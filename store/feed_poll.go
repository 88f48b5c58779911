package store

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"time"
)

// The poll that turns other processes' commits into Change values.
//
// While the store has subscribers, a goroutine with its own read
// connection asks SQLite every pollEvery whether any other connection
// committed (PRAGMA data_version). When one did, it reads, in one read
// transaction, the MODSEQ counter and the mailboxes, and for the MODSEQs
// since its last look that this process did not hand out (feed.noteOwn):
//
//   - mailbox_changes rows: ChangeMailboxCreated, Renamed, Deleted;
//   - message rows of the mailboxes whose HIGHESTMODSEQ moved:
//     ChangeMessageAdded for UIDs at or above the mailbox's UIDNEXT at the
//     last look, ChangeFlags for the others;
//   - expunged rows: ChangeExpunged (of UIDs announced before).
//
// Every change that other processes' subscribers must hear of hands out
// a MODSEQ (mailbox creates, renames and deletes too), so the MODSEQ
// counter alone says whether there is anything to read. Changes come
// ordered by MODSEQ; a message that changed twice since the last look is
// announced once, in its latest state, and an expunged message's Change
// has no ID (the row is gone).

// pollEvery is how often the poll asks whether others committed.
const pollEvery = 250 * time.Millisecond

// poller is a running poll.
type poller struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// stop ends the poll and waits for it; a nil poller is stopped.
func (p *poller) stop() {
	if p == nil {
		return
	}
	p.cancel()
	<-p.done
}

// pollState is what the poll saw at its last look.
type pollState struct {
	modseq uint64
	boxes  map[int64]pollBox
}

type pollBox struct {
	uidnext uint32
	highest uint64
}

// startPoll opens the poll's connection, reads the state it starts from
// (so a change committed after Subscribe returns is announced), and
// starts the poll goroutine; the caller holds feed.mu. When the index
// cannot be read now, the goroutine keeps trying.
func (s *Store) startPoll() *poller {
	ctx, cancel := context.WithCancel(context.Background())
	p := &poller{cancel: cancel, done: make(chan struct{})}
	db, err := sql.Open("sqlite", s.readDSN)
	if err != nil {
		close(p.done)
		return p
	}
	db.SetMaxOpenConns(1)
	var st *pollState
	var seen int64 = -1
	conn, err := db.Conn(ctx)
	if err == nil {
		if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&seen); err == nil {
			if _, st, err = s.pollOnce(ctx, conn, nil); err != nil {
				seen = -1
			}
		}
	}
	go s.runPoll(ctx, p, db, conn, st, seen)
	return p
}

func (s *Store) runPoll(ctx context.Context, p *poller, db *sql.DB, conn *sql.Conn, st *pollState, seen int64) {
	defer close(p.done)
	defer db.Close()
	ticker := time.NewTicker(pollEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			if conn != nil {
				conn.Close()
			}
			return
		case <-ticker.C:
		}
		if conn == nil {
			c, err := db.Conn(ctx)
			if err != nil {
				continue
			}
			conn = c
		}
		// data_version changes when another connection (this process's
		// writer included) commits.
		var v int64
		if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil || (v == seen && st != nil) {
			continue
		}
		changes, next, err := s.pollOnce(ctx, conn, st)
		if err != nil {
			continue
		}
		seen, st = v, next
		s.feed.publish(changes)
	}
}

// pollOnce reads what changed since st (nil: only the state to start
// from) and returns it with the new state.
func (s *Store) pollOnce(ctx context.Context, conn *sql.Conn, st *pollState) ([]Change, *pollState, error) {
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	var m sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'modseq'").Scan(&m); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, err
	}
	next := &pollState{modseq: uint64(m.Int64), boxes: map[int64]pollBox{}}
	rows, err := tx.QueryContext(ctx, "SELECT id, uidnext, highestmodseq FROM mailboxes")
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id int64
		var b pollBox
		if err := rows.Scan(&id, &b.uidnext, &b.highest); err != nil {
			rows.Close()
			return nil, nil, err
		}
		next.boxes[id] = b
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if st == nil || next.modseq <= st.modseq || s.feed.allOwn(st.modseq, next.modseq) {
		s.feed.forgetOwn(next.modseq)
		return nil, next, nil
	}
	out, err := s.foreignChanges(ctx, tx, st, next)
	if err != nil {
		return nil, nil, err
	}
	s.feed.forgetOwn(next.modseq)
	return out, next, nil
}

// foreignChanges reads the changes of MODSEQs in (st.modseq,
// next.modseq] that this process did not make.
func (s *Store) foreignChanges(ctx context.Context, tx *sql.Tx, st, next *pollState) ([]Change, error) {
	from, to := st.modseq, next.modseq
	var out []Change
	rows, err := tx.QueryContext(ctx, "SELECT modseq, kind, mailbox_id, name, old_name FROM mailbox_changes WHERE modseq > ? AND modseq <= ?", from, to)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.ModSeq, &c.Kind, &c.MailboxID, &c.Mailbox, &c.OldName); err != nil {
			rows.Close()
			return nil, err
		}
		if !s.feed.isOwn(c.ModSeq) {
			out = append(out, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for id, b := range next.boxes {
		if b.highest > from {
			var name string
			if err := tx.QueryRowContext(ctx, "SELECT name FROM mailboxes WHERE id = ?", id).Scan(&name); err != nil {
				return nil, err
			}
			names[id] = name
		}
	}
	for id, name := range names {
		prev := uint32(1) // a mailbox new since the last look: all is added
		if b, ok := st.boxes[id]; ok {
			prev = b.uidnext
		}
		rows, err := tx.QueryContext(ctx, "SELECT id, uid, modseq, flags FROM messages WHERE mailbox_id = ? AND modseq > ? AND modseq <= ?", id, from, to)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			c := Change{MailboxID: id, Mailbox: name}
			var flags string
			if err := rows.Scan(&c.ID, &c.UID, &c.ModSeq, &flags); err != nil {
				rows.Close()
				return nil, err
			}
			if s.feed.isOwn(c.ModSeq) {
				continue
			}
			c.Flags = splitFlags(flags)
			c.Kind = ChangeFlags
			if c.UID >= prev {
				c.Kind = ChangeMessageAdded
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		rows, err = tx.QueryContext(ctx, "SELECT uid, modseq FROM expunged WHERE mailbox_id = ? AND modseq > ? AND modseq <= ?", id, from, to)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			c := Change{Kind: ChangeExpunged, MailboxID: id, Mailbox: name}
			if err := rows.Scan(&c.UID, &c.ModSeq); err != nil {
				rows.Close()
				return nil, err
			}
			if c.UID < prev && !s.feed.isOwn(c.ModSeq) {
				out = append(out, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ModSeq < out[j].ModSeq })
	return out, nil
}
