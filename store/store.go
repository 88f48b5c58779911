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
	// WriteCacheKiB is the page cache of the writer connection, in KiB;
	// 8000 when zero. The writer fills it over a long run of appends (a
	// full sync, a busy MX), so it is most of a process's memory beside
	// the program: the client asks for less (accounts.Open).
	WriteCacheKiB int
	// ReadCacheKiB is the page cache of each read connection, in KiB;
	// 8000 when zero. The client asks for less (accounts.Open): its
	// reads are a screenful at a time, and during a sync the read
	// connections' caches were a tenth of its memory.
	ReadCacheKiB int
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
	// afterPlace, when set, runs after an append's files were renamed
	// into cur/ and before their rows are committed (crash tests).
	afterPlace func()
	// afterSync, when set, runs in a group commit after a batch's files
	// were made durable and before they are renamed (tests).
	afterSync func()
}

// Store is an open mail store. Its methods are safe for concurrent use.
// Writes are serialised by one writer; reads run in parallel. Any number
// of processes may have one store open at once (see doc.go): writes are
// serialised between them too, and each one's subscribers hear of the
// others' changes.
type Store struct {
	root string
	opts Options

	wdb     *sql.DB // the one writer connection
	rdb     *sql.DB // read-only connections
	readDSN string  // how rdb connects (the feed's poll opens its own)

	// wmu serialises write operations, within the process and across
	// processes (writeLock): their file moves and their transaction form
	// one unit.
	wmu writeLock
	// fmu guards the placing of new files into cur/ (the first stage of
	// an append) against mailbox renames, deletes and checks, which take
	// it after wmu. An append's first stage holds fmu alone, its second
	// stage wmu alone, so the two stages of consecutive batches overlap.
	fmu       sync.Mutex
	placingMu sync.Mutex
	placing   map[string]bool // Maildir keys placed in cur/, not yet indexed
	gc        groupCommitter  // batches concurrent Appends
	stmts     stmtCache       // prepared statements of the writer connection
	rstmts    readStmts       // prepared statements of the readers (imap_fetch.go)
	modseq    uint64          // last MODSEQ handed out; guarded by wmu
	lastID    int64           // last message id handed out; guarded by wmu
	marked    bool            // the session's row is durable; guarded by wmu
	dirtyMu   sync.Mutex      // guards dirty (read without wmu)
	dirty     map[int64]bool  // mailboxes this session marked dirty (session.go)
	keySeq    atomic.Uint64   // Maildir unique name counter
	host      string          // host part of Maildir unique names
	session   string          // this Store's session id (lock.go, session.go)
	feed      feed            // change subscribers
	dirs      dirCache        // mailbox name to id and directory
	bufs      sync.Pool       // *bufio.Writer of 64 KiB for message files
	report    Report          // what Open reconciled
	text      textIndexer     // deferred full-text indexing
	closed    atomic.Bool
	rootLock  *os.File // ROOT/lock, held shared while open
	sessFile  *os.File // ROOT/sessions/<session>, held while open
}

// Open opens the store at root, creating it if needed, and reconciles the
// Maildir directories that changed since the store was last closed cleanly.
// What was reconciled is available from OpenReport. Other processes may
// have the store open at the same time.
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
	s.feed.s = s
	if err := os.MkdirAll(filepath.Join(root, "mail"), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	if err := s.openFiles(); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.openDB(ctx); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	if err := s.reconcileOnOpen(ctx); err != nil {
		s.closeDB()
		s.closeFiles()
		return nil, fmt.Errorf("open store %s: reconcile: %w", root, err)
	}
	if err := s.startText(ctx); err != nil {
		s.closeDB()
		s.closeFiles()
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	return s, nil
}

// openFiles takes the store's shared lock and opens the files the
// processes sharing it coordinate through (lock.go).
func (s *Store) openFiles() error {
	var err error
	if s.rootLock, err = lockRoot(s.root); err != nil {
		return err
	}
	if s.wmu.f, err = os.OpenFile(filepath.Join(s.root, "write.lock"), os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return err
	}
	if s.session, s.sessFile, err = startSession(s.root); err != nil {
		return err
	}
	s.dirs.shared, err = openCounters(s.root)
	return err
}

// closeFiles ends the session and releases the store's lock files.
func (s *Store) closeFiles() {
	if s.sessFile != nil {
		os.Remove(s.sessFile.Name())
		s.sessFile.Close()
	}
	if s.dirs.shared.f != nil {
		s.dirs.shared.f.Close()
	}
	if s.wmu.f != nil {
		s.wmu.f.Close()
	}
	if s.rootLock != nil {
		s.rootLock.Close()
	}
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
		for _, e := range extra {
			v.Add("_pragma", e)
		}
		return "file:" + uriPath(path) + "?" + v.Encode()
	}
	wcache := 8000
	if s.opts.WriteCacheKiB > 0 {
		wcache = s.opts.WriteCacheKiB
	}
	w, err := sql.Open("sqlite", dsn("temp_store(MEMORY)", fmt.Sprintf("cache_size(-%d)", wcache)))
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s.wdb = w
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return err
	}
	rcache := 8000
	if s.opts.ReadCacheKiB > 0 {
		rcache = s.opts.ReadCacheKiB
	}
	s.readDSN = dsn("query_only(1)", fmt.Sprintf("cache_size(-%d)", rcache))
	r, err := sql.Open("sqlite", s.readDSN)
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
	if err := w.QueryRowContext(ctx, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='modseq'").Scan(&metaSeq); err != nil && !errors.Is(err, sql.ErrNoRows) {
		s.closeDB()
		return fmt.Errorf("read modseq from meta: %w", err)
	}
	s.modseq = uint64(max(ms.Int64, metaSeq.Int64))
	// Message ids are never reused (scripts keep them, and the sync
	// state refers to them): the next id continues after the highest
	// ever handed out, which meta remembers across deletions.
	var maxID, metaID sql.NullInt64
	if err := w.QueryRowContext(ctx, "SELECT MAX(id) FROM messages").Scan(&maxID); err != nil {
		s.closeDB()
		return fmt.Errorf("read message ids: %w", err)
	}
	if err := w.QueryRowContext(ctx, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='lastid'").Scan(&metaID); err != nil && !errors.Is(err, sql.ErrNoRows) {
		s.closeDB()
		return fmt.Errorf("read message ids from meta: %w", err)
	}
	s.lastID = max(maxID.Int64, metaID.Int64)
	if err := s.stmts.prepare(ctx, w); err != nil {
		s.closeDB()
		return err
	}
	return nil
}

// migrate creates or upgrades the schema, under the writer lock so that
// two processes opening a new store do it one after the other.
func (s *Store) migrate(ctx context.Context) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	var version int
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > schemaVersion {
		return fmt.Errorf("index schema %d is newer than this letterbox (%d)", version, schemaVersion)
	}
	if version == schemaVersion {
		return nil
	}
	if _, err := s.wdb.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if err := migrateThreadOrder(ctx, s.wdb, version); err != nil {
		return fmt.Errorf("thread order: %w", err)
	}
	if err := migrateCJK(ctx, s.wdb, version); err != nil {
		return err
	}
	if _, err := s.wdb.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	return nil
}

func (s *Store) closeDB() {
	s.rstmts.close()
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

// Close records the state of the Maildir directories this session wrote
// to (when no other session is writing there), so the next Open need not
// rescan them, and closes the index. Subscriptions are closed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stopText()
	s.stopPoll()
	var errs []error
	s.wmu.Lock()
	wrote := s.marked
	if s.wmu.err != nil {
		errs = append(errs, s.wmu.err)
	} else if err := s.endSession(context.Background()); err != nil {
		errs = append(errs, err)
	}
	s.feed.closeAll()
	if wrote {
		if _, err := s.wdb.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			errs = append(errs, err)
		}
	}
	s.rstmts.close()
	if err := s.rdb.Close(); err != nil {
		errs = append(errs, err)
	}
	s.stmts.close()
	if err := s.wdb.Close(); err != nil {
		errs = append(errs, err)
	}
	s.wmu.Unlock()
	s.closeFiles()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.root, err)
	}
	return nil
}

// lockWrite takes the writer lock, failing if the store is closed.
func (s *Store) lockWrite() error {
	s.wmu.Lock()
	if err := s.wmu.err; err != nil {
		s.wmu.Unlock()
		return err
	}
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

// withTx runs fn in a write transaction on the writer connection; the
// caller holds wmu. Another process may have written since this one last
// did, so the MODSEQ and id counters continue from the highest of this
// process's and ROOT/counters' (lock.go), which every writer updates
// before its commit under the write lock. The MODSEQs
// fn hands out are noted as this process's own before the commit, so
// the feed's poll (feed.go) does not announce them a second time.
func (s *Store) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.ensureSession(ctx)
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	_, ms, lid := s.dirs.shared.load()
	s.modseq, s.lastID = max(s.modseq, ms), max(s.lastID, int64(lid))
	first, firstID := s.modseq, s.lastID
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if _, err := (cachedTx{tx, &s.stmts}).ExecContext(ctx, qSaveCounters, fmt.Sprint(s.modseq), fmt.Sprint(s.lastID)); err != nil {
		tx.Rollback()
		return fmt.Errorf("save modseq: %w", err)
	}
	if s.modseq != first || s.lastID != firstID {
		if err := s.dirs.shared.store(s.modseq, uint64(s.lastID)); err != nil {
			tx.Rollback()
			return fmt.Errorf("save counters: %w", err)
		}
	}
	s.feed.noteOwn(first, s.modseq)
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
