package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/store"
)

// openSender opens an IMAP account of alice on srv whose incoming server
// is imap (a closed port for "offline") and whose SMTP is srv's
// submission port, with password pw in a fake keyring.
func openSender(t *testing.T, srv *server.Server, imapPort int, pw string) *Account {
	t.Helper()
	port := func(name string) int {
		a := srv.Addr(name).String()
		p, _ := strconv.Atoi(a[strings.LastIndexByte(a, ':')+1:])
		return p
	}
	if imapPort == 0 {
		imapPort = port("imaps")
	}
	acct := AccountConfig{Name: "alice", Email: "alice@example.test", Mode: ModeIMAP, TLSCA: srv.CertFile,
		IMAP: ServerConfig{Host: "127.0.0.1", Port: imapPort, Security: SecurityTLS},
		SMTP: ServerConfig{Host: "127.0.0.1", Port: port("smtps"), Security: SecurityTLS}}
	kr := &fakeKeyring{entries: map[string]string{KeyringService + "/alice": pw}}
	a, err := OpenAccount(context.Background(), acct, t.TempDir(), &Secrets{Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// delivered counts the messages in bob's INBOX on srv whose subject
// starts with prefix.
func delivered(t *testing.T, srv *server.Server, prefix string) map[string]int {
	t.Helper()
	st, err := srv.Backend.Store(context.Background(), "bob@example.test")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Fetch(context.Background(), store.Inbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, prefix) {
			out[m.Subject]++
		}
	}
	return out
}

func queueTo(t *testing.T, a *Account, subject string) {
	t.Helper()
	d := a.Compose()
	d.To, d.Subject, d.Body = []compose.Address{{Addr: "bob@example.test"}}, subject, "hello"
	if _, err := a.Queue(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentFlushOutbox: flushes of one account that overlap (the
// interface's send and a sync, say) share its one Outbox, and a second
// account value over the same data (another process) is kept out by the
// outbox lock: every message is delivered once.
func TestConcurrentFlushOutbox(t *testing.T) {
	srv := addServer(t)
	a := openSender(t, srv, 0, "alice")
	const n = 8
	for i := range n {
		queueTo(t, a, fmt.Sprintf("once-%d", i))
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.FlushOutbox(context.Background(), false, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := delivered(t, srv, "once-")
	if len(got) != n {
		t.Errorf("delivered %v, want %d subjects", got, n)
	}
	for s, c := range got {
		if c != 1 {
			t.Errorf("%s delivered %d times", s, c)
		}
	}
	q, err := a.Outbox(context.Background())
	if err != nil || len(q) != 0 {
		t.Errorf("Outbox = %+v, %v", q, err)
	}
}

// TestSyncFlushesWhenIncomingFails: a sync whose IMAP server cannot be
// reached still sends the Outbox when SMTP is up, and says both.
func TestSyncFlushesWhenIncomingFails(t *testing.T) {
	srv := addServer(t)
	a := openSender(t, srv, closedPort(t), "alice")
	queueTo(t, a, "despite-imap")
	res, err := a.Sync(context.Background(), SyncOptions{})
	if err == nil {
		t.Fatal("sync succeeded with the IMAP server down")
	}
	if res.Sent != 1 || res.OutboxErr != nil {
		t.Errorf("sent %d, outbox error %v; want the outbox flushed", res.Sent, res.OutboxErr)
	}
	if got := delivered(t, srv, "despite-imap"); got["despite-imap"] != 1 {
		t.Errorf("delivered %v", got)
	}
}

// TestFlushWrongSMTPPassword: a refused SMTP login leaves the message in
// the Outbox, and the error says so (errors.Is ErrAuth, ErrQueued).
func TestFlushWrongSMTPPassword(t *testing.T) {
	srv := addServer(t)
	a := openSender(t, srv, 0, "wrong")
	queueTo(t, a, "refused-login")
	_, err := a.FlushOutbox(context.Background(), false, nil)
	if !errors.Is(err, ErrAuth) || !errors.Is(err, ErrQueued) {
		t.Fatalf("FlushOutbox = %v, want ErrAuth and ErrQueued", err)
	}
	if !strings.Contains(err.Error(), "1 message") {
		t.Errorf("error %q does not say what stays queued", err)
	}
	q, _ := a.Outbox(context.Background())
	if len(q) != 1 {
		t.Errorf("Outbox holds %d", len(q))
	}
}

// TestSentCopyToServerWithoutSent: end to end, a message sent from an
// IMAP account whose server has no Sent folder (a Dovecot without one):
// the Sent copy is journaled by the flush, the sync creates Sent on the
// server and uploads the copy; nothing is dropped and the sync says so.
func TestSentCopyToServerWithoutSent(t *testing.T) {
	srv := addServer(t)
	d := testpeer.StartDovecotWith(t, map[string]string{"alice@example.test": "alice"}, testpeer.DovecotOptions{NoSpecialFolders: true})
	_, port, _ := net.SplitHostPort(d.IMAP)
	p, _ := strconv.Atoi(port)
	a := openSender(t, srv, 0, "alice")
	a.Config.IMAP = ServerConfig{Host: "127.0.0.1", Port: p, Security: SecurityNone}
	ctx := context.Background()
	if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	queueTo(t, a, "copy kept")
	res, err := a.Sync(ctx, SyncOptions{})
	if err != nil || res.Sent != 1 {
		t.Fatalf("sync: sent %d, %v", res.Sent, err)
	}
	// The copy was journaled during that sync's flush; the next sync
	// uploads it.
	res, err = a.Sync(ctx, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.IMAP.Dropped != 0 || !slices.ContainsFunc(res.IMAP.Notes, func(n string) bool { return strings.Contains(n, "Sent: created on the server") }) {
		t.Errorf("sync result %+v", res.IMAP)
	}
	c, err := imapclient.DialInsecure(d.IMAP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice@example.test", "alice").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("Sent", nil).Wait()
	if err != nil || sel.NumMessages != 1 {
		t.Fatalf("server Sent: %+v, %v", sel, err)
	}
	if j, _ := a.PendingChanges(ctx); len(j) != 0 {
		t.Errorf("journal: %+v", j)
	}
	// Deleting the copy: the server has no Trash either, so one is
	// created, here and there, and the message moved into it.
	sent, err := a.List(ctx, "Sent", "", 10)
	if err != nil || len(sent) != 1 {
		t.Fatalf("local Sent: %d, %v", len(sent), err)
	}
	if err := a.Delete(ctx, []int64{sent[0].ID}); err != nil {
		t.Fatal(err)
	}
	if res, err = a.Sync(ctx, SyncOptions{}); err != nil || res.IMAP.Dropped != 0 || res.IMAP.Failed != 0 {
		t.Fatalf("sync after delete: %+v, %v", res.IMAP, err)
	}
	for box, want := range map[string]uint32{"Trash": 1, "Sent": 0} {
		sel, err := c.Select(box, nil).Wait()
		if err != nil || sel.NumMessages != want {
			t.Errorf("server %s: %+v, %v; want %d messages", box, sel, err, want)
		}
	}
}
