package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/store"
)

// TestSendDraftCLI: a draft (made on the server by another client)
// opens in $EDITOR with send --draft ID --edit and is saved back as one
// new version, here and on the server; send --draft ID then sends it and
// Drafts is empty everywhere.
func TestSendDraftCLI(t *testing.T) {
	srv := cliServer(t)
	dir := t.TempDir()
	addAlice(t, srv, dir)
	ctx := context.Background()
	st, err := srv.Backend.Store(ctx, "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	raw := "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: plan\r\nMessage-ID: <d1@example.test>\r\n\r\nfirst text\r\n"
	if _, err := st.Append(ctx, "Drafts", strings.NewReader(raw), store.AppendOptions{Flags: []string{store.FlagDraft}}); err != nil {
		t.Fatal(err)
	}
	ok := func(args ...string) string {
		t.Helper()
		code, out, errs := cli(t, dir, "", args...)
		if code != 0 {
			t.Fatalf("letterbox %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	ok("sync", "alice")
	drafts := func() []map[string]any {
		return decodeLines(t, ok("list", "alice", "--folder", "Drafts", "--json"))
	}
	d := drafts()
	if len(d) != 1 {
		t.Fatalf("Drafts: %v", d)
	}
	id := fmt.Sprint(int64(d[0]["id"].(float64)))
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", `sed -i -e 's/first text/second text/' -e 's/^Subject: plan/Subject: the plan/'`)
	newID := strings.TrimSpace(ok("send", "alice", "--draft", id, "--edit"))
	if newID == id || newID == "" {
		t.Fatalf("edited draft id %q", newID)
	}
	ok("sync", "alice")
	if d := drafts(); len(d) != 1 || d[0]["subject"] != "the plan" {
		t.Fatalf("Drafts after edit: %v", d)
	}
	if n, _ := st.Count(ctx, `in:Drafts "second text"`, store.SearchOptions{}); n != 1 {
		t.Errorf("server Drafts with the new text: %d", n)
	}
	if mb, _ := st.Mailbox(ctx, "Drafts"); mb.Total != 1 {
		t.Errorf("server Drafts holds %d", mb.Total)
	}
	ok("send", "alice", "--draft", newID)
	ok("sync", "alice")
	if d := drafts(); len(d) != 0 {
		t.Errorf("Drafts after send: %v", d)
	}
	if mb, _ := st.Mailbox(ctx, "Drafts"); mb.Total != 0 {
		t.Errorf("server Drafts holds %d after send", mb.Total)
	}
	waitFor(t, "delivery to bob", func() bool {
		bst, _ := srv.Backend.Store(ctx, "bob@example.test")
		n, _ := bst.Count(ctx, `subject:"the plan" "second text"`, store.SearchOptions{})
		return n == 1
	})
	if code, _, _ := cli(t, dir, "", "send", "alice", "--draft", newID, "--to", "x@example.test"); code != exitUsage {
		t.Errorf("--draft with --to: exit %d", code)
	}
}

// TestDraftForm: the $EDITOR form reads back into the same draft.
func TestDraftForm(t *testing.T) {
	d := &compose.Draft{To: []compose.Address{{Name: "Bob B", Addr: "bob@example.test"}}, Bcc: []compose.Address{{Addr: "h@example.test"}},
		Subject: "s", Body: "line one\n\nline three\n"}
	var got compose.Draft
	if err := parseDraftForm(draftForm(d), &got); err != nil {
		t.Fatal(err)
	}
	if got.Subject != d.Subject || got.Body != d.Body || len(got.To) != 1 || got.To[0] != d.To[0] || len(got.Bcc) != 1 || len(got.Cc) != 0 {
		t.Errorf("got %+v", got)
	}
	if err := parseDraftForm("Subject: x\nFrom: me\n\nbody", &got); err == nil {
		t.Error("a From line was accepted")
	}
}
