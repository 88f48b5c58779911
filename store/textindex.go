package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/letterbox-mail/letterbox/store/mime"

	"github.com/letterbox-mail/letterbox/store/query"
)

// Deferred full-text indexing (Options.DeferText). A delivery commits the
// message row and a row in fts_pending instead of its full-text row; a
// background indexer turns pending rows into full-text rows in large
// transactions when the store has been idle for textIdle, or at once when
// textHighWater messages wait. Every search that reads the full-text
// index first indexes whatever waits (catchUpText), so a search never
// misses a delivered message. Dovecot's indexer works the same way.
//
// The full text takes its disk space late: on a disk filled by
// deliveries, indexing (and so a full-text search) fails with the
// disk's error until there is room, then catches up in batches as small
// as the room allows (indexTextStep). No message is lost either way.
//
// Large batches keep that later work small: FTS5 writes a segment per
// transaction, and one segment for a thousand messages shares the terms
// that many small ones would each write and later merge. Measured, the
// indexing after a burst costs about what indexing inside it did
// (docs/BENCHMARKS.md); what is gained is that deliveries do not wait for
// it.

const (
	// textIdle is how long appends must pause before the indexer runs.
	textIdle = 500 * time.Millisecond
	// textHighWater is the backlog at which the indexer runs without
	// waiting for a pause, so a search never has much to catch up.
	textHighWater = 10000
	// textBatch caps the messages of one indexing transaction; the
	// writer lock is released between batches.
	textBatch = 1000
	// textBatchBytes caps the body text held in memory by one batch.
	textBatchBytes = 32 << 20
)

// textIndexer is a store's deferred full-text indexer.
type textIndexer struct {
	mu      sync.Mutex   // serialises indexing passes
	pending atomic.Int64 // rows in fts_pending, counted as they commit
	last    atomic.Int64 // time of the last deferred append, UnixNano
	idle    time.Duration
	wake    chan struct{}
	stop    context.CancelFunc // ends runText
	done    chan struct{}      // closed when runText has returned
}

// startText starts the background indexer; Close stops it.
func (s *Store) startText(ctx context.Context) error {
	t := &s.text
	t.wake = make(chan struct{}, 1)
	t.done = make(chan struct{})
	var n int64
	if err := s.wdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM fts_pending").Scan(&n); err != nil {
		return fmt.Errorf("count messages awaiting full-text indexing: %w", err)
	}
	t.pending.Store(n)
	t.idle = textIdle
	if s.opts.textIdle > 0 {
		t.idle = s.opts.textIdle
	}
	rctx, stop := context.WithCancel(context.Background())
	t.stop = stop
	go s.runText(rctx)
	if n > 0 {
		s.wakeText()
	}
	return nil
}

// stopText stops the background indexer and waits for it; what is still
// pending stays in fts_pending for the next Open.
func (s *Store) stopText() {
	if s.text.stop == nil {
		return
	}
	s.text.stop()
	<-s.text.done
}

// deferredText records that n messages were committed with pending
// full-text rows, and wakes the indexer.
func (s *Store) deferredText(n int) {
	s.text.last.Store(time.Now().UnixNano())
	s.text.pending.Add(int64(n))
	s.wakeText()
}

func (s *Store) wakeText() {
	select {
	case s.text.wake <- struct{}{}:
	default:
	}
}

// runText is the background indexer: after each wake-up it waits for a
// pause in appends (or a backlog of textHighWater), then indexes batches
// until nothing is pending. Cancelling ctx (Close) stops it.
func (s *Store) runText(ctx context.Context) {
	t := &s.text
	defer close(t.done)
	timer := time.NewTimer(0)
	<-timer.C
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		}
		for t.pending.Load() > 0 {
			wait := time.Until(time.Unix(0, t.last.Load()).Add(t.idle))
			if wait > 0 && t.pending.Load() < textHighWater {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					timer.Stop()
					return
				case <-timer.C:
				}
				continue
			}
			n, err := s.indexTextStep(ctx)
			if err != nil || n == 0 {
				// A failing disk: the rows stay pending, and the next
				// append or search tries again.
				break
			}
		}
	}
}

// catchUpText indexes every message waiting for its full-text row; a
// search that reads the full-text index calls it first.
func (s *Store) catchUpText(ctx context.Context) error {
	// Wait for a pass in flight: it may have read rows whose appends have
	// not yet counted them.
	s.text.mu.Lock()
	s.text.mu.Unlock()
	// The count is this process's; another process sharing the store may
	// have left rows too, so the table is asked when the count is zero.
	if s.text.pending.Load() <= 0 {
		var waiting bool
		if err := s.rdb.QueryRowContext(ctx, "SELECT EXISTS(SELECT 1 FROM fts_pending)").Scan(&waiting); err != nil {
			return fmt.Errorf("index waiting messages: %w", err)
		}
		if !waiting {
			return nil
		}
	}
	for {
		n, err := s.indexTextStep(ctx)
		if err != nil {
			return fmt.Errorf("index waiting messages: %w", err)
		}
		if n == 0 {
			s.text.pending.Store(0)
			return nil
		}
	}
}

// pendingText is a message awaiting its full-text row.
type pendingText struct {
	id   int64
	path string // "" when the message is gone
	pm   *mime.Parsed
	err  error // opening its file failed
}

// indexTextStep indexes the next batch of pending messages and returns
// how many pending rows it settled. Files are parsed once, without the
// writer lock. When the batch's transaction fails (a nearly full disk
// has room for a small transaction but not a large one) its first half
// is tried, down to one message, so the index makes what progress the
// disk allows; the last error is returned.
func (s *Store) indexTextStep(ctx context.Context) (int, error) {
	t := &s.text
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	batch, err := s.readPendingText(ctx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	for n := len(batch); ; n /= 2 {
		err := s.writeText(ctx, batch[:n])
		if err == nil {
			if t.pending.Add(-int64(n)) < 0 {
				t.pending.Store(0) // it indexed another process's rows too
			}
			return n, nil
		}
		if n == 1 || ctx.Err() != nil || errors.Is(err, ErrClosed) {
			return 0, err
		}
	}
}

// readPendingText reads and parses the oldest pending messages: up to
// textBatch of them, and no more than textBatchBytes of body text.
func (s *Store) readPendingText(ctx context.Context) ([]*pendingText, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT p.message_id, mb.dir, m.file FROM fts_pending p
		LEFT JOIN messages m ON m.id = p.message_id LEFT JOIN mailboxes mb ON mb.id = m.mailbox_id
		ORDER BY p.message_id LIMIT ?`, textBatch)
	if err != nil {
		return nil, err
	}
	var batch []*pendingText
	for rows.Next() {
		var p pendingText
		var dir, file sql.NullString
		if err := rows.Scan(&p.id, &dir, &file); err != nil {
			rows.Close()
			return nil, err
		}
		if dir.Valid && file.Valid {
			p.path = s.mailPath(dir.String, file.String)
		}
		batch = append(batch, &p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	bytes := 0
	for i, p := range batch {
		if p.path == "" {
			continue
		}
		p.pm, p.err = parseFileErr(p.path)
		bytes += len(p.pm.BodyText)
		if bytes > textBatchBytes {
			return batch[:i+1], nil
		}
	}
	return batch, nil
}

// writeText writes the full-text rows of batch and deletes their pending
// rows, in one transaction. It re-reads each message's file name, so a
// message moved or deleted since it was read is handled (message content
// never changes).
func (s *Store) writeText(ctx context.Context, batch []*pendingText) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		for _, p := range batch {
			// Another process's indexer may have written it meanwhile.
			var waiting bool
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS(SELECT 1 FROM fts_pending WHERE message_id = ?)", p.id).Scan(&waiting); err != nil {
				return err
			}
			if !waiting {
				continue
			}
			var dir, file string
			err := tx.QueryRowContext(ctx, "SELECT mb.dir, m.file FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE m.id = ?", p.id).Scan(&dir, &file)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				continue // deleted meanwhile: only its pending row goes
			case err != nil:
				return err
			}
			if path := s.mailPath(dir, file); p.pm == nil || (p.err != nil && path != p.path) {
				// Moved (or flagged: the flags are in the name) before
				// its file was read; read it under its name now.
				p.pm, p.err = parseFileErr(path)
			}
			// A file missing under its indexed name is indexed with the
			// little that could be read, as Check does; Check reports it.
			if err := insertText(ctx, cachedTx{tx, &s.stmts}, p.id, p.pm); err != nil {
				return err
			}
		}
		// After every full-text row: a DELETE may open a statement
		// savepoint, which makes FTS5 flush a segment (see indexPlaced).
		for _, p := range batch {
			if _, err := tx.ExecContext(ctx, "DELETE FROM fts_pending WHERE message_id = ?", p.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	return nil
}

// textReady catches up the full-text index when q reads it.
func (s *Store) textReady(ctx context.Context, q *query.Query) error {
	if !q.UsesText() {
		return nil
	}
	return s.catchUpText(ctx)
}
