// Package delivery takes a message the SMTP front end accepted and makes it
// durable: into the INBOX of each local recipient's store and, for other
// domains, into the outbound queue. It is all or nothing: if any part
// fails, the copies already made are removed and the client is told to
// try again, so a message is never half delivered and never acknowledged
// before it is on disk.
//
// The first durable copy is the source of the others: the message is
// streamed from the client straight into the first recipient's store (one
// write and one fsync), and further recipients and the queue copy it from
// there.
//
// It may import store, server/backend and server/smtp (for Envelope); no
// protocol package imports it.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/letterbox-mail/letterbox/server/backend"
	smtpd "github.com/letterbox-mail/letterbox/server/smtp"
	"github.com/letterbox-mail/letterbox/store"
)

// Enqueuer is the outbound queue, as delivery needs it.
type Enqueuer interface {
	// Enqueue makes body durable in the queue for rcpts and returns its id.
	Enqueue(ctx context.Context, from string, rcpts []string, body io.Reader) (string, error)
	// Cancel removes a message just enqueued (used to roll back).
	Cancel(id string) error
}

// Deliverer implements smtpd.Deliverer.
type Deliverer struct {
	be       *backend.Backend
	q        Enqueuer
	hostname string
	log      *slog.Logger
}

var _ smtpd.Deliverer = (*Deliverer)(nil)

// New returns a Deliverer; q may be nil, and then mail for other domains
// is refused with a temporary error.
func New(be *backend.Backend, q Enqueuer, hostname string, log *slog.Logger) *Deliverer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deliverer{be: be, q: q, hostname: hostname, log: log}
}

type placed struct {
	s   *store.Store
	uid uint32
	id  int64
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
	var done []placed
	rollback := func() {
		for _, p := range done {
			if _, err := p.s.Remove(context.Background(), "INBOX", []uint32{p.uid}); err != nil {
				d.log.Error("delivery rollback", "id", env.ID, "err", err)
			}
		}
	}
	var source func() (io.ReadCloser, error) // the first durable copy
	for i, rcpt := range local {
		s, err := d.be.Store(ctx, rcpt)
		if err != nil {
			rollback()
			return fmt.Errorf("deliver to %s: %w", rcpt, err)
		}
		var r io.Reader
		var closer io.Closer
		if i == 0 {
			r = io.MultiReader(strings.NewReader(d.trace(env, rcpt, len(local) == 1)), body)
		} else {
			rc, err := source()
			if err != nil {
				rollback()
				return err
			}
			r, closer = rc, rc
		}
		res, err := s.Append(ctx, "INBOX", r, store.AppendOptions{InternalDate: time.Now()})
		if closer != nil {
			closer.Close()
		}
		if err != nil {
			rollback()
			return clientError(fmt.Errorf("deliver to %s: %w", rcpt, err))
		}
		done = append(done, placed{s, res.UID, res.ID})
		if i == 0 {
			first := done[0]
			source = func() (io.ReadCloser, error) { return first.s.OpenRaw(ctx, first.id) }
		}
	}
	if len(remote) > 0 {
		var r io.Reader
		if source != nil {
			rc, err := source()
			if err != nil {
				rollback()
				return err
			}
			defer rc.Close()
			r = rc
		} else {
			r = io.MultiReader(strings.NewReader(d.trace(env, "", false)), body)
		}
		if _, err := d.q.Enqueue(ctx, env.From, remote, r); err != nil {
			rollback()
			return clientError(fmt.Errorf("queue: %w", err))
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

// trace returns the Received field (RFC 5321 section 4.4, with the RFC
// 3848 protocol names) and, for local delivery to one recipient, the
// Return-Path.
func (d *Deliverer) trace(env smtpd.Envelope, rcpt string, returnPath bool) string {
	proto := "ESMTP"
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
	if returnPath {
		fmt.Fprintf(&b, "Return-Path: <%s>\r\n", env.From)
	}
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n\tby %s (letterbox) with %s id %s", headerSafe(env.Helo), ip, d.hostname, proto, env.ID)
	if rcpt != "" {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", rcpt)
	}
	fmt.Fprintf(&b, "; %s\r\n", time.Now().Format(time.RFC1123Z))
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
