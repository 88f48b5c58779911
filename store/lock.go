package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Locks between the processes that have one store open. All are flock(2)
// locks, which die with their process, so a killed process never leaves
// one held:
//
//	ROOT/lock          shared by every open Store; letterbox before
//	                   multi-process stores took it exclusively, so the
//	                   two never share a store
//	ROOT/write.lock    exclusive while a process writes (writeLock, with
//	                   the in-process wmu): one write unit (file moves and
//	                   their transaction) at a time across processes
//	ROOT/sessions/ID   exclusive by the open Store whose session is ID,
//	                   for its lifetime: the others tell from it whether
//	                   the session's files in tmp/ and cur/ are in flight
//	                   or left by a crash (sessionAlive)
//	ROOT/NAME.lock     Store.Lock, held by its caller: "sync" serialises
//	                   syncs of one account (LockSync)
//	ROOT/counters      words the processes share without a query
//	                   (counters, below)

// flock is flock(2) retried when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// lockRoot takes ROOT/lock shared, for as long as the store is open.
func lockRoot(root string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(root, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock(f, unix.LOCK_SH|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("store %s is open in an older letterbox that keeps it to one process (stop it, or upgrade it): %w", root, err)
	}
	return f, nil
}

// writeLock serialises write units within the process (mu) and across
// processes (an exclusive flock of ROOT/write.lock). Lock cannot fail in
// practice; a failure of flock is kept in err for lockWrite to return.
type writeLock struct {
	mu  sync.Mutex
	f   *os.File // nil: in-process only (before Open has the file)
	err error    // flock's failure in the current Lock; guarded by mu
}

// Lock takes the lock; check err after it.
func (l *writeLock) Lock() {
	l.mu.Lock()
	l.err = nil
	if l.f != nil {
		if err := flock(l.f, unix.LOCK_EX); err != nil {
			l.err = fmt.Errorf("write lock: %w", err)
		}
	}
}

// Unlock releases the lock.
func (l *writeLock) Unlock() {
	if l.f != nil && l.err == nil {
		flock(l.f, unix.LOCK_UN)
	}
	l.mu.Unlock()
}

// sessionIDLen is the length of a session id (hex).
const sessionIDLen = 12

// startSession creates ROOT/sessions/ID for a new id and locks it for the
// life of the Store.
func startSession(root string) (string, *os.File, error) {
	dir := filepath.Join(root, "sessions")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	for range 100 {
		var b [sessionIDLen / 2]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", nil, err
		}
		id := hex.EncodeToString(b[:])
		f, err := os.OpenFile(filepath.Join(dir, id), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			return "", nil, fmt.Errorf("lock session %s: %w", id, err)
		}
		return id, f, nil
	}
	return "", nil, errors.New("no free session id")
}

// liveness answers whether sessions are alive, remembering the answers
// of one reconciliation (a session that was alive may die meanwhile;
// its files are then picked up by the next one).
type liveness struct {
	root, own string
	known     map[string]bool
}

func (s *Store) liveness() *liveness {
	return &liveness{root: s.root, own: s.session, known: map[string]bool{}}
}

// alive reports whether session id is held by a live Store (this one
// included). An id with no file, or whose file nobody locks, is dead.
func (l *liveness) alive(id string) bool {
	if id == l.own {
		return true
	}
	if v, ok := l.known[id]; ok {
		return v
	}
	v := sessionAlive(l.root, id)
	l.known[id] = v
	return v
}

func sessionAlive(root, id string) bool {
	if len(id) != sessionIDLen {
		return false
	}
	f, err := os.OpenFile(filepath.Join(root, "sessions", id), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	flock(f, unix.LOCK_UN)
	return false
}

// removeDeadSession removes the lock file of a session found dead. It is
// locked while removed, so a session that came alive under the same id
// (it cannot: ids are created exclusively) is never unlinked.
func removeDeadSession(root, id string) {
	path := filepath.Join(root, "sessions", id)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if flock(f, unix.LOCK_EX|unix.LOCK_NB) == nil {
		os.Remove(path)
	}
}

// LockSync is the name of the lock LockSync takes.
const LockSync = "sync"

// Lock takes the advisory lock name of the store, exclusive across every
// process and every Lock call in this one, waiting while another holds
// it, until ctx ends; waiting, when not nil, is called once if it has to
// wait. The returned function releases it. It locks nothing else: the
// store stays usable by everyone meanwhile. name is a short word
// ([a-z]+).
func (s *Store) Lock(ctx context.Context, name string, waiting func()) (unlock func(), err error) {
	for _, c := range name {
		if c < 'a' || c > 'z' {
			return nil, fmt.Errorf("lock %q: %w", name, ErrInvalid)
		}
	}
	if name == "" || name == "write" {
		return nil, fmt.Errorf("lock %q: %w", name, ErrInvalid)
	}
	f, err := os.OpenFile(filepath.Join(s.root, name+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	wait := 5 * time.Millisecond
	for {
		err := flock(f, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if waiting != nil {
			waiting()
			waiting = nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			flock(f, unix.LOCK_UN)
			f.Close()
		})
	}, nil
}

// LockSync takes the store's "sync" lock (see Lock), which every sync of
// the account holds while it runs, so two syncs, in one process or two,
// never apply the same change twice. Before it returns, what sessions
// that died left behind is reconciled (their orphan files indexed with
// the identity their names carry), so the sync that follows a killed
// one does not fetch again what that one stored.
func (s *Store) LockSync(ctx context.Context, waiting func()) (unlock func(), err error) {
	unlock, err = s.Lock(ctx, LockSync, waiting)
	if err != nil {
		return nil, err
	}
	if err := s.recoverDead(ctx); err != nil {
		unlock()
		return nil, fmt.Errorf("lock sync: %w", err)
	}
	return unlock, nil
}

// counters is ROOT/counters: three little-endian uint64 words the
// processes sharing the store read with one pread instead of a query:
//
//	word 0  a generation that mailbox renames and deletes bump, so other
//	        processes drop their cached mailbox lookups (dirCache)
//	word 1  the last MODSEQ handed out
//	word 2  the last message id handed out
//
// Words 1 and 2 are written before the transaction that uses the values
// commits, under the write lock; a transaction that then fails leaves a
// gap, never a value handed out twice. The index's meta rows stay the
// durable record (Open starts from them): the file is not fsynced, and
// after a power loss every process starts again from the index.
type counters struct{ f *os.File }

func openCounters(root string) (counters, error) {
	f, err := os.OpenFile(filepath.Join(root, "counters"), os.O_RDWR|os.O_CREATE, 0o600)
	return counters{f}, err
}

// load returns the three words (zero for a new file).
func (c counters) load() (gen, modseq, lastID uint64) {
	if c.f == nil {
		return 0, 0, 0
	}
	var b [24]byte
	if n, _ := c.f.ReadAt(b[:], 0); n < 24 {
		clear(b[n:])
	}
	le := binary.LittleEndian
	return le.Uint64(b[0:]), le.Uint64(b[8:]), le.Uint64(b[16:])
}

// generation returns word 0.
func (c counters) generation() uint64 {
	g, _, _ := c.load()
	return g
}

// bump increments word 0; the caller holds the write lock.
func (c counters) bump() {
	if c.f == nil {
		return
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], c.generation()+1)
	c.f.WriteAt(b[:], 0)
}

// store writes words 1 and 2; the caller holds the write lock.
func (c counters) store(modseq, lastID uint64) error {
	if c.f == nil {
		return nil
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], modseq)
	binary.LittleEndian.PutUint64(b[8:], lastID)
	_, err := c.f.WriteAt(b[:], 8)
	return err
}
