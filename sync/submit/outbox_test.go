package submit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// outboxFixture is an Outbox over a fresh store, sending to a test server.
type outboxFixture struct {
	ob  *Outbox
	st  *store.Store
	be  *backend
	srv Server

	mu     sync.Mutex
	onSent []uint32
}

func newOutbox(t *testing.T, be *backend) *outboxFixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &outboxFixture{st: st, be: be, srv: startServer(t, be, modeStartTLS)}
	f.ob = &Outbox{
		Store:  st,
		Server: func(context.Context) (Server, error) { return f.srv, nil },
		Now:    func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) },
		FileSent: func(ctx context.Context, mailbox string, r io.Reader, flags []string, date time.Time) (uint32, error) {
			if mailbox != DefaultSent {
				t.Errorf("FileSent mailbox %q", mailbox)
			}
			res, err := st.Append(ctx, mailbox, r, store.AppendOptions{Flags: flags, InternalDate: date})
			f.mu.Lock()
			f.onSent = append(f.onSent, res.UID)
			f.mu.Unlock()
			return res.UID, err
		},
	}
	return f
}

func (f *outboxFixture) queue(t *testing.T, msgs ...string) []uint32 {
	t.Helper()
	var uids []uint32
	for _, m := range msgs {
		uid, err := f.ob.Queue(context.Background(), strings.NewReader(m))
		if err != nil {
			t.Fatalf("Queue: %v", err)
		}
		uids = append(uids, uid)
	}
	return uids
}

// raws returns the raw messages of a mailbox, in UID order.
func (f *outboxFixture) raws(t *testing.T, mailbox string) ([]store.Message, []string) {
	t.Helper()
	ctx := context.Background()
	msgs, err := f.st.Fetch(ctx, mailbox, nil)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		r, err := f.st.OpenRaw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		out = append(out, string(b))
	}
	return msgs, out
}

func subjects(ds []delivered) []string {
	var out []string
	for _, d := range ds {
		_, rest, _ := strings.Cut(string(d.data), "Subject: ")
		s, _, _ := strings.Cut(rest, "\r\n")
		out = append(out, s)
	}
	return out
}

func TestFlushOrderAndBcc(t *testing.T) {
	f := newOutbox(t, &backend{login: "me", password: "pw"})
	f.queue(t,
		testMessage("me@example.org", "ann@example.com", "", "one"),
		testMessage("me@example.org", "Ann <ann@example.com>, bob@example.net", "Secret <hidden@example.com>, ANN@example.com", "two"),
		testMessage("me@example.org", "carl@example.com", "", "three"),
	)
	res, err := f.ob.Flush(context.Background(), FlushOptions{})
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if len(res.Sent) != 3 || len(res.Failed) != 0 || res.Remaining != 0 {
		t.Fatalf("result %+v", res)
	}
	got := f.be.delivered()
	if s := strings.Join(subjects(got), ","); s != "one,two,three" {
		t.Fatalf("delivered in order %q", s)
	}
	if r := strings.Join(got[1].rcpts, ","); r != "ann@example.com,bob@example.net,hidden@example.com" {
		t.Errorf("envelope of the Bcc message: %s", r)
	}
	for _, d := range got {
		if bytes.Contains(bytes.ToLower(d.data), []byte("bcc")) || bytes.Contains(d.data, []byte("hidden@")) {
			t.Errorf("Bcc in delivered bytes:\n%s", d.data)
		}
		if !d.tls || d.user != "me" {
			t.Errorf("delivered without TLS or login")
		}
	}
	sent, raws := f.raws(t, DefaultSent)
	if len(sent) != 3 {
		t.Fatalf("Sent holds %d messages", len(sent))
	}
	for i, m := range sent {
		if !m.HasFlag(store.FlagSeen) || m.HasFlag(FlagSent) {
			t.Errorf("Sent message %d flags %v", m.UID, m.Flags)
		}
		if strings.Contains(strings.ToLower(raws[i]), "bcc") || raws[i] != string(got[i].data) {
			t.Errorf("Sent copy %d differs from what was delivered:\n%s", i, raws[i])
		}
		if res.Sent[i].SentUID != m.UID {
			t.Errorf("result Sent[%d] = %+v, Sent UID %d", i, res.Sent[i], m.UID)
		}
	}
	if mb, err := f.st.Mailbox(context.Background(), DefaultSent); err != nil || mb.SpecialUse != store.SpecialSent {
		t.Errorf("Sent mailbox %+v, %v", mb, err)
	}
	if outbox, _ := f.raws(t, DefaultOutbox); len(outbox) != 0 {
		t.Errorf("Outbox still holds %d messages", len(outbox))
	}
	if len(f.onSent) != 3 {
		t.Errorf("FileSent called %d times", len(f.onSent))
	}
	// The Outbox copy kept Bcc until it was sent: check with a new queue.
	f.queue(t, testMessage("me@example.org", "ann@example.com", "hidden@example.com", "four"))
	_, raws = f.raws(t, DefaultOutbox)
	if !strings.Contains(raws[0], "Bcc: hidden@example.com") {
		t.Errorf("Outbox copy lost its Bcc:\n%s", raws[0])
	}
}

func TestFlushPermanentFailure(t *testing.T) {
	f := newOutbox(t, &backend{rcptErr: map[string]error{
		"typo@example.com": &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"},
	}})
	uids := f.queue(t,
		testMessage("me@example.org", "ann@example.com", "", "one"),
		testMessage("me@example.org", "typo@example.com", "", "two"),
		testMessage("me@example.org", "bob@example.net", "", "three"),
	)
	ctx := context.Background()
	res, err := f.ob.Flush(ctx, FlushOptions{})
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if len(res.Sent) != 2 || len(res.Failed) != 1 || !res.Failed[0].Permanent || res.Failed[0].UID != uids[1] || res.Remaining != 1 {
		t.Fatalf("result %+v", res)
	}
	status, err := f.ob.Status(ctx)
	if err != nil || len(status) != 1 {
		t.Fatalf("Status = %+v, %v", status, err)
	}
	q := status[0]
	if !q.Failed || q.Code != 550 || q.Enhanced != "5.1.1" || !strings.Contains(q.LastError, "no such user") || q.Attempts != 1 || q.Subject != "two" {
		t.Errorf("status %+v", q)
	}
	// Not retried by itself.
	res, err = f.ob.Flush(ctx, FlushOptions{})
	if err != nil || res.Skipped != 1 || len(res.Failed) != 0 || len(f.be.delivered()) != 2 {
		t.Fatalf("second flush %+v, %v", res, err)
	}
	// Retried when asked, failing again.
	res, err = f.ob.Flush(ctx, FlushOptions{RetryFailed: true})
	if err != nil || len(res.Failed) != 1 {
		t.Fatalf("retrying flush %+v, %v", res, err)
	}
	if status, _ = f.ob.Status(ctx); status[0].Attempts != 2 {
		t.Errorf("attempts %d after retry", status[0].Attempts)
	}
	// Fixed on the server, then Retry: sent.
	f.be.set(func(b *backend) { b.rcptErr = nil })
	if err := f.ob.Retry(ctx, uids[1]); err != nil {
		t.Fatal(err)
	}
	res, err = f.ob.Flush(ctx, FlushOptions{})
	if err != nil || len(res.Sent) != 1 || res.Remaining != 0 {
		t.Fatalf("flush after Retry %+v, %v", res, err)
	}
	if s := strings.Join(subjects(f.be.delivered()), ","); s != "one,three,two" {
		t.Errorf("delivered %q", s)
	}
	if status, _ = f.ob.Status(ctx); len(status) != 0 {
		t.Errorf("status after all sent: %+v", status)
	}
}

func TestFlushTemporaryFailure(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *outboxFixture)
		stage string
	}{
		{"452 on rcpt", func(f *outboxFixture) {
			f.be.set(func(b *backend) {
				b.rcptErr = map[string]error{"ann@example.com": &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "over quota"}}
			})
		}, StageRcpt},
		{"connection dropped in data", func(f *outboxFixture) { f.be.set(func(b *backend) { b.dropData = true }) }, StageData},
		{"offline", func(f *outboxFixture) { f.srv.Dial = refusedDial }, StageConnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOutbox(t, &backend{})
			f.queue(t,
				testMessage("me@example.org", "ann@example.com", "", "one"),
				testMessage("me@example.org", "bob@example.net", "", "two"),
				testMessage("me@example.org", "carl@example.com", "x@example.com", "three"),
			)
			saved := f.srv
			tt.setup(f)
			ctx := context.Background()
			res, err := f.ob.Flush(ctx, FlushOptions{})
			var e *Error
			if !errors.As(err, &e) || !(e.Kind == lbsync.Temporary) || e.Stage != tt.stage || !lbsync.IsTemporary(err) {
				t.Fatalf("Flush error = %v, want a temporary %s failure", err, tt.stage)
			}
			if len(res.Sent) != 0 || res.Remaining != 3 || len(res.Failed) != 1 || res.Failed[0].Permanent {
				t.Fatalf("result %+v", res)
			}
			status, _ := f.ob.Status(ctx)
			if len(status) != 3 || status[0].Attempts != 1 || status[0].Failed || status[1].Attempts != 0 {
				t.Fatalf("status %+v", status)
			}
			// The network is back: everything goes, exactly once.
			f.srv = saved
			f.be.set(func(b *backend) { b.rcptErr, b.dropData = nil, false })
			for i := 0; i < 2; i++ {
				if _, err := f.ob.Flush(ctx, FlushOptions{}); err != nil {
					t.Fatalf("flush %d after recovery: %v", i, err)
				}
			}
			if s := strings.Join(subjects(f.be.delivered()), ","); s != "one,two,three" {
				t.Errorf("delivered %q", s)
			}
			if sent, _ := f.raws(t, DefaultSent); len(sent) != 3 {
				t.Errorf("Sent holds %d", len(sent))
			}
		})
	}
}

func TestFlushAfterCrash(t *testing.T) {
	ctx := context.Background()
	f := newOutbox(t, &backend{})
	uids := f.queue(t,
		testMessage("me@example.org", "ann@example.com", "", "sent before the crash"),
		testMessage("me@example.org", "bob@example.net", "", "filed before the crash"),
	)
	// Both were accepted by the server before a crash; the second was
	// also stored in Sent already.
	if _, err := f.st.SetFlags(ctx, DefaultOutbox, uids, store.FlagsAdd, []string{FlagSent}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.CreateMailbox(ctx, DefaultSent, store.SpecialSent); err != nil {
		t.Fatal(err)
	}
	fl := &flusher{o: f.ob}
	msgs, _ := f.st.Fetch(ctx, DefaultOutbox, uids[1:])
	if _, err := fl.appendSent(ctx, &msgs[0], DefaultSent); err != nil {
		t.Fatal(err)
	}
	res, err := f.ob.Flush(ctx, FlushOptions{})
	if err != nil || len(res.Sent) != 2 {
		t.Fatalf("Flush = %+v, %v", res, err)
	}
	if n := len(f.be.delivered()); n != 0 {
		t.Errorf("%d messages sent again", n)
	}
	if sent, _ := f.raws(t, DefaultSent); len(sent) != 2 {
		t.Errorf("Sent holds %d messages, want 2 (no duplicate)", len(sent))
	}
}

func TestQueueRefuses(t *testing.T) {
	f := newOutbox(t, &backend{})
	tests := []struct {
		name, msg string
		want      error
	}{
		{"no recipients", "From: me@example.org\r\nSubject: x\r\n\r\nbody", ErrNoRecipients},
		{"no from", "To: a@example.com\r\n\r\nbody", ErrNoRecipients},
		{"group only", "From: me@example.org\r\nTo: undisclosed-recipients:;\r\n\r\nbody", ErrNoRecipients},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.ob.Queue(context.Background(), strings.NewReader(tt.msg)); !errors.Is(err, tt.want) {
				t.Errorf("Queue error = %v, want %v", err, tt.want)
			}
		})
	}
	if outbox, _ := f.raws(t, DefaultOutbox); len(outbox) != 0 {
		t.Errorf("refused messages were queued")
	}
}
