// Package delivery takes a message the SMTP front end accepted and makes it
// durable: into the INBOX of each local recipient's store and, for other
// domains, into the outbound queue. It is all or nothing in two stages:
// the message is prepared in every recipient's store and in the queue
// (written and parsed, invisible, gone after a crash), and only when
// every copy is prepared are they committed; nothing is announced to
// IDLE or POP3 before its commit, and nothing is rolled back by removing
// a delivered copy.
//
// The client's data is read once, into a spool (memory, a file past 1
// MiB), while forged Authentication-Results fields are dropped; on the MX
// port SPF, DKIM and DMARC are checked from it (auth.go). Each copy is
// the spool with that copy's own trace fields in front: a local copy gets
// Return-Path and a Received field naming its recipient only, the queue
// copy a Received field naming no local recipient, so no Bcc recipient
// is named in another's copy.
//
// It may import store, server/backend, server/queue and server/smtp (for
// Envelope); no protocol package imports it.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/server/queue"
	smtpd "github.com/letterbox-mail/letterbox/server/smtp"
	"github.com/letterbox-mail/letterbox/store"
)

// Enqueuer is the outbound queue, as delivery needs it.
type Enqueuer interface {
	// Prepare writes body into the queue for env without queuing it;
	// the returned Pending's Commit does.
	Prepare(ctx context.Context, env queue.Envelope, body io.Reader) (*queue.Pending, error)
}

// Options configure a Deliverer.
type Options struct {
	// Hostname names this server in Received fields and is the
	// authserv-id of Authentication-Results.
	Hostname string
	// SpoolDir holds the part of a message past 1 MiB while it is
	// delivered (an unlinked file); os.TempDir() when empty.
	SpoolDir string
	// Inbound configures SPF, DKIM and DMARC on the MX port.
	Inbound Inbound
	Logger  *slog.Logger
}

// Deliverer implements smtpd.Deliverer.
type Deliverer struct {
	be    *backend.Backend
	q     Enqueuer
	opts  Options
	log   *slog.Logger
	pools *spoolPools
}

var _ smtpd.Deliverer = (*Deliverer)(nil)

// New returns a Deliverer; q may be nil, and then mail for other domains
// is refused with a temporary error.
func New(be *backend.Backend, q Enqueuer, opts Options) *Deliverer {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SpoolDir == "" {
		opts.SpoolDir = os.TempDir()
	}
	if opts.Inbound.Resolver == nil {
		opts.Inbound.Resolver = net.DefaultResolver
	}
	if opts.Inbound.Timeout <= 0 {
		opts.Inbound.Timeout = 20 * time.Second
	}
	return &Deliverer{be: be, q: q, opts: opts, log: opts.Logger, pools: newSpoolPools()}
}

// Deliver implements smtpd.Deliverer.
func (d *Deliverer) Deliver(ctx context.Context, env smtpd.Envelope, body io.Reader) error {
	var local, remote []string
	for _, rcpt := range env.To {
		_, domain, _ := strings.Cut(rcpt, "@")
		if d.be.IsLocalDomain(domain) {
			local = append(local, strings.ToLower(rcpt))
		} else {
			remote = append(remote, rcpt)
		}
	}
	if len(remote) > 0 && d.q == nil {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 3}, Message: "Outbound queue not available"}
	}
	sp, err := newSpool(body, d.opts.SpoolDir, d.opts.Hostname, d.pools)
	if err != nil {
		return clientError(fmt.Errorf("read message: %w", err))
	}
	defer sp.Close()
	authHeader := ""
	if in := d.opts.Inbound; env.User == "" && !in.Off && (in.CheckLoopback || !isLoopback(env.Remote)) {
		v := d.authenticate(ctx, env, sp)
		d.log.Info("smtp authentication", "id", env.ID, "from", env.From, "dmarc", v.dmarc, "reject", v.reject)
		if v.reject {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
				Message: "Message refused: it fails the sender domain's DMARC policy (RFC 7489)"}
		}
		authHeader = v.header
	}
	now := time.Now()

	// Stage 1: prepare every copy. A failure here leaves nothing.
	var stores []*store.Pending
	var qp *queue.Pending
	abort := func() {
		for _, p := range stores {
			p.Abort()
		}
		if qp != nil {
			qp.Abort()
		}
	}
	for _, rcpt := range local {
		s, err := d.be.Store(ctx, rcpt)
		if err != nil {
			abort()
			return fmt.Errorf("deliver to %s: %w", rcpt, err)
		}
		head := "Return-Path: <" + env.From + ">\r\n" + d.received(env, rcpt, now) + authHeader
		p, err := s.Prepare(ctx, "INBOX", io.MultiReader(strings.NewReader(head), sp.Reader()), store.AppendOptions{InternalDate: now})
		if err != nil {
			abort()
			return fmt.Errorf("deliver to %s: %w", rcpt, err)
		}
		stores = append(stores, p)
	}
	if len(remote) > 0 {
		forRcpt := ""
		if len(remote) == 1 {
			forRcpt = remote[0]
		}
		qp, err = d.q.Prepare(ctx, queue.Envelope{From: env.From, Rcpts: remote, UTF8: env.UTF8},
			io.MultiReader(strings.NewReader(d.received(env, forRcpt, now)), sp.Reader()))
		if err != nil {
			abort()
			return fmt.Errorf("queue: %w", err)
		}
	}

	// Stage 2: commit. The stores commit at once (each joins its own
	// group commit), then the queue. A commit fails only on a rename,
	// a sync or the index transaction; if one does after others
	// succeeded, the client is asked to try again, which duplicates
	// the committed copies rather than losing the others (RFC 5321
	// section 6.1 prefers that to loss).
	errs := make([]error, len(stores))
	if len(stores) == 1 {
		_, errs[0] = stores[0].Commit(ctx) // the common case: no goroutine
	} else {
		var wg sync.WaitGroup
		for i, p := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = p.Commit(ctx)
			}()
		}
		wg.Wait()
	}
	committed := 0
	for i, err := range errs {
		if err != nil {
			d.log.Error("delivery commit", "id", env.ID, "rcpt", local[i], "err", err)
		} else {
			committed++
		}
	}
	if err := errors.Join(errs...); err != nil {
		if qp != nil {
			qp.Abort()
		}
		if committed > 0 {
			d.log.Error("delivery partly committed: a retry duplicates the committed copies", "id", env.ID, "committed", committed, "of", len(local))
		}
		return fmt.Errorf("deliver: %w", err)
	}
	if qp != nil {
		if _, err := qp.Commit(); err != nil {
			if committed > 0 {
				d.log.Error("delivery partly committed: a retry duplicates the committed copies", "id", env.ID, "committed", committed, "of", len(local))
			}
			return fmt.Errorf("queue: %w", err)
		}
	}
	return nil
}

// clientError surfaces an SMTP error raised while reading the client's data
// (size limit, bare LF) and leaves other errors for a temporary failure.
func clientError(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se
	}
	return err
}

// DeliverLocal appends a message the server itself wrote (a bounce) to a
// local user's INBOX.
func (d *Deliverer) DeliverLocal(ctx context.Context, user string, r io.Reader) error {
	s, err := d.be.Store(ctx, user)
	if err != nil {
		return err
	}
	_, err = s.Append(ctx, "INBOX", r, store.AppendOptions{InternalDate: time.Now()})
	return err
}

// received returns the Received field (RFC 5321 section 4.4, with the
// RFC 3848 protocol names) of one copy; rcpt, when set, is the copy's
// only recipient, named in a "for" clause.
func (d *Deliverer) received(env smtpd.Envelope, rcpt string, now time.Time) string {
	proto := "ESMTP"
	if env.UTF8 {
		proto = "UTF8SMTP" // RFC 6531 section 3.7.4.2
	}
	if env.TLS {
		proto += "S"
	}
	if env.User != "" {
		proto += "A"
	}
	ip := ""
	if env.Remote != nil {
		ip, _, _ = net.SplitHostPort(env.Remote.String())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n\tby %s (letterbox) with %s id %s", headerSafe(env.Helo), ip, d.opts.Hostname, proto, env.ID)
	if rcpt != "" {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", rcpt)
	}
	fmt.Fprintf(&b, "; %s\r\n", now.Format(time.RFC1123Z))
	return b.String()
}

func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 32 || r == 127 || r == '(' || r == ')' {
			return -1
		}
		return r
	}, s)
}
