package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
	"github.com/letterbox-mail/letterbox/sync/submit"
)

// Sending: a composed message goes to the local Outbox first (durable
// when Send or Queue returns), then to the SMTP server when the outbox is
// flushed (at once when online, else by the next sync), then to Sent;
// for an IMAP account the Sent copy is also appended to the server's
// Sent folder through the sync journal.

// newOutbox builds the account's one Outbox (OpenAccount): its mutex and
// its lock file serialise every flush of the account, so overlapping
// flushes (the interface's send and a sync, or two processes) never send
// a message twice. The Sent folder is looked up at each flush.
func (a *Account) newOutbox() *submit.Outbox {
	o := &submit.Outbox{Store: a.store, Mailbox: OutboxName, Server: a.smtpServer, SentMailbox: a.sentFolder}
	if a.Config.Mode == ModeIMAP {
		o.FileSent = a.fileSent
	}
	return o
}

// sentFolder names the folder sent mail is filed in: the Sent role, or
// "Sent" (created, with its role, at the first send).
func (a *Account) sentFolder(ctx context.Context) (string, error) {
	sent, err := a.Folder(ctx, RoleSent)
	if err != nil || sent != "" {
		return sent, err
	}
	return "Sent", nil
}

// fileSent stores the Sent copy of an IMAP account through the sync
// journal, so that the next sync appends it to the server's Sent folder
// (created there if the server has none). Its error stops the flush with
// the message kept in the Outbox, marked sent.
func (a *Account) fileSent(ctx context.Context, mailbox string, r io.Reader, flags []string, _ time.Time) (uint32, error) {
	res, err := a.local.Append(ctx, mailbox, r, flags)
	if err != nil {
		return 0, fmt.Errorf("file the Sent copy in %s: %w", mailbox, err)
	}
	return res.UID, nil
}

// Compose returns a new draft from the account's address, with its
// signature.
func (a *Account) Compose() *compose.Draft {
	d := &compose.Draft{From: compose.Address{Name: a.Config.DisplayName, Addr: a.Config.Email}}
	if a.Config.Signature != "" {
		d.Body = "\n\n-- \n" + a.Config.Signature + "\n"
	}
	return d
}

// Me is the account's address.
func (a *Account) Me() compose.Address {
	return compose.Address{Name: a.Config.DisplayName, Addr: a.Config.Email}
}

// Queue builds d and stores it in the Outbox; it returns the UID there.
// Nothing goes to the network.
func (a *Account) Queue(ctx context.Context, d *compose.Draft) (uint32, error) {
	var buf bytes.Buffer
	if err := compose.BuildForOutbox(d, &buf); err != nil {
		return 0, fmt.Errorf("%s: compose: %w", a.Config.Name, err)
	}
	return a.QueueRaw(ctx, &buf)
}

// QueueRaw stores a complete message (with its Bcc header, if any) in the
// Outbox.
func (a *Account) QueueRaw(ctx context.Context, raw *bytes.Buffer) (uint32, error) {
	uid, err := a.outbox.Queue(ctx, raw)
	if err != nil {
		return 0, fmt.Errorf("%s: outbox: %w", a.Config.Name, err)
	}
	return uid, nil
}

// FlushOutbox sends what waits in the Outbox, through the account's one
// Outbox (see newOutbox). A failure that stops the flush (no network, a
// refused login) leaves the rest queued and is returned; it wraps
// ErrQueued and says how many messages wait. Permanent refusals of single
// messages are in the result and marked failed, and retried only with
// retryFailed.
func (a *Account) FlushOutbox(ctx context.Context, retryFailed bool, report Reporter) (FlushResult, error) {
	mb, err := a.store.Mailbox(ctx, OutboxName)
	if err == nil && mb.Total == 0 {
		return submit.FlushResult{}, nil
	}
	report.Report(lbsync.Event{Account: a.Config.Name, Mailbox: OutboxName, Phase: lbsync.PhaseSend})
	res, err := a.outbox.Flush(ctx, submit.FlushOptions{RetryFailed: retryFailed})
	ev := lbsync.Event{Account: a.Config.Name, Mailbox: OutboxName, Phase: lbsync.PhaseSend, Done: len(res.Sent), Total: len(res.Sent) + res.Remaining, Err: err}
	report.Report(ev)
	if err != nil {
		if res.Remaining > 0 {
			err = &queuedError{n: res.Remaining, err: err}
		}
		return res, fmt.Errorf("%s: send: %w", a.Config.Name, err)
	}
	return res, nil
}

// ErrQueued is wrapped by the error of a flush that stopped with messages
// left in the Outbox: they are kept, and go with the next flush (a sync,
// or letterbox outbox NAME --flush) once the cause is fixed. Sending them
// again by hand would send them twice.
var ErrQueued = errors.New("queued in the Outbox")

// queuedError is a flush failure that left n messages queued.
type queuedError struct {
	n   int
	err error
}

// Error says what failed and what stays queued.
func (e *queuedError) Error() string {
	what := "1 message stays"
	if e.n != 1 {
		what = strconv.Itoa(e.n) + " messages stay"
	}
	return fmt.Sprintf("%v (%s queued in the Outbox)", e.err, what)
}

// Unwrap gives the failure and ErrQueued.
func (e *queuedError) Unwrap() []error { return []error{e.err, ErrQueued} }

// Outbox lists the messages waiting in the Outbox with their delivery
// notes (attempts, the server's last reply).
func (a *Account) Outbox(ctx context.Context) ([]Queued, error) {
	q, err := a.outbox.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: outbox: %w", a.Config.Name, err)
	}
	return q, nil
}

// Reply returns a reply draft to message id (all: reply to all).
func (a *Account) Reply(ctx context.Context, id int64, all bool) (*compose.Draft, error) {
	f, err := a.Raw(ctx, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := compose.Reply(f, a.Me(), all)
	if err != nil {
		return nil, fmt.Errorf("%s: reply to %d: %w", a.Config.Name, id, err)
	}
	return d, nil
}

// Forward returns a draft forwarding message id.
func (a *Account) Forward(ctx context.Context, id int64) (*compose.Draft, error) {
	f, err := a.Raw(ctx, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := compose.Forward(f, a.Me())
	if err != nil {
		return nil, fmt.Errorf("%s: forward %d: %w", a.Config.Name, id, err)
	}
	return d, nil
}

// MarkAnswered flags the message a sent reply answered.
func (a *Account) MarkAnswered(ctx context.Context, id int64) error {
	return a.SetFlags(ctx, []int64{id}, []string{store.FlagAnswered}, nil)
}

// ServerReply returns the SMTP server's reply in a send or flush error
// ("535 5.7.8 authentication failed"), or the error's text when the
// failure was not a reply.
func ServerReply(err error) string {
	var se *submit.Error
	if errors.As(err, &se) && se.Code != 0 {
		return strings.Join(strings.Fields(fmt.Sprintf("%d %s %s", se.Code, se.Enhanced, se.Message)), " ")
	}
	return err.Error()
}
