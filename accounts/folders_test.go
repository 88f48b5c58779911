package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/store"
)

// TestFolderChanges: create, rename, subscribe and delete through the
// account; INBOX and the Outbox are refused, a folder with messages needs
// withMessages and one with folders below it is refused. An IMAP
// account journals each change for the server; a POP3 account's folders
// are local only.
func TestFolderChanges(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []Mode{ModePOP3, ModeIMAP} {
		t.Run(string(mode), func(t *testing.T) {
			var a *Account
			if mode == ModePOP3 {
				a = openLocal(t, map[string][]string{"Full": {testMessage(1, "a@example.test", "s", "b")}})
			} else {
				a = openIMAPOffline(t, "f", 0)
				if _, err := a.store.CreateMailbox(ctx, "Full", ""); err != nil {
					t.Fatal(err)
				}
				if _, err := a.store.Append(ctx, "Full", strings.NewReader(testMessage(1, "a@example.test", "s", "b")), store.AppendOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if a.FoldersLocalOnly() != (mode == ModePOP3) {
				t.Errorf("FoldersLocalOnly = %v", a.FoldersLocalOnly())
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(a.CreateFolder(ctx, "Projects"))
			must(a.CreateFolder(ctx, "Projects/2026"))
			if err := a.CreateFolder(ctx, "Projects"); !errors.Is(err, ErrExists) {
				t.Errorf("create twice: %v", err)
			}
			for _, name := range []string{"INBOX", "inbox", "Outbox"} {
				if err := a.CreateFolder(ctx, name); err == nil {
					t.Errorf("create %s: no error", name)
				}
				if err := a.RenameFolder(ctx, name, "X"); !errors.Is(err, ErrFolderInUse) {
					t.Errorf("rename %s: %v", name, err)
				}
			}
			if err := a.DeleteFolder(ctx, "Projects", false); !errors.Is(err, ErrFolderInUse) {
				t.Errorf("delete of a folder with a subfolder: %v", err)
			}
			if err := a.DeleteFolder(ctx, "Full", false); !errors.Is(err, ErrFolderNotEmpty) {
				t.Errorf("delete of a full folder: %v", err)
			}
			must(a.RenameFolder(ctx, "Projects", "Work"))
			must(a.SubscribeFolder(ctx, "Work/2026", false))
			must(a.DeleteFolder(ctx, "Work/2026", false))
			must(a.DeleteFolder(ctx, "Full", true))
			if err := a.DeleteFolder(ctx, "Nope", false); !errors.Is(err, ErrNotFound) {
				t.Errorf("delete of no folder: %v", err)
			}
			mbs, err := a.Mailboxes(ctx)
			must(err)
			var names []string
			for _, m := range mbs {
				names = append(names, m.Name)
			}
			if contains(names, "Full") || contains(names, "Projects") || !contains(names, "Work") {
				t.Errorf("folders %v", names)
			}
			j, err := a.PendingChanges(ctx)
			must(err)
			want := 0
			if mode == ModeIMAP {
				want = 6 // create ×2, rename, unsubscribe, delete ×2
			}
			if len(j) != want {
				t.Errorf("%d pending changes, want %d", len(j), want)
			}
			for _, c := range j {
				t.Logf("%s", a.DescribeChange(c))
			}
		})
	}
}

// TestArchiveCreatesFolder: an account without an Archive folder gets
// one with its role at the first archive; for IMAP its creation is
// journaled before the move, so the server gets it first.
func TestArchiveCreatesFolder(t *testing.T) {
	ctx := context.Background()
	a := openIMAPOffline(t, "arch", 1)
	msgs, err := a.List(ctx, Inbox, "", 10)
	if err != nil || len(msgs) != 1 {
		t.Fatal(msgs, err)
	}
	if err := a.Archive(ctx, []int64{msgs[0].ID}); err != nil {
		t.Fatal(err)
	}
	if f, err := a.Folder(ctx, RoleArchive); f != "Archive" || err != nil {
		t.Fatalf("Archive role: %q, %v", f, err)
	}
	j, _ := a.PendingChanges(ctx)
	var what []string
	for _, c := range j {
		what = append(what, a.DescribeChange(c))
	}
	if len(what) != 2 || what[0] != "create folder Archive" || !strings.HasPrefix(what[1], "move 1 message from INBOX to Archive") {
		t.Errorf("pending changes %q", what)
	}
}

// TestDeleteCreatesTrash: an IMAP account whose server has no Trash gets
// one with its role at the first delete (issue 13 item 8: a missing
// special-use folder is created, never the message dropped): the delete
// moves to it, journaled after the folder's creation, and is not a
// delete for good. Only a second delete, from Trash, is for good.
func TestDeleteCreatesTrash(t *testing.T) {
	ctx := context.Background()
	a := openIMAPOffline(t, "trash", 2)
	msgs, err := a.List(ctx, Inbox, "", 10)
	if err != nil || len(msgs) != 2 {
		t.Fatal(msgs, err)
	}
	ids := []int64{msgs[0].ID}
	if forGood, err := a.DeletedForGood(ctx, ids); err != nil || len(forGood) != 0 {
		t.Fatalf("DeletedForGood with no Trash = %v, %v; want none (Trash is created)", forGood, err)
	}
	if err := a.Delete(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if f, err := a.Folder(ctx, RoleTrash); f != "Trash" || err != nil {
		t.Fatalf("Trash role: %q, %v", f, err)
	}
	in, err := a.List(ctx, "Trash", "", 10)
	if err != nil || len(in) != 1 {
		t.Fatalf("Trash holds %d, %v; want the deleted message", len(in), err)
	}
	j, _ := a.PendingChanges(ctx)
	var what []string
	for _, c := range j {
		what = append(what, a.DescribeChange(c))
	}
	if len(what) != 2 || what[0] != "create folder Trash" || !strings.HasPrefix(what[1], "move 1 message from INBOX to Trash") {
		t.Errorf("pending changes %q", what)
	}
	if forGood, err := a.DeletedForGood(ctx, []int64{in[0].ID}); err != nil || len(forGood) != 1 {
		t.Errorf("DeletedForGood in Trash = %v, %v; want it", forGood, err)
	}
}
