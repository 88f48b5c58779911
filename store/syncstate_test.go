package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoteUIDs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if _, err := s.CreateMailbox(ctx, "Archive", ""); err != nil {
		t.Fatal(err)
	}
	head := "From: a@x.test\r\nSubject: partial\r\nMessage-ID: <p@x>\r\n\r\n"
	res, err := s.Append(ctx, Inbox, strings.NewReader(head), AppendOptions{Remote: Remote{UID: 42, Partial: true}})
	if err != nil {
		t.Fatal(err)
	}
	local := mustAppend(t, s, Inbox, coreMsg("<l@x>", "local only", "body"))

	refs, err := s.RemoteIndex(ctx, Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[0].RemoteUID != 42 || !refs[0].Partial || refs[1].RemoteUID != 0 {
		t.Fatalf("index = %+v", refs)
	}

	full := head[:len(head)-2] + "Content-Type: text/plain\r\n\r\nthe whole zebra body\r\n"
	if err := s.ReplaceBody(ctx, Inbox, res.UID, strings.NewReader(full)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, "zebra", SearchOptions{}); err != nil || n != 1 {
		t.Fatalf("count zebra = %d, %v", n, err)
	}
	m, err := s.GetByUID(ctx, Inbox, res.UID)
	if err != nil || m.Size != int64(len(full)) {
		t.Fatalf("after replace: %+v %v", m, err)
	}

	// A local move leaves the remote UID visible as Elsewhere until the
	// replay tells the new UID.
	pairs, _, err := s.Move(ctx, Inbox, []uint32{res.UID}, "Archive")
	if err != nil {
		t.Fatal(err)
	}
	refs, _ = s.RemoteIndex(ctx, Inbox)
	if len(refs) != 2 || !refs[1].Elsewhere || refs[1].RemoteUID != 42 {
		t.Fatalf("after move: %+v", refs)
	}
	if err := s.SetRemoteUIDs(ctx, "Archive", []RemotePair{{UID: pairs[0].Dst, RemoteUID: 7}}); err != nil {
		t.Fatal(err)
	}
	refs, _ = s.RemoteIndex(ctx, Inbox)
	if len(refs) != 1 || refs[0].UID != local.UID {
		t.Fatalf("inbox after replay: %+v", refs)
	}
	refs, _ = s.RemoteIndex(ctx, "Archive")
	if len(refs) != 1 || refs[0].RemoteUID != 7 || refs[0].Partial {
		t.Fatalf("archive after replay: %+v", refs)
	}
	if err := s.ResetRemote(ctx, "Archive"); err != nil {
		t.Fatal(err)
	}
	if refs, _ = s.RemoteIndex(ctx, "Archive"); refs[0].RemoteUID != 0 {
		t.Fatalf("after reset: %+v", refs)
	}
}

func TestRemoteIDsOutliveMessages(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	res, err := s.Append(ctx, Inbox, strings.NewReader(coreMsg("<a@x>", "pop", "x")), AppendOptions{Remote: Remote{ID: "uidl-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RememberRemoteIDs(ctx, []string{"uidl-0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, Inbox, []uint32{res.UID}); err != nil {
		t.Fatal(err)
	}
	has, err := s.HasRemoteIDs(ctx, []string{"uidl-0", "uidl-1", "uidl-2"})
	if err != nil || !has["uidl-0"] || !has["uidl-1"] || has["uidl-2"] {
		t.Fatalf("has = %v, %v", has, err)
	}
	if err := s.MarkRemoteIDsGone(ctx, []string{"uidl-1"}); err != nil {
		t.Fatal(err)
	}
	ids, err := s.RemoteIDs(ctx)
	if err != nil || len(ids) != 2 {
		t.Fatalf("ids = %+v, %v", ids, err)
	}
	for _, r := range ids {
		if r.Present || (r.Key == "uidl-1") != r.ServerGone {
			t.Errorf("%+v", r)
		}
	}
}

func TestSyncStateAndJournal(t *testing.T) {
	ctx := context.Background()
	s, root := openTest(t)
	if err := s.SetSyncState(ctx, map[string]string{"imap/INBOX/uidvalidity": "7", "x": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSyncState(ctx, map[string]string{"x": ""}); err != nil {
		t.Fatal(err)
	}
	a, _ := s.JournalAdd(ctx, "flags", []byte(`{"uid":1}`))
	b, _ := s.JournalAdd(ctx, "move", []byte(`{"uid":2}`))
	if err := s.JournalFailed(ctx, b, "server said no"); err != nil {
		t.Fatal(err)
	}
	if err := s.JournalDone(ctx, a); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SyncState(ctx, "imap/INBOX/uidvalidity"); v != "7" {
		t.Errorf("state = %q", v)
	}
	if v, _ := s.SyncState(ctx, "x"); v != "" {
		t.Errorf("deleted state = %q", v)
	}
	j, err := s.Journal(ctx)
	if err != nil || len(j) != 1 || j[0].Op != "move" || j[0].Attempts != 1 || j[0].LastError != "server said no" || string(j[0].Payload) != `{"uid":2}` {
		t.Fatalf("journal = %+v, %v", j, err)
	}
}

// TestIDsNotReused: a deleted message's id is never handed out again,
// not even after reopening (scripts and the sync state keep ids).
func TestIDsNotReused(t *testing.T) {
	ctx := context.Background()
	s, root := openTest(t)
	a := mustAppend(t, s, Inbox, coreMsg("<1@x>", "one", "x"))
	b := mustAppend(t, s, Inbox, coreMsg("<2@x>", "two", "x"))
	if _, err := s.Remove(ctx, Inbox, []uint32{b.UID}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := mustAppend(t, s, Inbox, coreMsg("<3@x>", "three", "x"))
	if c.ID <= b.ID || a.ID >= b.ID {
		t.Fatalf("ids: %d, %d (removed), then %d", a.ID, b.ID, c.ID)
	}
	pairs, _, err := s.Copy(ctx, Inbox, []uint32{c.UID}, Inbox)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetByUID(ctx, Inbox, pairs[0].Dst)
	if err != nil || m.ID <= c.ID {
		t.Fatalf("copy got id %v (%v)", m, err)
	}
}

// TestPathWithURIChars opens a store whose path has the characters an
// SQLite URI gives meaning to.
func TestPathWithURIChars(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "a#b?c%d")
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, Inbox, coreMsg("<1@x>", "one", "x"))
	s.Close()
	if _, err := os.Stat(filepath.Join(root, "index.db")); err != nil {
		t.Fatalf("index not in the store directory: %v", err)
	}
	s, err = Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if mb, _ := s.Mailbox(ctx, Inbox); mb.Total != 1 {
		t.Fatalf("reopened store has %d messages", mb.Total)
	}
}

// TestUncleanShutdownRenewsUIDValidity: after a session that did not
// Close, files in cur/ without index rows (acknowledged appends whose
// transaction a power loss rolled back) are indexed again and the
// mailbox gets a new UIDVALIDITY, since their UIDs may have been seen.
func TestUncleanShutdownRenewsUIDValidity(t *testing.T) {
	ctx := context.Background()
	s, root := openTest(t)
	res := mustAppend(t, s, Inbox, coreMsg("<1@x>", "one", "x"))
	m, err := s.Get(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// The power loss: the row is gone, the file stays; the open flag
	// was never cleared.
	orphan := filepath.Join(root, m.File)
	data, err := os.ReadFile(orphan)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(root, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DELETE FROM messages", "DELETE FROM fts", "UPDATE mailboxes SET total = 0, unread = 0, uidnext = 1, cur_mtime = 0",
		"INSERT INTO meta(key, value) VALUES('open', '1') ON CONFLICT(key) DO UPDATE SET value='1'"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	if err := os.WriteFile(orphan, data, 0o600); err != nil { // touch cur/
		t.Fatal(err)
	}
	s, err = Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mb, err := s.Mailbox(ctx, Inbox)
	if err != nil || mb.Total != 1 || mb.UIDValidity == res.UIDValidity {
		t.Fatalf("after unclean shutdown: %+v (uidvalidity before %d) %v", mb, res.UIDValidity, err)
	}
	if rep := s.OpenReport(); len(rep.Indexed) != 1 || len(rep.Problems) == 0 {
		t.Fatalf("open report: %+v", rep)
	}
}

// TestRemoteCountAndPartials: the cheap queries a no-change sync uses
// agree with RemoteIndex.
func TestRemoteCountAndPartials(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i, r := range []Remote{{UID: 5, Partial: true}, {UID: 6}, {}} {
		if _, err := s.Append(ctx, Inbox, strings.NewReader(coreMsg(fmt.Sprintf("<c%d@x>", i), "c", "x")), AppendOptions{Remote: r}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.RemoteCount(ctx, Inbox)
	if err != nil || n != 2 {
		t.Fatalf("count = %d, %v", n, err)
	}
	parts, err := s.PartialUIDs(ctx, Inbox)
	if err != nil || len(parts) != 1 || parts[0].RemoteUID != 5 {
		t.Fatalf("partials = %+v, %v", parts, err)
	}
}

// TestPartialIndexMigration: an index of schema 2 gains the partial-body
// index (schema 3) and the FTS5 merge setting (schema 4) and loses the
// index by file name (schema 5) on open, and PartialUIDs reads through it (a walk of every
// message of a 10,000-message mailbox cost 3 ms on each no-change sync).
func TestPartialIndexMigration(t *testing.T) {
	ctx := context.Background()
	s, root := openTest(t)
	if _, err := s.Append(ctx, Inbox, strings.NewReader(coreMsg("<p@x>", "p", "x")), AppendOptions{Remote: Remote{UID: 9, Partial: true}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(root, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP INDEX remote_partial", "PRAGMA user_version = 2"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err = Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var version int
	if err := s.rdb.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("user_version = %d, %v; want %d", version, err, schemaVersion)
	}
	rows, err := s.rdb.Query(`EXPLAIN QUERY PLAN `+partialUIDsQuery, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if len(plan) == 0 || !strings.Contains(plan[0], "remote_partial") {
		t.Errorf("PartialUIDs plan %q does not start with the remote_partial index", plan)
	}
	parts, err := s.PartialUIDs(ctx, Inbox)
	if err != nil || len(parts) != 1 || parts[0].RemoteUID != 9 {
		t.Fatalf("partials = %+v, %v", parts, err)
	}
	// Schema 5: no index by file name.
	var byFile int
	if err := s.rdb.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'messages_by_file'").Scan(&byFile); err != nil || byFile != 0 {
		t.Errorf("messages_by_file still there (%d, %v)", byFile, err)
	}
	// Schema 4: FTS5 merges 16 segments at a time.
	var automerge int
	if err := s.rdb.QueryRow("SELECT v FROM fts_config WHERE k = 'automerge'").Scan(&automerge); err != nil || automerge != 16 {
		t.Errorf("fts automerge = %d, %v; want 16", automerge, err)
	}
}
