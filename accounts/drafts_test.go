package accounts

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// draftTexts returns the text of every message in the account's Drafts.
func draftTexts(t *testing.T, a *Account) []string {
	t.Helper()
	ctx := context.Background()
	msgs, err := a.List(ctx, "Drafts", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		r, err := a.Render(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(r.Text))
	}
	return out
}

// TestDraftEditedTwice: a draft saved, then edited twice (once synced in
// between, once offline, twice in a row) leaves exactly one draft, with
// the last text, here and on the server (a private Dovecot, whose Drafts
// is read by a second account).
func TestDraftEditedTwice(t *testing.T) {
	const user, pw = "ann@example.test", "pw"
	d := testpeer.StartDovecot(t, map[string]string{user: pw})
	_, port, _ := net.SplitHostPort(d.IMAP)
	p, _ := strconv.Atoi(port)
	open := func(name string) *Account {
		acct := AccountConfig{Name: name, Email: user, Mode: ModeIMAP,
			IMAP: ServerConfig{Host: "127.0.0.1", Port: p, Security: SecurityNone},
			SMTP: ServerConfig{Host: "127.0.0.1", Port: closedPort(t), Security: SecurityNone}}
		kr := &fakeKeyring{entries: map[string]string{KeyringService + "/" + name: pw}}
		a, err := OpenAccount(context.Background(), acct, t.TempDir(), &Secrets{Keyring: kr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	ctx := context.Background()
	a, other := open("laptop"), open("phone")
	sync := func(a *Account) {
		t.Helper()
		res, err := a.Sync(ctx, SyncOptions{})
		if err != nil {
			t.Fatalf("sync %s: %v", a.Config.Name, err)
		}
		if res.IMAP.Failed != 0 {
			t.Errorf("sync %s: %+v", a.Config.Name, res.IMAP)
		}
	}
	sync(a)
	draft := a.Compose()
	draft.To, draft.Subject, draft.Body = []compose.Address{{Addr: "bob@example.test"}}, "plan", "version 1\n"
	id, err := a.ReplaceDraft(ctx, 0, draft)
	if err != nil {
		t.Fatal(err)
	}
	sync(a)
	edit := func(text string) {
		t.Helper()
		d, err := a.OpenDraft(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Subject != "plan" || len(d.To) != 1 {
			t.Fatalf("reopened draft %+v", d)
		}
		d.Body = text
		if id, err = a.ReplaceDraft(ctx, id, d); err != nil {
			t.Fatal(err)
		}
	}
	check := func(want string) {
		t.Helper()
		sync(a)
		sync(other)
		for _, acc := range []*Account{a, other} {
			if got := draftTexts(t, acc); len(got) != 1 || got[0] != want {
				t.Errorf("%s: Drafts = %q, want one draft %q", acc.Config.Name, got, want)
			}
		}
		if j, _ := a.PendingChanges(ctx); len(j) != 0 {
			t.Errorf("journal not drained: %+v", j)
		}
	}
	edit("version 2\n")
	check("version 2")
	// Twice while offline, before any sync.
	edit("version 3\n")
	edit("version 4\n")
	check("version 4")
	// Its raw form is still a draft, Bcc and all.
	f, err := a.Raw(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(f)
	f.Close()
	if !strings.Contains(string(raw), "version 4") {
		t.Errorf("raw draft:\n%s", raw)
	}
}

// TestSendDraft: a draft sent goes to the Outbox with its recipients and
// text, and leaves Drafts.
func TestSendDraft(t *testing.T) {
	a := openLocal(t, nil)
	ctx := context.Background()
	d := a.Compose()
	d.To, d.Subject, d.Body = []compose.Address{{Addr: "bob@example.test"}}, "later", "the text\n"
	id, err := a.ReplaceDraft(ctx, 0, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SendDraft(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := draftTexts(t, a); len(got) != 0 {
		t.Errorf("Drafts after send: %q", got)
	}
	q, err := a.Outbox(ctx)
	if err != nil || len(q) != 1 || q[0].Subject != "later" || len(q[0].To) != 1 {
		t.Errorf("Outbox = %+v, %v", q, err)
	}
}
