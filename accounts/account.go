package accounts

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
	imapsync "github.com/letterbox-mail/letterbox/sync/imap"
	"github.com/letterbox-mail/letterbox/sync/submit"
)

// Account is one configured account opened for use: its local store and
// the way to its servers (used by Sync, Watch and the outbox). It is the
// only door to an account's mail: the interface and the command line read
// (Page, Count, Render, Mailboxes, Subscribe, ...) and change (SetFlags,
// Move, Delete, Queue, ...) through its methods and never see the store
// or the sync packages. Local actions go to the store at once and, for
// IMAP accounts, to the sync journal, so they work the same online and
// offline.
//
// Call order: OpenAccount, any methods (safe for concurrent use, as the
// store is), Close.
type Account struct {
	Config AccountConfig

	store *store.Store

	secrets *Secrets
	// oauth is the token source of an OAuth2 account (nil otherwise),
	// shared by all its connections.
	oauth *oauthSource
	local *imapsync.Local
	// outbox is the account's one Outbox (newOutbox).
	outbox *submit.Outbox
	// mu guards listeners: the channels of the running Watch calls,
	// signalled after each journaled local action (localChanged).
	mu        sync.Mutex
	listeners map[chan struct{}]bool
	// Dial, when set, opens every network connection of the account
	// (tests route it through proxies); a net.Dialer otherwise.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// OpenAccount opens the local store of acct under the data directory
// base (see AccountConfig.DataDir), creating it on first use, with the
// mailboxes every account has.
func OpenAccount(ctx context.Context, acct AccountConfig, base string, secrets *Secrets) (*Account, error) {
	return OpenAccountWith(ctx, acct, base, OpenOptions{Secrets: secrets})
}

// OpenOptions are OpenAccountWith's dependencies; zero values take the
// defaults.
type OpenOptions struct {
	// Secrets finds passwords and keeps OAuth2 refresh tokens; nil means
	// the system keyring and RunPasswordCmd.
	Secrets *Secrets
	// OAuth2HTTP is the client for the identity provider of an OAuth2
	// account; nil means the system roots plus the account's tls_ca.
	OAuth2HTTP *http.Client
	// Now is the clock that access tokens expire by; nil means
	// time.Now.
	Now func() time.Time
}

// OpenAccountWith is OpenAccount with options.
func OpenAccountWith(ctx context.Context, acct AccountConfig, base string, o OpenOptions) (*Account, error) {
	secrets := o.Secrets
	if secrets == nil {
		secrets = &Secrets{}
	}
	dir := acct.DataDir(base)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open account %s: %w", acct.Name, err)
	}
	// 2 MB page caches instead of the store's 8 MB, for the writer and
	// each reader: a full sync of 19,000 messages peaked 11 MB higher
	// with the larger ones (bench/all.sh), and the client's writes and
	// reads are small otherwise.
	st, err := store.Open(ctx, dir, &store.Options{WriteCacheKiB: 2000, ReadCacheKiB: 2000})
	if err != nil {
		return nil, fmt.Errorf("open account %s: %w", acct.Name, err)
	}
	a := &Account{Config: acct, store: st, secrets: secrets}
	if acct.IsOAuth2() {
		if a.oauth, err = newOAuthSource(acct, dir, sourceOptions{Secrets: secrets, HTTP: o.OAuth2HTTP, Now: o.Now}); err != nil {
			st.Close()
			return nil, fmt.Errorf("open account %s: %w", acct.Name, err)
		}
	}
	a.local = &imapsync.Local{Store: st, Changed: a.localChanged}
	a.outbox = a.newOutbox()
	if err := a.ensureMailboxes(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("open account %s: %w", acct.Name, err)
	}
	return a, nil
}

// Close closes the store.
func (a *Account) Close() error { return a.store.Close() }

// ensureMailboxes creates the local Outbox and, for POP3 accounts (whose
// server has only an inbox), the usual folders with their roles. IMAP
// accounts get their folders from the server's LIST.
func (a *Account) ensureMailboxes(ctx context.Context) error {
	want := []struct{ name, use string }{{OutboxName, ""}}
	if a.Config.Mode == ModePOP3 {
		want = append(want,
			struct{ name, use string }{"Sent", store.SpecialSent},
			struct{ name, use string }{"Drafts", store.SpecialDrafts},
			struct{ name, use string }{"Trash", store.SpecialTrash},
			struct{ name, use string }{"Archive", store.SpecialArchive},
			struct{ name, use string }{"Junk", store.SpecialJunk})
	}
	for _, w := range want {
		if _, err := a.store.Mailbox(ctx, w.name); err == nil {
			continue
		}
		if _, err := a.store.CreateMailbox(ctx, w.name, w.use); err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
	return nil
}

// OutboxName is the local mailbox where composed mail waits for SMTP.
const OutboxName = "Outbox"

// Role names a special folder.
type Role string

// The folder roles (RFC 6154 special use).
const (
	RoleSent    Role = "sent"
	RoleDrafts  Role = "drafts"
	RoleTrash   Role = "trash"
	RoleArchive Role = "archive"
	RoleJunk    Role = "junk"
)

// Folder returns the mailbox that plays role: the configured override,
// else the mailbox with the matching special use, else "" (no such
// folder: Delete and Archive then create one, see roleFolder).
func (a *Account) Folder(ctx context.Context, role Role) (string, error) {
	f := a.Config.Folders
	override := map[Role]string{RoleSent: f.Sent, RoleDrafts: f.Drafts, RoleTrash: f.Trash, RoleArchive: f.Archive, RoleJunk: f.Junk}[role]
	if override != "" {
		return override, nil
	}
	use := map[Role]string{RoleSent: store.SpecialSent, RoleDrafts: store.SpecialDrafts, RoleTrash: store.SpecialTrash,
		RoleArchive: store.SpecialArchive, RoleJunk: store.SpecialJunk}[role]
	mbs, err := a.store.Mailboxes(ctx)
	if err != nil {
		return "", fmt.Errorf("folder %s: %w", role, err)
	}
	for _, mb := range mbs {
		if mb.SpecialUse == use {
			return mb.Name, nil
		}
	}
	return "", nil
}

// password returns the account's password from the keyring or command.
func (a *Account) password(ctx context.Context) (string, error) {
	return a.secrets.Password(ctx, a.Config)
}

// credential returns how the account's connections sign in: its OAuth2
// token source, or its password.
func (a *Account) credential(ctx context.Context) (credential, error) {
	if a.oauth != nil {
		return credential{oauth: a.oauth}, nil
	}
	pw, err := a.password(ctx)
	return credential{password: pw}, err
}

// oauthSource returns the account's token source, or nil (an interface
// holding no *oauthSource) for a password account.
func (a *Account) oauthSource() lbsync.TokenSource {
	if a.oauth == nil {
		return nil
	}
	return a.oauth
}

// tlsFor returns the TLS configuration for host, with the account's CA.
func (a *Account) tlsFor(host string) (*tls.Config, error) {
	return TLSConfig(a.Config, host)
}

// endpoint returns the host:port and security of a server of the account.
func endpoint(s ServerConfig, proto Protocol) (addr, host string, sec Security) {
	s = s.WithDefaults(proto)
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), s.Host, s.Security
}
