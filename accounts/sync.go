package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"

	lbsync "github.com/letterbox-mail/letterbox/sync"
	imapsync "github.com/letterbox-mail/letterbox/sync/imap"
	"github.com/letterbox-mail/letterbox/sync/pop3"
	"github.com/letterbox-mail/letterbox/sync/submit"
)

// SyncOptions configure Account.Sync.
type SyncOptions struct {
	// Force lets an IMAP sync go past the mass-delete guard.
	Force bool
	// Mailboxes limits an IMAP sync to these folders; empty means the
	// subscribed ones.
	Mailboxes []string
	// Report receives progress events; nil drops them.
	Report Reporter
}

// ErrMassDelete is wrapped by the error of a Sync that stopped before
// deleting more than half of a folder (and over 100 messages), locally or
// on the server; SyncOptions.Force goes past it. errors.As with
// *MassDeleteError gives the folder and the counts.
var ErrMassDelete = imapsync.ErrMassDelete

// MassDeleteError is the error of a sync stopped by the mass-delete guard.
type MassDeleteError = imapsync.MassDeleteError

// The results of the sync and send operations, re-exported so that the
// command line and the interface need only this package.
type (
	// IMAPResult is what an IMAP sync did (new, changed, deleted).
	IMAPResult = imapsync.Result
	// POP3Result is what a POP3 download did.
	POP3Result = pop3.Result
	// FlushResult is what an outbox flush did: sent, failed, remaining.
	FlushResult = submit.FlushResult
	// SendFailure is one message the flush could not send, with why.
	SendFailure = submit.Failure
	// Queued is a message waiting in the Outbox with its delivery notes.
	Queued = submit.Queued
)

// SyncResult is what one Account.Sync did.
type SyncResult struct {
	IMAP *IMAPResult `json:"imap,omitempty"`
	POP3 *POP3Result `json:"pop3,omitempty"`
	// Sent counts outbox messages submitted.
	Sent int `json:"sent"`
	// OutboxErr is the outbox flush's failure, if any (the incoming
	// sync's result is still valid).
	OutboxErr error `json:"-"`
}

// Sync runs one sync of the account: the incoming server (IMAP two-way,
// or POP3 download with the account's policy), then the outbox. The
// outbox is flushed even when the incoming server failed (SMTP may be up
// while IMAP is not); its own failure is SyncResult.OutboxErr, and the
// returned error is the incoming server's.
func (a *Account) Sync(ctx context.Context, opts SyncOptions) (SyncResult, error) {
	var res SyncResult
	err := a.syncIncoming(ctx, opts, &res)
	if ctx.Err() == nil {
		fr, ferr := a.FlushOutbox(ctx, false, opts.Report)
		res.Sent = len(fr.Sent)
		res.OutboxErr = ferr
	}
	return res, err
}

// syncIncoming syncs the incoming server into res.
func (a *Account) syncIncoming(ctx context.Context, opts SyncOptions, res *SyncResult) error {
	switch a.Config.Mode {
	case ModePOP3:
		cr, err := a.credential(ctx)
		if err != nil {
			return err
		}
		o, err := a.pop3Options(cr, opts.Report)
		if err != nil {
			return err
		}
		r, err := pop3.Sync(ctx, a.store, o)
		res.POP3 = &r
		if err != nil {
			return fmt.Errorf("%s: %w", a.Config.Name, err)
		}
	default:
		o, err := a.imapOptions(credential{oauth: a.oauthSource()}, opts)
		if err != nil {
			return err
		}
		if a.oauth == nil {
			// The password is looked up while the connection is made.
			o.Server.PasswordFunc = a.password
		}
		r, err := imapsync.Sync(ctx, a.store, o)
		res.IMAP = &r
		if err != nil {
			return fmt.Errorf("%s: %w", a.Config.Name, err)
		}
	}
	return nil
}

// Temporary reports whether a sync or send error is worth retrying as is
// (the network or the server is down, a timeout, or the operation was
// cancelled), as opposed to needing the user (a wrong password, an
// untrusted certificate, a refused message). The kinds are package
// sync's; see ErrAuth for a refused login.
func Temporary(err error) bool {
	k := lbsync.KindOf(err)
	return k == lbsync.Temporary || k == lbsync.Cancelled
}

// ErrAuth is matched (errors.Is) by the error of a Sync, Watch, send or
// login test that a server refused the login name or password of.
var ErrAuth = lbsync.ErrAuth

func (a *Account) imapOptions(cr credential, opts SyncOptions) (imapsync.Options, error) {
	addr, host, sec := endpoint(a.Config.IMAP, IMAP)
	tc, err := a.tlsFor(host)
	if err != nil {
		return imapsync.Options{}, err
	}
	bodies, err := a.Config.Bodies()
	if err != nil {
		return imapsync.Options{}, err
	}
	var bp imapsync.BodyPolicy
	switch bodies.Kind {
	case BodyOnOpen:
		bp.OnOpen = true
	case BodyDays:
		bp.Days = bodies.Days
	}
	return imapsync.Options{
		Account:      a.Config.Name,
		Server:       a.Config.imapConfig(addr, sec, tc, a.Dial, cr),
		PollInterval: a.Config.PollInterval,
		Mailboxes:    opts.Mailboxes,
		AllMailboxes: !a.Config.OnlySubscribed(),
		Bodies:       bp,
		Force:        opts.Force,
		Report:       opts.Report,
	}, nil
}

func (a *Account) pop3Options(cr credential, report lbsync.Reporter) (pop3.Options, error) {
	addr, host, sec := endpoint(a.Config.POP3, POP3)
	tc, err := a.tlsFor(host)
	if err != nil {
		return pop3.Options{}, err
	}
	pol, err := a.Config.POP3Deletion()
	if err != nil {
		return pop3.Options{}, err
	}
	return pop3.Options{
		Account:     a.Config.Name,
		Client:      a.Config.pop3Config(addr, sec, tc, a.Dial, cr),
		Policy:      pol,
		DeleteLocal: a.Config.POP3DeleteLocal,
		Report:      report,
	}, nil
}

// smtpServer returns the account's submission server with its
// credential.
func (a *Account) smtpServer(ctx context.Context) (submit.Server, error) {
	cr, err := a.credential(ctx)
	if err != nil {
		return submit.Server{}, err
	}
	s := a.Config.SMTP.WithDefaults(SMTP)
	tc, err := a.tlsFor(s.Host)
	if err != nil {
		return submit.Server{}, err
	}
	return a.Config.smtpServer(s, tc, a.Dial, cr), nil
}

// TestLogin logs in to the account's incoming server and to its SMTP
// server with password, and says which failed and why. It changes
// nothing on either server.
func TestLogin(ctx context.Context, acct AccountConfig, password string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) error {
	return testLogin(ctx, acct, credential{password: password}, dial)
}

// testLogin is TestLogin with a password or an OAuth2 token source.
func testLogin(ctx context.Context, acct AccountConfig, cr credential, dial dialFunc) error {
	var errs []error
	refused := ErrLoginRefused
	if cr.oauth != nil {
		refused = ErrTokenRefused
	}
	in := acct.Incoming()
	proto := IMAP
	if acct.Mode == ModePOP3 {
		proto = POP3
	}
	addr, host, sec := endpoint(in, proto)
	tc, err := TLSConfig(acct, host)
	if err != nil {
		return err
	}
	if proto == POP3 {
		c, err := pop3.Dial(ctx, acct.pop3Config(addr, sec, tc, dial, cr))
		if err == nil {
			err = c.Quit(ctx)
		}
		if serverRefused(err) {
			err = fmt.Errorf("%w (%v)", refused, err)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("POP3 %s: %w", addr, ExplainTLS(err, host)))
		}
	} else {
		err := imapsync.TestLogin(ctx, acct.imapConfig(addr, sec, tc, dial, cr))
		if serverRefused(err) {
			err = fmt.Errorf("%w (%v)", refused, err)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("IMAP %s: %w", addr, ExplainTLS(err, host)))
		}
	}
	s := acct.SMTP.WithDefaults(SMTP)
	stc, err := TLSConfig(acct, s.Host)
	if err != nil {
		return err
	}
	srv := acct.smtpServer(s, stc, dial, cr)
	if err := submit.TestLogin(ctx, srv); serverRefused(err) {
		errs = append(errs, fmt.Errorf("SMTP %s: %w (%v)", srv, refused, err))
	} else if err != nil {
		errs = append(errs, fmt.Errorf("SMTP %s: %w", srv, ExplainTLS(err, s.Host)))
	}
	return errors.Join(errs...)
}

// serverRefused reports whether err is a server's refusal of the login:
// of kind Auth, but not the identity provider's refusal of an OAuth2
// refresh (or no sign-in kept), which no server saw and which says
// itself what to do.
func serverRefused(err error) bool {
	return errors.Is(err, lbsync.ErrAuth) && !errors.Is(err, ErrSignInExpired) && !errors.Is(err, ErrNotSignedIn)
}

// ErrLoginRefused is wrapped by TestLogin when a server answered but
// refused the login name or password.
var ErrLoginRefused = errors.New("login refused: check the login name and password")

// ErrTokenRefused is wrapped by the login test of an OAuth2 account when
// a server refused the token the provider had just issued: the server
// does not take tokens of this provider, client or scopes, or for this
// user. errors.Is(err, ErrLoginRefused) holds too.
var ErrTokenRefused error = tokenRefused{}

type tokenRefused struct{}

func (tokenRefused) Error() string {
	return "the server refused the new OAuth2 token: check that the provider, client id and scopes are those the mail server accepts, and the address"
}

// Is makes errors.Is(err, ErrLoginRefused) hold.
func (tokenRefused) Is(target error) bool { return target == ErrLoginRefused }

// SyncEvent is a sync progress event, re-exported so that the interface
// needs only this package (ui never imports sync).
type SyncEvent = lbsync.Event

// Reporter receives SyncEvents; a nil Reporter drops them. It must not
// block for long.
type Reporter = lbsync.Reporter

// The sync phases the interface tells apart, re-exported from sync.
const (
	PhaseHeaders = lbsync.PhaseHeaders
	PhaseBodies  = lbsync.PhaseBodies
	PhaseIdle    = lbsync.PhaseIdle
	PhaseDone    = lbsync.PhaseDone
)
