package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An index whose meta table cannot be read is an error at Open, not a
// store that silently starts its modseq and message ids from zero.
func TestOpenMetaUnreadable(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, Inbox, coreMsg("<m@x>", "m", "x"))
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(root, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("ALTER TABLE meta RENAME TO meta_gone"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(ctx, root, nil)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded with an unreadable meta table")
	}
	if !strings.Contains(err.Error(), "meta") {
		t.Errorf("error %q does not name what it could not read", err)
	}
}

// Files placed for a commit that failed are removed even when their
// mailbox cannot be looked up again, and a file that stays is reported,
// never left for the next Open to index as an orphan without a word.
func TestUnplaceFailedLookup(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mb, err := s.Mailbox(ctx, Inbox)
	if err != nil {
		t.Fatal(err)
	}
	_, dir, _, err := s.mailboxDirRead(ctx, Inbox)
	if err != nil {
		t.Fatal(err)
	}
	p := s.prepare(dir, strings.NewReader(coreMsg("<u@x>", "u", "x")), nil, time.Time{})
	if p.err != nil {
		t.Fatal(p.err)
	}
	if _, err := s.placeFiles(ctx, Inbox, []*prepared{p}); err != nil {
		t.Fatal(err)
	}
	path := s.mailPath(dir, p.finalRel)
	// A mailbox id that is not there: the lookup fails.
	s.unplaceFailed([]*prepared{p}, mb.ID+1000)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("placed file %s left behind after a failed commit (stat: %v)", path, err)
	}
}
