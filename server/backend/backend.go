// Package backend is what the server's protocols share: the user database,
// each user's mail store (opened once, kept open, shared by all sessions),
// the local domains, the logins (passwords, and OAuth2 bearer tokens), and
// the penalty on failed logins: a delay per IP before each answer, growing
// with its failures, and a lockout per (IP, account), never per IP alone.
//
// OAuth2 (oauth*.go, sasl_*.go): a token is validated against the
// configured issuer, either as a signed JWT with the keys of its JWKS
// (OIDC discovery; go-oidc checks iss, aud, exp, nbf and the algorithm)
// or by token introspection (RFC 7662) with our client credentials and a
// cache bounded in size and by each token's expiry. The configured claim
// ("email") names the local user; a user of another domain or an unknown
// user is refused. The SASL mechanisms OAUTHBEARER (RFC 7628) and XOAUTH2
// are implemented here once for IMAP, POP3 and SMTP, with their parsers;
// a refused token gets RFC 7628's JSON error challenge. Tokens are never
// logged, nor kept (the introspection cache is keyed by their SHA-256).
//
// On disk, under the server's data directory:
//
//	DATA/passwd             users and argon2id hashes (package users)
//	DATA/mail/<address>/    one store per user (package store)
//
// It may import store and server/users (and go-oidc, go-jose, go-sasl);
// it must not import the protocol packages, which each declare the small
// interface they need from it.
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
	// ErrThrottled means the account is locked out for the client's
	// address after too many failed logins from it; the protocols answer
	// it as a temporary refusal (IMAP NO [UNAVAILABLE], POP3 -ERR
	// [SYS/TEMP], SMTP 454 4.7.0), never as a wrong password.
	ErrThrottled = errors.New("too many failed logins to this account from this address; try again later")
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
	// MaxFailures failed logins from one IP to one account lock that
	// account out for that IP until FailureWindow has passed since the
	// last one; DefaultMaxFailures and DefaultFailureWindow when zero.
	MaxFailures   int
	FailureWindow time.Duration
	// MaxDelay caps the delay before each answer to an IP with failed
	// logins (250 ms after the first failure, doubling with each);
	// DefaultMaxDelay when zero.
	MaxDelay time.Duration
	// Now and Sleep are the clock and the delay of the penalty;
	// time.Now and a timer that ctx interrupts when nil (tests inject
	// their own).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// OAuth configures OAuth2 logins (OAUTHBEARER, XOAUTH2); none when
	// nil. OAuthVerifier, when set, is used instead of the verifier
	// OAuth describes (tests).
	OAuth         *OAuthOptions
	OAuthVerifier TokenVerifier
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

	fmu sync.Mutex
	pen penalty

	oauth TokenVerifier // nil without OAuth2
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
		opts.MaxFailures = DefaultMaxFailures
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = DefaultFailureWindow
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	oauth := opts.OAuthVerifier
	if oauth == nil && opts.OAuth != nil {
		o := *opts.OAuth
		if o.Now == nil {
			o.Now = opts.Now
		}
		v, err := NewTokenVerifier(o)
		if err != nil {
			return nil, fmt.Errorf("backend: %w", err)
		}
		oauth = v
	}
	db, err := users.Open(dataDir)
	if err != nil {
		return nil, err
	}
	return &Backend{Users: db, dir: dataDir, opts: opts, log: opts.Logger, oauth: oauth,
		stores: map[string]*store.Store{},
		pen:    penalty{byIP: map[string]strikes{}, byAccount: map[accountKey]strikes{}}}, nil
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
// address. An address with failed logins waits before every answer, longer
// with each failure (up to MaxDelay), whatever the outcome, so that the
// wait tells nothing. An account locked out for the address fails with
// ErrThrottled without its password being checked. A wrong password and an
// unknown user both fail with ErrAuthFailed after the same hashing work.
func (b *Backend) Authenticate(ctx context.Context, username, password string, remote net.Addr) (string, error) {
	ip := penaltyKey(remote)
	login := b.LoginName(username)
	delay, locked := b.check(ip, login, b.opts.Now())
	if locked {
		b.log.Warn("auth locked out", "remote", ip, "user", login)
		if err := b.opts.Sleep(ctx, delay); err != nil {
			return "", err
		}
		return "", ErrThrottled
	}
	user, err := b.Users.Authenticate(ctx, login, password)
	if errors.Is(err, users.ErrAuthFailed) {
		delay = b.fail(ip, login, b.opts.Now())
		b.log.Info("auth failed", "remote", ip, "user", login, "delay", delay)
	}
	if serr := b.opts.Sleep(ctx, delay); serr != nil && err == nil {
		return "", serr
	}
	if err != nil {
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
