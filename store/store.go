package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver, pure Go
)

// Options tune a store. The zero value is what production uses.
type Options struct {
	// NoSync skips fsync of files and directories and relaxes SQLite's
	// synchronous mode. Only for throwaway stores (benchmark fixtures); a
	// store opened with NoSync does not keep the durability promise.
	NoSync bool
	// Location is the time zone of dates in queries (before:, on:);
	// time.Local when nil.
	Location *time.Location
	// Readers is the number of read connections; 4 when zero.
	Readers int
	// DeferText makes appends leave the full-text row of a message to a
	// background indexer, which writes them in large batches when
	// appends pause (textindex.go). Searches first index what waits, so
	// results are the same; a busy server delivers faster. The client
	// leaves it off: its processes are often too short-lived to index
	// later.
	DeferText bool
	// textIdle, when set, replaces the pause the full-text indexer waits
	// for (tests).
	textIdle time.Duration
}

// Store is an open mail store. Its methods are safe for concurrent use.
// Writes are serialised by one writer; reads run in parallel.
type Store struct {
	root string
	opts Options

	wdb *sql.DB // the one writer connection
	rdb *sql.DB // read-only connections

	// wmu serialises write operations: their file moves and their
	// transaction form one unit.
	wmu sync.Mutex
	// fmu guards the placing of new files into cur/ (the first stage of
	// an append) against mailbox renames, deletes and checks, which take
	// it after wmu. An append's first stage holds fmu alone, its second
	// stage wmu alone, so the two stages of consecutive batches overlap.
	fmu       sync.Mutex
	placingMu sync.Mutex
	placing   map[string]bool // Maildir keys placed in cur/, not yet indexed
	gc        groupCommitter  // batches concurrent Appends
	stmts     stmtCache       // prepared statements of the writer connection
	modseq    uint64          // last MODSEQ handed out; guarded by wmu
	lastID    int64           // last message id handed out; guarded by wmu
	marked    bool            // the durable open flag is set; guarded by wmu
	dirty     map[int64]bool  // mailboxes marked dirty since open; guarded by wmu
	keySeq    atomic.Uint64   // Maildir unique name counter
	host      string          // host part of Maildir unique names
	feed      feed            // change subscribers
	dirs      dirCache        // mailbox name to id and directory
	bufs      sync.Pool       // *bufio.Writer of 64 KiB for message files
	report    Report          // what Open reconciled
	text      textIndexer     // deferred full-text indexing
	closed    atomic.Bool
	lock      *os.File // ROOT/lock, held while open
}

// Open opens the store at root, creating it if needed, and reconciles the
// Maildir directories that changed since the store was last closed cleanly.
// What was reconciled is available from OpenReport.
func Open(ctx context.Context, root string, opts *Options) (*Store, error) {
	s := &Store{root: root, dirty: map[int64]bool{}, placing: map[string]bool{}}
	s.bufs.New = func() any { return bufio.NewWriterSize(nil, 64<<10) }
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Location == nil {
		s.opts.Location = time.Local
	}
	if s.opts.Readers <= 0 {
		s.opts.Readers = 4
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	s.host = maildirSafe(host)
	if err := os.MkdirAll(filepath.Join(root, "mail"), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	if s.lock, err = lockRoot(root); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.openDB(ctx); err != nil {
		s.lock.Close()
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	if err := s.reconcileOnOpen(ctx); err != nil {
		s.closeDB()
		s.lock.Close()
		return nil, fmt.Errorf("open store %s: reconcile: %w", root, err)
	}
	if err := s.startText(ctx); err != nil {
		s.closeDB()
		s.lock.Close()
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	return s, nil
}

func (s *Store) openDB(ctx context.Context) error {
	path := filepath.Join(s.root, "index.db")
	// NORMAL: a commit does not wait for the WAL to reach the disk. An
	// acknowledged message is durable all the same: its file was fsynced
	// and renamed into cur/ and the directory fsynced before the commit,
	// and an application crash keeps committed transactions. A power loss
	// can roll back the last ones; the next Open indexes their files again
	// (and renews the mailbox's UIDVALIDITY, see reconcileOnOpen).
	syncMode := "NORMAL"
	if s.opts.NoSync {
		syncMode = "OFF"
	}
	dsn := func(extra ...string) string {
		v := url.Values{}
		v.Add("_pragma", "busy_timeout(10000)")
		v.Add("_pragma", "journal_mode(WAL)")
		v.Add("_pragma", "synchronous("+syncMode+")")
		v.Add("_pragma", "foreign_keys(OFF)")
		v.Add("_pragma", "cache_size(-8000)")
		for _, e := range extra {
			v.Add("_pragma", e)
		}
		return "file:" + uriPath(path) + "?" + v.Encode()
	}
	w, err := sql.Open("sqlite", dsn("temp_store(MEMORY)"))
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s.wdb = w
	var version int
	if err := w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		w.Close()
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > schemaVersion {
		w.Close()
		return fmt.Errorf("index schema %d is newer than this letterbox (%d)", version, schemaVersion)
	}
	if version < schemaVersion {
		if _, err := w.ExecContext(ctx, schema); err != nil {
			w.Close()
			return fmt.Errorf("create schema: %w", err)
		}
		if err := migrateThreadOrder(ctx, w, version); err != nil {
			w.Close()
			return fmt.Errorf("thread order: %w", err)
		}
		if _, err := w.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			w.Close()
			return fmt.Errorf("set schema version: %w", err)
		}
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return err
	}
	n := s.opts.Readers
	if n > runtime.GOMAXPROCS(0)*2 {
		n = runtime.GOMAXPROCS(0) * 2
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.rdb = r
	var ms sql.NullInt64
	if err := w.QueryRowContext(ctx, "SELECT MAX(highestmodseq) FROM mailboxes").Scan(&ms); err != nil {
		s.closeDB()
		return fmt.Errorf("read modseq: %w", err)
	}
	var metaSeq sql.NullInt64
	_ = w.QueryRowContext(ctx, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='modseq'").Scan(&metaSeq)
	s.modseq = uint64(max(ms.Int64, metaSeq.Int64))
	// Message ids are never reused (scripts keep them, and the sync
	// state refers to them): the next id continues after the highest
	// ever handed out, which meta remembers across deletions.
	var maxID, metaID sql.NullInt64
	if err := w.QueryRowContext(ctx, "SELECT MAX(id) FROM messages").Scan(&maxID); err != nil {
		s.closeDB()
		return fmt.Errorf("read message ids: %w", err)
	}
	_ = w.QueryRowContext(ctx, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='lastid'").Scan(&metaID)
	s.lastID = max(maxID.Int64, metaID.Int64)
	if err := s.stmts.prepare(ctx, w); err != nil {
		s.closeDB()
		return err
	}
	return nil
}

func (s *Store) closeDB() {
	if s.rdb != nil {
		s.rdb.Close()
	}
	s.stmts.close()
	if s.wdb != nil {
		s.wdb.Close()
	}
}

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

// OpenReport tells what Open reconciled between files and index.
func (s *Store) OpenReport() Report { return s.report }

// Close records the state of the Maildir directories, so the next Open
// need not rescan them, and closes the index. Subscriptions are closed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stopText()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var errs []error
	if err := s.recordCleanState(context.Background()); err != nil {
		errs = append(errs, err)
	} else if s.marked {
		if err := s.setOpenFlag(context.Background(), false); err != nil {
			errs = append(errs, err)
		}
	}
	s.feed.closeAll()
	if s.marked {
		if _, err := s.wdb.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.rdb.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.wdb.Close(); err != nil {
		errs = append(errs, err)
	}
	s.lock.Close()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.root, err)
	}
	return nil
}

// lockWrite takes the writer lock, failing if the store is closed.
func (s *Store) lockWrite() error {
	s.wmu.Lock()
	if s.closed.Load() {
		s.wmu.Unlock()
		return ErrClosed
	}
	return nil
}

// nextModSeq hands out the next MODSEQ; the caller holds wmu and must
// store it in a transaction (mailbox highestmodseq) before releasing wmu.
func (s *Store) nextModSeq() uint64 {
	s.modseq++
	return s.modseq
}

// nextMessageID hands out a message id; the caller holds wmu (withTx
// saves the counter with the transaction).
func (s *Store) nextMessageID() int64 {
	s.lastID++
	return s.lastID
}

// uriPath escapes a file path for an SQLite URI filename, where "?", "#"
// and "%" have meanings.
func uriPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// fsyncDir makes a directory's entries (renames, links, unlinks) durable.
func (s *Store) fsyncDir(dir string) error {
	if s.opts.NoSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// withTx runs fn in a write transaction on the writer connection.
func (s *Store) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if !s.marked {
		// On failure (a full disk) the transaction below reports it.
		if err := s.setOpenFlag(ctx, true); err == nil {
			s.marked = true
		}
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES('modseq', ?), ('lastid', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", fmt.Sprint(s.modseq), fmt.Sprint(s.lastID)); err != nil {
		tx.Rollback()
		return fmt.Errorf("save modseq: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
