package accounts

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/store"
)

// TestUndoLocal: a delete to Trash, a move and a flag change, each
// reversed by Restore of a Snapshot taken before it; a flag outside the
// snapshot's scope keeps its later change; a message removed for good
// is not found.
func TestUndoLocal(t *testing.T) {
	ctx := context.Background()
	a, err := OpenAccount(ctx, AccountConfig{Name: "local", Email: "ann@example.test", Mode: ModePOP3}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, box := range []string{"Trash", "Archive"} {
		use := map[string]string{"Trash": store.SpecialTrash, "Archive": store.SpecialArchive}[box]
		if _, err := a.store.CreateMailbox(ctx, box, use); err != nil && !strings.Contains(err.Error(), "exists") {
			t.Fatal(err)
		}
	}
	var ids []int64
	for i := 0; i < 3; i++ {
		res, err := a.store.Append(ctx, Inbox, strings.NewReader("Subject: n"+strconv.Itoa(i)+"\r\n\r\nx\r\n"), store.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	where := func(id int64) *Message {
		m, err := a.Message(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// Delete two, undo.
	snap, err := a.Snapshot(ctx, ids[:2], nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, ids[:2]); err != nil || where(ids[0]).Mailbox != "Trash" {
		t.Fatalf("delete: %v, in %s", err, where(ids[0]).Mailbox)
	}
	if n, err := a.Restore(ctx, snap); err != nil || n != 2 || where(ids[0]).Mailbox != Inbox || where(ids[1]).Mailbox != Inbox {
		t.Fatalf("restore: %d %v", n, err)
	}
	// Archive, undo.
	snap, _ = a.Snapshot(ctx, ids[2:], nil)
	if err := a.Archive(ctx, ids[2:]); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Restore(ctx, snap); err != nil || n != 1 || where(ids[2]).Mailbox != Inbox {
		t.Fatalf("restore archive: %d %v", n, err)
	}
	// Flag, then read (outside the scope), undo the flag only.
	snap, _ = a.Snapshot(ctx, ids[:1], []string{FlagFlagged})
	a.SetFlags(ctx, ids[:1], []string{FlagFlagged}, nil)
	a.SetFlags(ctx, ids[:1], []string{FlagSeen}, nil)
	if _, err := a.Restore(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if m := where(ids[0]); m.HasFlag(FlagFlagged) || !m.HasFlag(FlagSeen) {
		t.Fatalf("flags after undo: %v", m.Flags)
	}
	// Removed for good: nothing to restore.
	snap, _ = a.Snapshot(ctx, ids[:1], nil)
	a.Delete(ctx, ids[:1])
	a.Delete(ctx, ids[:1])
	if n, err := a.Restore(ctx, snap); err != nil || n != 0 {
		t.Fatalf("restore of a message gone: %d %v", n, err)
	}
}

// TestUndoIMAP: on an IMAP account the undo of a delete is journaled:
// after a sync the server has the message back in INBOX and nothing in
// Trash, as a fresh copy of the account sees it, whether the delete
// reached the server before the undo or not.
func TestUndoIMAP(t *testing.T) {
	for _, syncBetween := range []bool{false, true} {
		t.Run("sync-between="+strconv.FormatBool(syncBetween), func(t *testing.T) { testUndoIMAP(t, syncBetween) })
	}
}

func testUndoIMAP(t *testing.T, syncBetween bool) {
	srv := addServer(t)
	ctx := context.Background()
	host, port := splitAddr(t, srv.Addr("imaps").String())
	cfg := AccountConfig{Name: "alice", Email: "alice@example.test", Mode: ModeIMAP, PasswordCmd: "echo alice", TLSCA: srv.CertFile,
		IMAP: ServerConfig{Host: host, Port: port, Security: SecurityTLS}, SMTP: ServerConfig{Host: host, Port: 1}}
	a, err := OpenAccount(ctx, cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	inbox, err := a.List(ctx, Inbox, "", 100)
	if err != nil || len(inbox) == 0 {
		t.Fatalf("INBOX: %d %v", len(inbox), err)
	}
	target := inbox[0]
	snap, err := a.Snapshot(ctx, []int64{target.ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, []int64{target.ID}); err != nil {
		t.Fatal(err)
	}
	if syncBetween {
		if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		if trash, _ := serverSubjects(t, cfg, "Trash"); !slices.Contains(trash, target.Subject) {
			t.Fatalf("the delete did not reach the server: Trash %q", trash)
		}
	}
	if _, err := a.Restore(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if j, _ := a.PendingChanges(ctx); len(j) != 0 {
		t.Fatalf("journal after sync: %+v", j)
	}
	subjects := func(folder string) []string {
		got, _ := serverSubjects(t, cfg, folder)
		return got
	}
	if got := subjects(Inbox); len(got) != len(inbox) || !slices.Contains(got, target.Subject) {
		t.Fatalf("server INBOX after undo: %q", got)
	}
	if got := subjects("Trash"); slices.Contains(got, target.Subject) {
		t.Fatalf("server Trash after undo: %q", got)
	}
}

func splitAddr(t *testing.T, addr string) (string, int) {
	i := strings.LastIndexByte(addr, ':')
	p, err := strconv.Atoi(addr[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return addr[:i], p
}

// serverSubjects syncs a fresh copy of the account and lists folder's
// subjects: what the server has.
func serverSubjects(t *testing.T, cfg AccountConfig, folder string) ([]string, error) {
	ctx := context.Background()
	fresh, err := OpenAccount(ctx, cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := fresh.Sync(ctx, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	msgs, err := fresh.List(ctx, folder, "", 100)
	var out []string
	for _, m := range msgs {
		out = append(out, m.Subject)
	}
	return out, err
}
