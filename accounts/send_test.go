package accounts

import (
	"context"
	"testing"

	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// TestSaveDraft: a draft lands in Drafts with \Draft; an IMAP account's
// is journaled for upload, a POP3 account's stays local.
func TestSaveDraft(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		mode    Mode
		journal int
	}{{ModeIMAP, 1}, {ModePOP3, 0}} {
		a, err := OpenAccount(ctx, AccountConfig{Name: "t-" + string(tc.mode), Email: "ann@example.test", Mode: tc.mode}, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		d := a.Compose()
		d.To, d.Subject, d.Body = []compose.Address{{Addr: "bob@example.test"}}, "unfinished", "more later"
		if err := a.SaveDraft(ctx, d); err != nil {
			t.Fatal(err)
		}
		msgs, err := a.List(ctx, "Drafts", "", 10)
		if err != nil || len(msgs) != 1 || !msgs[0].HasFlag(`\Draft`) {
			t.Fatalf("%s: Drafts = %+v, %v", tc.mode, msgs, err)
		}
		j, err := a.store.Journal(ctx)
		if err != nil || len(j) != tc.journal {
			t.Fatalf("%s: journal = %d entries, %v", tc.mode, len(j), err)
		}
		a.Close()
	}
}
