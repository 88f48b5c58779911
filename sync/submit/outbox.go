package submit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/letterbox-mail/letterbox/store"
)

// Keywords the outbox sets on queued messages.
const (
	// FlagSent marks a message the server accepted but that is not yet
	// filed in Sent; Flush files it and never sends it again.
	FlagSent = "$LetterboxSent"
	// FlagFailed marks a message the server refused permanently; Flush
	// skips it unless FlushOptions.RetryFailed or Retry.
	FlagFailed = "$LetterboxFailed"
)

// Default mailbox names.
const (
	DefaultOutbox = "Outbox"
	DefaultSent   = "Sent"
)

// Outbox is the queue of messages waiting to be sent, kept in a mailbox of
// the store, with the delivery notes (attempts, last error, the server's
// reply to a refusal) in StateFile under the store's root.
//
// Flush and Retry are serialised: within a process by the Outbox's mutex
// (keep one Outbox per account and do not copy it), across processes by
// the store's "outbox" lock (store.Lock). Queue and Status may run
// alongside a Flush.
type Outbox struct {
	Store Store
	// Mailbox is the Outbox mailbox, DefaultOutbox when empty; created on
	// first use.
	Mailbox string
	// Sent is the mailbox sent messages go to, DefaultSent when empty;
	// created with the \Sent special use if missing.
	Sent string
	// SentMailbox, when set, names the Sent mailbox at each Flush instead
	// of Sent (an account's Sent folder may change while it is open).
	SentMailbox func(ctx context.Context) (string, error)
	// Server returns the submission server settings. It is called once
	// per Flush that has something to send, so a password is looked up
	// only when needed.
	Server func(ctx context.Context) (Server, error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// FileSent, if set, stores the Sent copy (read from r, with flags
	// and date) in mailbox and returns its UID there, instead of
	// Store.Append: an IMAP account journals it, so that the next sync
	// uploads it to the server's Sent folder. Its error stops the Flush;
	// the message stays in the Outbox marked sent, and the next Flush
	// files it without sending it again. It runs inside Flush and must
	// not call Flush or Retry.
	FileSent func(ctx context.Context, mailbox string, r io.Reader, flags []string, date time.Time) (uint32, error)

	mu sync.Mutex // serialises Flush and Retry
}

func (o *Outbox) outbox() string {
	if o.Mailbox == "" {
		return DefaultOutbox
	}
	return o.Mailbox
}

// sent returns the Sent mailbox of this flush.
func (o *Outbox) sent(ctx context.Context) (string, error) {
	if o.SentMailbox != nil {
		name, err := o.SentMailbox(ctx)
		if err != nil || name != "" {
			return name, err
		}
	}
	if o.Sent == "" {
		return DefaultSent, nil
	}
	return o.Sent, nil
}

func (o *Outbox) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// Queue stores the raw message in the Outbox mailbox and returns its UID
// there; the message is durable when Queue returns. The message must have
// a From and at least one recipient in To, Cc or Bcc (ErrNoRecipients
// otherwise); it should keep its Bcc header, which Flush strips.
func (o *Outbox) Queue(ctx context.Context, raw io.Reader) (uint32, error) {
	var head bytes.Buffer
	lr := &io.LimitedReader{R: raw, N: maxHeaderBytes}
	h, err := textproto.ReadHeader(bufio.NewReader(io.TeeReader(lr, &head)))
	if err != nil {
		return 0, fmt.Errorf("queue message: read header: %w", err)
	}
	if _, err := envelopeOf(h); err != nil {
		return 0, fmt.Errorf("queue message: %w", err)
	}
	if err := ensureMailbox(ctx, o.Store, o.outbox(), ""); err != nil {
		return 0, fmt.Errorf("queue message: %w", err)
	}
	res, err := o.Store.Append(ctx, o.outbox(), io.MultiReader(&head, raw), store.AppendOptions{
		Flags:        []string{store.FlagSeen},
		InternalDate: o.now(),
	})
	if err != nil {
		return 0, fmt.Errorf("queue message: %w", err)
	}
	return res.UID, nil
}

// ensureMailbox creates mailbox name if it does not exist.
func ensureMailbox(ctx context.Context, st Store, name, specialUse string) error {
	_, err := st.Mailbox(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		_, err = st.CreateMailbox(ctx, name, specialUse)
		if errors.Is(err, store.ErrExists) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("mailbox %q: %w", name, err)
	}
	return nil
}

// Queued is one message waiting in the Outbox, for display.
type Queued struct {
	UID       uint32
	MessageID string
	Subject   string
	Date      time.Time
	To        []store.Address
	// Sent reports a message the server accepted, waiting to be filed.
	Sent bool
	// Failed reports a permanent refusal: not retried until asked.
	Failed      bool
	Attempts    int
	LastAttempt time.Time
	// LastError is the last failure; Code and Enhanced the server's reply
	// codes when it was a reply.
	LastError string
	Code      int
	Enhanced  string
}

// Status lists the queued messages, oldest first, with their delivery
// notes.
func (o *Outbox) Status(ctx context.Context) ([]Queued, error) {
	mb, err := o.Store.Mailbox(ctx, o.outbox())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox status: %w", err)
	}
	msgs, err := o.Store.Fetch(ctx, mb.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("outbox status: %w", err)
	}
	st, err := loadState(o.Store.Root())
	if err != nil {
		return nil, fmt.Errorf("outbox status: %w", err)
	}
	out := make([]Queued, len(msgs))
	for i, m := range msgs {
		n := st.peek(noteKey(mb.Name, mb.UIDValidity, m.UID))
		out[i] = Queued{
			UID: m.UID, MessageID: m.MessageID, Subject: m.Subject, Date: m.Date, To: m.To,
			Sent:     m.HasFlag(FlagSent) || n.Sent,
			Failed:   m.HasFlag(FlagFailed) || n.Permanent,
			Attempts: n.Attempts, LastAttempt: n.LastAttempt,
			LastError: n.LastError, Code: n.Code, Enhanced: n.Enhanced,
		}
	}
	return out, nil
}

// Retry clears the failed mark of the given queued messages, so that the
// next Flush tries them again.
func (o *Outbox) Retry(ctx context.Context, uids ...uint32) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	// The state file is shared with other processes' flushes.
	unlock, err := o.Store.Lock(ctx, "outbox", nil)
	if err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	defer unlock()
	mb, err := o.Store.Mailbox(ctx, o.outbox())
	if err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	if _, err := o.Store.SetFlags(ctx, mb.Name, uids, store.FlagsRemove, []string{FlagFailed}); err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	st, err := loadState(o.Store.Root())
	if err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	for _, uid := range uids {
		if n := st.Notes[noteKey(mb.Name, mb.UIDValidity, uid)]; n != nil {
			n.Permanent = false
		}
	}
	if err := st.save(); err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	return nil
}
