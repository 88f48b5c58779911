package imapsync

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Connection security of Config.Security.
const (
	SecurityTLS      = "tls"      // implicit TLS (port 993)
	SecurityStartTLS = "starttls" // STARTTLS on the plain port (143)
	SecurityNone     = "none"     // no encryption (tests, loopback)
)

// Config says how to reach and log in to the server.
type Config struct {
	// Addr is "host:port".
	Addr string
	// Security is SecurityTLS (when empty), SecurityStartTLS or
	// SecurityNone.
	Security string
	// TLS is the client TLS configuration; nil means the system roots
	// with the host of Addr as the server name.
	TLS *tls.Config
	// Dial opens the TCP connection; net.Dialer.DialContext when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Login and Password are the credentials for LOGIN.
	Login, Password string
	// PasswordFunc, when set, supplies the password instead of Password.
	// It runs while the connection is being made (TCP, TLS, greeting), so
	// a keyring lookup or a password command adds no time of its own; its
	// error ends the connection attempt and is returned as is.
	PasswordFunc func(context.Context) (string, error)
	// OAuth2, when set, signs in with a bearer token instead of a
	// password: AUTHENTICATE OAUTHBEARER, or XOAUTH2 when the server
	// offers only that (RFC 7628), as Login. A refused token is refreshed
	// and tried once more (lbsync.OAuthRetry). Password and PasswordFunc
	// are then unused.
	OAuth2 lbsync.TokenSource

	// ConnectTimeout bounds each step of setting up the connection: the
	// TCP connect, the TLS handshake (and STARTTLS), the greeting;
	// lbsync.DefaultConnectTimeout when zero, none when negative.
	ConnectTimeout time.Duration
	// CommandTimeout is how long the server may stay silent while a reply
	// is due (an inactivity bound, renewed by every read, so a long
	// download never times out while it flows; IDLE is exempt);
	// lbsync.DefaultCommandTimeout when zero, none when negative.
	CommandTimeout time.Duration
	// MaxLine bounds a server response's octets outside literals
	// (DefaultMaxLine when zero; UID lists may be 64 times longer).
	MaxLine int64
	// MaxLiteral bounds each literal the server sends, that is the
	// largest message accepted (DefaultMaxLiteral when zero).
	MaxLiteral int64
}

// timeouts returns the connect and command timeouts, 0 for none.
func (c Config) timeouts() (connect, command time.Duration) {
	t := lbsync.Timeouts{Connect: c.ConnectTimeout, Command: c.CommandTimeout}
	return t.ConnectOr(), t.CommandOr()
}

// limits returns the guard's bounds.
func (c Config) limits() guardLimits {
	l := guardLimits{maxLine: c.MaxLine, maxLiteral: c.MaxLiteral}
	if l.maxLine <= 0 {
		l.maxLine = DefaultMaxLine
	}
	if l.maxLiteral <= 0 {
		l.maxLiteral = DefaultMaxLiteral
	}
	return l
}

// BodyPolicy says which message bodies a sync downloads after the
// headers. The zero value downloads all of them.
type BodyPolicy struct {
	// OnOpen downloads no bodies during a sync: FetchBody gets one when
	// the message is opened.
	OnOpen bool
	// Days, when positive, downloads the bodies of messages that arrived
	// in the last Days days; older ones are fetched on open.
	Days int
}

// Options configure Sync and Watch.
type Options struct {
	// Account names the account in progress events.
	Account string
	// Server says where and as whom to log in.
	Server Config
	// Mailboxes are the local names of the mailboxes to sync. Empty means
	// the subscribed ones (INBOX always), or all with AllMailboxes.
	Mailboxes []string
	// AllMailboxes syncs every selectable mailbox, subscribed or not.
	AllMailboxes bool
	// Bodies says which bodies to download.
	Bodies BodyPolicy
	// Force lets a sync go on past the mass-delete guard.
	Force bool
	// Resume says how often and after how long Sync reconnects when the
	// connection is lost in the middle of a run (3 times, from 1s, when
	// zero).
	Resume lbsync.Resume
	// Report receives progress events; nil drops them.
	Report lbsync.Reporter

	// Changes is for Watch: a value means local actions wrote to the
	// journal (see Local.Changed), which Watch then replays at once.
	Changes <-chan struct{}
	// Interval is how often Watch syncs every mailbox, besides the IDLE
	// updates of INBOX; 15 minutes when zero.
	Interval time.Duration
	// Backoff bounds Watch's reconnect delays, which start at Backoff.Min
	// and double up to Backoff.Max, jittered; 1s and 5m when zero.
	Backoff Backoff
	// PollInterval is how often Watch leaves IDLE to check the
	// connection and, on a server without NOTIFY (RFC 5465), to ask for
	// the STATUS of the other folders it syncs; 5 minutes when zero.
	PollInterval time.Duration
	// commitMsgs, when set, replaces commitMsgs (tests).
	commitMsgs int
}

// Backoff bounds reconnect delays.
type Backoff struct {
	// Min is the first delay, Max the longest.
	Min, Max time.Duration
}

// Result counts what a sync did.
type Result struct {
	// Mailboxes is the number of mailboxes synced.
	Mailboxes int
	// New counts messages downloaded (headers at least); Adopted counts
	// server messages matched to local copies instead of downloaded.
	New, Adopted int
	// Flags counts local messages whose flags the server changed.
	Flags int
	// Expunged counts local messages removed because the server no longer
	// has them.
	Expunged int
	// Bodies counts message bodies downloaded.
	Bodies int
	// Replayed, Failed and Dropped count journal entries: sent to the
	// server, refused by it this time, given up on.
	Replayed, Failed, Dropped int
	// Notes are remarks also sent as events (UIDVALIDITY changes, dropped
	// replays).
	Notes []string
}

func (r *Result) add(o Result) {
	r.Mailboxes += o.Mailboxes
	r.New += o.New
	r.Adopted += o.Adopted
	r.Flags += o.Flags
	r.Expunged += o.Expunged
	r.Bodies += o.Bodies
	r.Replayed += o.Replayed
	r.Failed += o.Failed
	r.Dropped += o.Dropped
	r.Notes = append(r.Notes, o.Notes...)
}
