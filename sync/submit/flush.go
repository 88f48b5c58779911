package submit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// FlushOptions tune a Flush.
type FlushOptions struct {
	// RetryFailed sends messages marked failed (FlagFailed) too.
	RetryFailed bool
}

// FlushResult tells what a Flush did.
type FlushResult struct {
	// Sent are the messages now in Sent, in the order they were sent.
	Sent []SentMessage
	// Failed are the messages that failed in this flush: the permanent
	// refusals (the flush went on) and the temporary failure that stopped
	// it, if any.
	Failed []Failure
	// Skipped counts messages marked failed earlier and not retried.
	Skipped int
	// Remaining counts the messages left in the Outbox.
	Remaining int
}

// SentMessage is a message the flush sent (or filed, when an earlier flush
// had sent it).
type SentMessage struct {
	OutboxUID uint32
	// SentUID is the message's UID in the Sent mailbox.
	SentUID   uint32
	MessageID string
}

// Failure is a message that could not be sent.
type Failure struct {
	UID       uint32
	MessageID string
	Subject   string
	// Err is the failure, usually an *Error.
	Err error
	// Permanent reports that the message was marked failed.
	Permanent bool
}

// flusher is the state of one Flush.
type flusher struct {
	o           *Outbox
	st          *state
	box         string
	sent        string // the Sent mailbox
	uidValidity uint32
	sess        *session
	res         FlushResult
}

// Flush sends the queued messages, oldest first, over one connection (a
// new one after a refusal, rather than trust the old one's state).
// Each accepted message is marked sent at once, then stored in Sent with
// \Seen and the Bcc header removed (through FileSent when set; its error
// stops the flush, the message kept, marked sent), then removed from the
// Outbox. A message refused permanently (5xx, or one that
// cannot be read) is marked failed with the reply kept, and the flush goes
// on. A temporary failure (network, timeout, 4xx), or a failure of the
// connection itself (TLS, login), stops the flush: the message stays
// queued with the attempt noted, and Flush returns the error with what was
// done so far. Messages marked sent by an earlier flush are filed without
// being sent again. The Outbox is read only once the flush holds the
// outbox lock (see Outbox), so a message another flush sent meanwhile is
// not sent again.
func (o *Outbox) Flush(ctx context.Context, opts FlushOptions) (FlushResult, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	// One flush of a store at a time across processes too (a cron sync
	// beside the interface), or both would send the same message.
	unlock, err := o.Store.Lock(ctx, "outbox", nil)
	if err != nil {
		return FlushResult{}, fmt.Errorf("flush outbox: %w", err)
	}
	defer unlock()
	mb, err := o.Store.Mailbox(ctx, o.outbox())
	if errors.Is(err, store.ErrNotFound) {
		return FlushResult{}, nil
	}
	if err != nil {
		return FlushResult{}, fmt.Errorf("flush outbox: %w", err)
	}
	msgs, err := o.Store.Fetch(ctx, mb.Name, nil)
	if err != nil {
		return FlushResult{}, fmt.Errorf("flush outbox: %w", err)
	}
	st, err := loadState(o.Store.Root())
	if err != nil {
		return FlushResult{}, fmt.Errorf("flush outbox: %w", err)
	}
	sent, err := o.sent(ctx)
	if err != nil {
		return FlushResult{}, fmt.Errorf("flush outbox: sent folder: %w", err)
	}
	f := &flusher{o: o, st: st, box: mb.Name, sent: sent, uidValidity: mb.UIDValidity}
	err = f.run(ctx, msgs, opts)
	if f.sess != nil {
		f.sess.quit()
	}
	f.res.Remaining = len(msgs) - len(f.res.Sent)
	keep := map[string]bool{}
	for _, m := range msgs {
		keep[noteKey(f.box, f.uidValidity, m.UID)] = true
	}
	for _, s := range f.res.Sent {
		delete(keep, noteKey(f.box, f.uidValidity, s.OutboxUID))
	}
	if st.prune(f.box, keep) {
		if serr := st.save(); serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		return f.res, fmt.Errorf("flush outbox: %w", err)
	}
	return f.res, nil
}

// run handles the messages in order until one stops the flush.
func (f *flusher) run(ctx context.Context, msgs []store.Message, opts FlushOptions) error {
	for i := range msgs {
		m := &msgs[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		key := noteKey(f.box, f.uidValidity, m.UID)
		n := f.st.peek(key)
		switch {
		case m.HasFlag(FlagSent) || n.Sent:
			if err := f.file(ctx, m, true); err != nil {
				return err
			}
			continue
		case (m.HasFlag(FlagFailed) || n.Permanent) && !opts.RetryFailed:
			f.res.Skipped++
			continue
		}
		if err := f.sendOne(ctx, m, key); err != nil {
			return err
		}
	}
	return nil
}

// sendOne submits one queued message and files it. It returns an error
// only when the flush must stop.
func (f *flusher) sendOne(ctx context.Context, m *store.Message, key string) error {
	raw, err := f.o.Store.OpenRaw(ctx, m.ID)
	if errors.Is(err, store.ErrNotFound) {
		// The file is gone: fail this message, not the whole queue.
		return f.failed(ctx, m, key, &Error{Stage: StageMail, Kind: lbsync.Permanent, Message: "cannot send: " + err.Error(), Err: err})
	}
	if err != nil {
		return fmt.Errorf("message %d: %w", m.UID, err)
	}
	defer raw.Close()
	env, err := readEnvelope(raw)
	if err == nil {
		_, err = raw.Seek(env.bodyOffset, io.SeekStart)
	}
	if err != nil {
		return f.failed(ctx, m, key, &Error{Stage: StageMail, Kind: lbsync.Permanent, Message: "cannot send: " + err.Error(), Err: err})
	}
	info, err := raw.Stat()
	if err != nil {
		return fmt.Errorf("message %d: %w", m.UID, err)
	}
	body := &sized{
		Reader: io.MultiReader(bytes.NewReader(env.header), raw),
		n:      int64(len(env.header)) + info.Size() - env.bodyOffset,
	}
	if f.sess == nil {
		if f.o.Server == nil {
			return errors.New("no server configured")
		}
		srv, err := f.o.Server(ctx)
		if err != nil {
			return fmt.Errorf("server settings: %w", err)
		}
		if f.sess, err = dial(ctx, srv); err != nil {
			return f.failed(ctx, m, key, err)
		}
	}
	if err := f.sess.send(ctx, env.from, env.rcpts, body); err != nil {
		// Start over on a fresh connection rather than guess the state of
		// this one.
		f.sess.close()
		f.sess = nil
		return f.failed(ctx, m, key, err)
	}
	if err := f.markSent(ctx, m, key); err != nil {
		return err
	}
	return f.file(ctx, m, false)
}

// markSent records that the server accepted the message: the FlagSent
// keyword, or the state file if the keyword cannot be stored.
func (f *flusher) markSent(ctx context.Context, m *store.Message, key string) error {
	_, ferr := f.o.Store.SetFlags(ctx, f.box, []uint32{m.UID}, store.FlagsAdd, []string{FlagSent})
	if ferr == nil {
		return nil
	}
	f.st.get(key).Sent = true
	if err := f.st.save(); err != nil {
		return fmt.Errorf("message %d was sent but cannot be marked so (%v; %v): a later flush may send it again", m.UID, ferr, err)
	}
	return nil
}

// failed notes a failure of message m. A permanent failure of the message
// marks it failed and lets the flush go on (nil); any other failure is
// returned to stop the flush.
func (f *flusher) failed(ctx context.Context, m *store.Message, key string, err error) error {
	e := classify(ctx, StageConnect, err)
	permanent := e.messageLevel()
	n := f.st.get(key)
	n.Attempts++
	n.LastAttempt = f.o.now()
	n.LastError, n.Code, n.Enhanced = e.Error(), e.Code, e.Enhanced
	n.Permanent = permanent
	f.res.Failed = append(f.res.Failed, Failure{UID: m.UID, MessageID: m.MessageID, Subject: m.Subject, Err: e, Permanent: permanent})
	var errs []error
	if permanent {
		if _, ferr := f.o.Store.SetFlags(ctx, f.box, []uint32{m.UID}, store.FlagsAdd, []string{FlagFailed}); ferr != nil {
			errs = append(errs, ferr)
		}
	}
	if serr := f.st.save(); serr != nil {
		errs = append(errs, serr)
	}
	if !permanent {
		errs = append([]error{fmt.Errorf("message %d: %w", m.UID, e)}, errs...)
	}
	return errors.Join(errs...)
}

// file stores the sent message in Sent (\Seen, without Bcc; through
// FileSent when set) and removes it from the Outbox. When recovering from
// an earlier flush that stopped after sending, a copy already in Sent
// (same Message-ID) is used instead of storing a second one.
func (f *flusher) file(ctx context.Context, m *store.Message, recovering bool) error {
	sent := f.sent
	if err := ensureMailbox(ctx, f.o.Store, sent, store.SpecialSent); err != nil {
		return fmt.Errorf("file sent message %d: %w", m.UID, err)
	}
	var uid uint32
	if recovering && m.MessageID != "" {
		filter := &store.Filter{Header: []store.HeaderMatch{{Key: "Message-ID", Value: "<" + m.MessageID + ">"}}}
		uids, err := f.o.Store.SearchUIDs(ctx, sent, filter)
		if err != nil {
			// Filing without knowing could store a second copy; the
			// message stays in the Outbox marked sent for the next flush.
			return fmt.Errorf("look for sent message %d in %s: %w", m.UID, sent, err)
		}
		if len(uids) > 0 {
			uid = uids[len(uids)-1]
		}
	}
	if uid == 0 {
		var err error
		if uid, err = f.appendSent(ctx, m, sent); err != nil {
			return fmt.Errorf("file sent message %d in %s: %w", m.UID, sent, err)
		}
	}
	if _, err := f.o.Store.Remove(ctx, f.box, []uint32{m.UID}); err != nil {
		return fmt.Errorf("remove sent message %d from %s: %w", m.UID, f.box, err)
	}
	f.res.Sent = append(f.res.Sent, SentMessage{OutboxUID: m.UID, SentUID: uid, MessageID: m.MessageID})
	return nil
}

// appendSent stores the message, Bcc stripped, in the Sent mailbox.
func (f *flusher) appendSent(ctx context.Context, m *store.Message, sent string) (uint32, error) {
	raw, err := f.o.Store.OpenRaw(ctx, m.ID)
	if err != nil {
		return 0, err
	}
	defer raw.Close()
	env, err := readEnvelope(raw)
	if err != nil {
		return 0, err
	}
	if _, err := raw.Seek(env.bodyOffset, io.SeekStart); err != nil {
		return 0, err
	}
	r := io.MultiReader(bytes.NewReader(env.header), raw)
	flags := []string{store.FlagSeen}
	if f.o.FileSent != nil {
		return f.o.FileSent(ctx, sent, r, flags, f.o.now())
	}
	res, err := f.o.Store.Append(ctx, sent, r, store.AppendOptions{Flags: flags, InternalDate: f.o.now()})
	if err != nil {
		return 0, err
	}
	return res.UID, nil
}
