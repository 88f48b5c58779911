// Package users keeps the server's accounts: addresses and argon2id
// password hashes in one passwd-style file, DATA/passwd, with one line per
// user:
//
//	alice@example.test:$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH
//
// (the PHC string format; m is in KiB). Verify reads the parameters from
// each hash, so hashes made with other parameters keep working.
//
// The file is rewritten atomically (temporary file, fsync, rename) and
// re-read when another process (`letterbox serve user add` while the daemon
// runs) changed it. Passwords are never logged or stored in clear.
//
// It imports no other letterbox package.
package users

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Errors returned by DB methods; test them with errors.Is.
var (
	ErrNotFound   = errors.New("no such user")
	ErrExists     = errors.New("user exists")
	ErrAuthFailed = errors.New("authentication failed")
	ErrInvalid    = errors.New("invalid address or password")
)

// Argon2id parameters for new hashes: OWASP's minimum of 19 MiB
// (m=19456 KiB), 2 passes, 1 lane, a 16-byte salt and a 32-byte key.
// Each verification needs that much memory, so at most GOMAXPROCS of them
// run at once (DB.hashing: 200 clients logging in together must not cost
// 200 × 19 MiB), and a successful login is remembered for authCacheTTL so
// that clients which reconnect all day (IDLE, mbsync, fetchmail) do not
// pay for it each time.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
	authCacheTTL = 5 * time.Minute
)

// DB is the user database. Its methods are safe for concurrent use.
type DB struct {
	path string

	mu    sync.Mutex
	users map[string]string // address -> PHC hash
	mtime time.Time
	size  int64

	hashing chan struct{}                    // bounds concurrent argon2 runs
	verify  func(hash, password string) bool // Verify; tests count the calls
	cmu     sync.Mutex
	cache   map[string]cached // address -> last good login
	pepper  [32]byte          // keys the cache digests; random per process
}

type cached struct {
	digest  [32]byte // HMAC(pepper, hash || password)
	expires time.Time
}

// Open loads DATA/passwd, creating nothing until the first write.
func Open(dataDir string) (*DB, error) {
	db := &DB{path: filepath.Join(dataDir, "passwd"), users: map[string]string{},
		hashing: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))), cache: map[string]cached{}, verify: Verify}
	if _, err := rand.Read(db.pepper[:]); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.reloadLocked(); err != nil {
		return nil, err
	}
	return db, nil
}

// Canonical returns the canonical form of an address: trimmed, lower case.
// It fails on anything that is not local@domain or could break the file.
func Canonical(addr string) (string, error) {
	a := strings.ToLower(strings.TrimSpace(addr))
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(a, ":\r\n\t \x00/\\") || strings.Count(a, "@") != 1 {
		return "", fmt.Errorf("%w: %q is not an address", ErrInvalid, addr)
	}
	return a, nil
}

func (db *DB) reloadLocked() error {
	fi, err := os.Stat(db.path)
	if errors.Is(err, os.ErrNotExist) {
		db.users = map[string]string{}
		db.mtime, db.size = time.Time{}, 0
		return nil
	}
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	if fi.ModTime().Equal(db.mtime) && fi.Size() == db.size {
		return nil
	}
	data, err := os.ReadFile(db.path)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	users := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		addr, hash, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(hash, "$argon2id$") {
			return fmt.Errorf("users: %s line %d: want ADDRESS:$argon2id$...", db.path, n)
		}
		users[addr] = hash
	}
	db.users, db.mtime, db.size = users, fi.ModTime(), fi.Size()
	return nil
}

func (db *DB) writeLocked() error {
	addrs := make([]string, 0, len(db.users))
	for a := range db.users {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	var b bytes.Buffer
	b.WriteString("# letterbox users: ADDRESS:ARGON2ID-HASH; edit with 'letterbox serve user'\n")
	for _, a := range addrs {
		fmt.Fprintf(&b, "%s:%s\n", a, db.users[a])
	}
	if err := os.MkdirAll(filepath.Dir(db.path), 0o700); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	tmp := db.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, db.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("users: write %s: %w", db.path, err)
	}
	if d, err := os.Open(filepath.Dir(db.path)); err == nil {
		d.Sync()
		d.Close()
	}
	if fi, err := os.Stat(db.path); err == nil {
		db.mtime, db.size = fi.ModTime(), fi.Size()
	}
	return nil
}

// Add creates a user. The password must not be empty.
func (db *DB) Add(addr, password string) error {
	return db.put("add", addr, password, false)
}

// SetPassword replaces a user's password.
func (db *DB) SetPassword(addr, password string) error {
	return db.put("passwd", addr, password, true)
}

// put stores a new hash for addr, which must exist (replace) or not.
func (db *DB) put(op, addr, password string, replace bool) error {
	a, err := Canonical(addr)
	if err != nil {
		return err
	}
	if password == "" {
		return fmt.Errorf("%w: empty password", ErrInvalid)
	}
	h, err := Hash(password)
	if err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.reloadLocked(); err != nil {
		return err
	}
	_, exists := db.users[a]
	switch {
	case replace && !exists:
		return fmt.Errorf("users: %s %s: %w", op, a, ErrNotFound)
	case !replace && exists:
		return fmt.Errorf("users: %s %s: %w", op, a, ErrExists)
	}
	db.users[a] = h
	return db.writeLocked()
}

// Delete removes a user (not their mail).
func (db *DB) Delete(addr string) error {
	a, err := Canonical(addr)
	if err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.reloadLocked(); err != nil {
		return err
	}
	if _, ok := db.users[a]; !ok {
		return fmt.Errorf("users: del %s: %w", a, ErrNotFound)
	}
	delete(db.users, a)
	return db.writeLocked()
}

// List returns the addresses, sorted.
func (db *DB) List() ([]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.reloadLocked(); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(db.users))
	for a := range db.users {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

// Exists reports whether addr is a user.
func (db *DB) Exists(addr string) bool {
	a, err := Canonical(addr)
	if err != nil {
		return false
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.reloadLocked() != nil {
		return false
	}
	_, ok := db.users[a]
	return ok
}

// Authenticate checks a password and returns the canonical address. A
// missing user costs the same hashing time as a wrong password, so timing
// does not tell which addresses exist.
func (db *DB) Authenticate(ctx context.Context, addr, password string) (string, error) {
	a, cerr := Canonical(addr)
	db.mu.Lock()
	if err := db.reloadLocked(); err != nil {
		db.mu.Unlock()
		return "", err
	}
	hash, ok := db.users[a]
	db.mu.Unlock()
	if cerr != nil || !ok {
		hash = dummyHash
	}
	if cerr == nil && ok && db.cachedOK(a, hash, password) {
		return a, nil
	}
	select {
	case db.hashing <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	good := db.verify(hash, password)
	<-db.hashing
	if !good || cerr != nil || !ok {
		return "", ErrAuthFailed
	}
	db.remember(a, hash, password)
	return a, nil
}

func (db *DB) digest(hash, password string) [32]byte {
	m := hmac.New(sha256.New, db.pepper[:])
	m.Write([]byte(hash))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var d [32]byte
	copy(d[:], m.Sum(nil))
	return d
}

// cachedOK reports whether addr logged in with this password (and this
// stored hash, so a password change ends it) within authCacheTTL.
func (db *DB) cachedOK(addr, hash, password string) bool {
	db.cmu.Lock()
	c, ok := db.cache[addr]
	db.cmu.Unlock()
	if !ok || time.Now().After(c.expires) {
		return false
	}
	d := db.digest(hash, password)
	return subtle.ConstantTimeCompare(d[:], c.digest[:]) == 1
}

func (db *DB) remember(addr, hash, password string) {
	d := db.digest(hash, password)
	db.cmu.Lock()
	defer db.cmu.Unlock()
	if len(db.cache) > 100000 {
		clear(db.cache)
	}
	db.cache[addr] = cached{digest: d, expires: time.Now().Add(authCacheTTL)}
}

// dummyHash is verified against for unknown users: it has the parameters
// and the salt and key lengths of Hash's, so an unknown user costs the
// same work as a wrong password.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// Hash returns the PHC-format argon2id hash of password with a fresh salt.
func Hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("users: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether password matches a PHC-format argon2id hash.
func Verify(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<22 || t == 0 || t > 100 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
