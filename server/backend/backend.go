// Package backend is what the server's protocols share: the user database,
// each user's mail store (opened once, kept open, shared by all sessions),
// the local domains, and the throttle on failed logins.
//
// On disk, under the server's data directory:
//
//	DATA/passwd             users and argon2id hashes (package users)
//	DATA/mail/<address>/    one store per user (package store)
//
// It may import store and server/users; it must not import the protocol
// packages, which each declare the small interface they need from it.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/letterbox-mail/letterbox/server/users"
	"github.com/letterbox-mail/letterbox/store"
)

// Errors for callers to classify with errors.Is.
var (
	// ErrAuthFailed is a wrong user name or password.
	ErrAuthFailed = users.ErrAuthFailed
	// ErrThrottled means too many failed logins came from the address.
	ErrThrottled = errors.New("too many failed logins; try again later")
	// ErrNoUser means the address is not a local user.
	ErrNoUser = users.ErrNotFound
	// ErrClosed means the backend was closed.
	ErrClosed = errors.New("backend closed")
)

// DefaultMailboxes are created with their SPECIAL-USE roles (RFC 6154) in a
// new user's store.
var DefaultMailboxes = []struct{ Name, SpecialUse string }{
	{"Sent", store.SpecialSent}, {"Drafts", store.SpecialDrafts}, {"Trash", store.SpecialTrash},
	{"Junk", store.SpecialJunk}, {"Archive", store.SpecialArchive},
}

// Options configure a Backend.
type Options struct {
	// Domains are the local domains; the first is the default for logins
	// given without a domain.
	Domains []string
	// MaxFailures failed logins from one IP within FailureWindow block
	// further attempts from it until the window passes; 10 and 10 minutes
	// when zero.
	MaxFailures   int
	FailureWindow time.Duration
	// StoreOptions are passed to store.Open.
	StoreOptions *store.Options
	Logger       *slog.Logger
}

// Backend is shared by all sessions of all protocols. Its methods are safe
// for concurrent use.
type Backend struct {
	Users *users.DB

	dir  string
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	stores map[string]*store.Store
	closed bool

	fmu      sync.Mutex
	failures map[string][]time.Time // IP -> failure times within the window
}

// New opens the backend rooted at dataDir.
func New(dataDir string, opts Options) (*Backend, error) {
	if len(opts.Domains) == 0 {
		return nil, errors.New("backend: no local domain")
	}
	for i, d := range opts.Domains {
		opts.Domains[i] = strings.ToLower(strings.TrimSuffix(d, "."))
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 10
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	db, err := users.Open(dataDir)
	if err != nil {
		return nil, err
	}
	return &Backend{Users: db, dir: dataDir, opts: opts, log: opts.Logger,
		stores: map[string]*store.Store{}, failures: map[string][]time.Time{}}, nil
}

// Domains returns the local domains.
func (b *Backend) Domains() []string { return b.opts.Domains }

// IsLocalDomain reports whether mail for domain is delivered here.
func (b *Backend) IsLocalDomain(domain string) bool {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	for _, l := range b.opts.Domains {
		if d == l {
			return true
		}
	}
	return false
}

// UserExists reports whether addr is a local user.
func (b *Backend) UserExists(addr string) bool { return b.Users.Exists(addr) }

// LoginName turns what a client typed into a canonical address: "alice"
// becomes alice@<first domain>.
func (b *Backend) LoginName(username string) string {
	u := strings.ToLower(strings.TrimSpace(username))
	if u != "" && !strings.Contains(u, "@") {
		u += "@" + b.opts.Domains[0]
	}
	return u
}

// Authenticate checks a login from remote and returns the user's canonical
// address. Failures are counted per IP; past the limit every attempt from
// that IP fails with ErrThrottled, before the password is even looked at.
func (b *Backend) Authenticate(ctx context.Context, username, password string, remote net.Addr) (string, error) {
	ip := HostOf(remote)
	if b.throttled(ip) {
		b.log.Warn("auth throttled", "remote", ip, "user", username)
		return "", ErrThrottled
	}
	user, err := b.Users.Authenticate(ctx, b.LoginName(username), password)
	if err != nil {
		if errors.Is(err, users.ErrAuthFailed) {
			b.fail(ip)
			b.log.Info("auth failed", "remote", ip, "user", username)
		}
		return "", err
	}
	return user, nil
}

// HostOf returns the IP (or host) part of a network address.
func HostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

func (b *Backend) prune(ip string, now time.Time) []time.Time {
	fs := b.failures[ip]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) > b.opts.FailureWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(b.failures, ip)
	} else {
		b.failures[ip] = fs
	}
	return fs
}

func (b *Backend) throttled(ip string) bool {
	b.fmu.Lock()
	defer b.fmu.Unlock()
	return len(b.prune(ip, time.Now())) >= b.opts.MaxFailures
}

func (b *Backend) fail(ip string) {
	b.fmu.Lock()
	defer b.fmu.Unlock()
	now := time.Now()
	b.failures[ip] = append(b.prune(ip, now), now)
	if len(b.failures) > 100000 { // bound memory under a spray of addresses
		for k := range b.failures {
			delete(b.failures, k)
			break
		}
	}
}

// StoreDir is where a user's store lives.
func (b *Backend) StoreDir(user string) string {
	return filepath.Join(b.dir, "mail", user)
}

// Store returns the user's store, opening it on first use and creating it,
// with the default mailboxes, for a new user. The store stays open until
// Close; callers must not close it.
func (b *Backend) Store(ctx context.Context, user string) (*store.Store, error) {
	u, err := users.Canonical(user)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if s, ok := b.stores[u]; ok {
		return s, nil
	}
	if !b.Users.Exists(u) {
		return nil, fmt.Errorf("store of %s: %w", u, ErrNoUser)
	}
	dir := b.StoreDir(u)
	_, statErr := os.Stat(dir)
	fresh := errors.Is(statErr, os.ErrNotExist)
	s, err := store.Open(ctx, dir, b.opts.StoreOptions)
	if err != nil {
		return nil, fmt.Errorf("store of %s: %w", u, err)
	}
	if fresh {
		for _, mb := range DefaultMailboxes {
			if _, err := s.CreateMailbox(ctx, mb.Name, mb.SpecialUse); err != nil && !errors.Is(err, store.ErrExists) {
				s.Close()
				return nil, fmt.Errorf("store of %s: create %s: %w", u, mb.Name, err)
			}
		}
	}
	b.stores[u] = s
	return s, nil
}

// Close closes every open store.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	var errs []error
	for u, s := range b.stores {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store of %s: %w", u, err))
		}
	}
	b.stores = nil
	return errors.Join(errs...)
}
