package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exportFixture is a store with three messages in INBOX.
func exportFixture(t *testing.T) (*Store, []Message) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i, subj := range []string{"one", "two", "three"} {
		msg := "From: ann@example.test\r\nSubject: " + subj + "\r\nMessage-ID: <" + subj + "@x>\r\n\r\nFrom the start " + strings.Repeat("x", i) + "\r\n"
		if _, err := s.Append(ctx, Inbox, strings.NewReader(msg), AppendOptions{Flags: []string{FlagSeen}}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := s.Fetch(ctx, Inbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, msgs
}

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestExportMailbox(t *testing.T) {
	ctx := context.Background()
	s, _ := exportFixture(t)
	out := t.TempDir()
	for _, format := range []string{ExportMbox, ExportMaildir} {
		dest := filepath.Join(out, "INBOX."+format)
		n, err := s.ExportMailbox(ctx, Inbox, format, dest)
		if err != nil || n != 3 {
			t.Fatalf("%s: %d, %v", format, n, err)
		}
		back, err := Open(ctx, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := back.Import(ctx, []string{dest}, ImportOptions{})
		back.Close()
		if err != nil || st.Imported != 3 {
			t.Fatalf("%s: re-import: %+v %v", format, st, err)
		}
		// A second export to the same mbox is refused and changes nothing.
		if format == ExportMbox {
			before, _ := os.ReadFile(dest)
			if _, err := s.ExportMailbox(ctx, Inbox, format, dest); !errors.Is(err, ErrExists) {
				t.Fatalf("export over an existing mbox: %v", err)
			}
			if after, _ := os.ReadFile(dest); string(after) != string(before) {
				t.Fatal("an existing mbox was changed")
			}
		}
	}
	if names := dirNames(t, out); len(names) != 2 {
		t.Fatalf("left in the destination directory: %v", names)
	}
	if _, err := s.ExportMailbox(ctx, Inbox, "zip", filepath.Join(out, "x")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("format zip: %v", err)
	}
	if _, err := s.ExportMailbox(ctx, "Nope", ExportMbox, filepath.Join(out, "x")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing mailbox: %v", err)
	}
}

// TestExportMailboxFailure: a message whose file is gone fails the
// export half way; nothing is left at the destination, no temporary file
// beside it, and no file stays open.
func TestExportMailboxFailure(t *testing.T) {
	ctx := context.Background()
	s, msgs := exportFixture(t)
	if err := os.Remove(filepath.Join(s.root, msgs[1].File)); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{ExportMbox, ExportMaildir} {
		out := t.TempDir()
		dest := filepath.Join(out, "INBOX."+format)
		fds := openFiles(t)
		n, err := s.ExportMailbox(ctx, Inbox, format, dest)
		if err == nil {
			t.Fatalf("%s: export of a mailbox with a lost file succeeded (%d)", format, n)
		}
		if names := dirNames(t, out); len(names) != 0 {
			t.Fatalf("%s: after a failed export the directory holds %v", format, names)
		}
		if got := openFiles(t); got != fds {
			t.Fatalf("%s: %d files open before, %d after", format, fds, got)
		}
	}
	// A cancelled export leaves nothing either.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	out := t.TempDir()
	if _, err := s.ExportMailbox(cctx, Inbox, ExportMbox, filepath.Join(out, "x.mbox")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled export: %v", err)
	}
	if names := dirNames(t, out); len(names) != 0 {
		t.Fatalf("after a cancelled export: %v", names)
	}
}

func TestSaveAttachmentFile(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msg := "From: ann@example.test\r\nSubject: att\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nthe notes\r\n--b--\r\n"
	res, err := s.Append(ctx, Inbox, strings.NewReader(msg), AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	path := filepath.Join(out, "notes.txt")
	n, err := s.SaveAttachmentFile(ctx, res.ID, "2", path)
	if err != nil || n == 0 {
		t.Fatalf("save: %d %v", n, err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "the notes") {
		t.Fatalf("saved %q", b)
	}
	if _, err := s.SaveAttachmentFile(ctx, res.ID, "2", path); !errors.Is(err, ErrExists) {
		t.Fatalf("save over an existing file: %v", err)
	}
	if _, err := s.SaveAttachmentFile(ctx, res.ID, "9", filepath.Join(out, "none")); err == nil {
		t.Fatal("a missing part was saved")
	}
	if names := dirNames(t, out); len(names) != 1 {
		t.Fatalf("left behind: %v", names)
	}
}
