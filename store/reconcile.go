package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Report tells what reconciling files and index found (and fixed).
type Report struct {
	Mailboxes int `json:"mailboxes"`
	Messages  int `json:"messages"`
	// Rescanned lists mailboxes whose directories were read.
	Rescanned []string `json:"rescanned,omitempty"`
	// Indexed lists files that had no index row ("INBOX/cur/name").
	Indexed []string `json:"indexed,omitempty"`
	// Dropped lists index rows whose file was missing ("INBOX uid 7").
	Dropped []string `json:"dropped,omitempty"`
	// Problems lists other inconsistencies (counters, full-text rows).
	Problems []string `json:"problems,omitempty"`
	// Duplicates lists messages stored more than once: the same
	// Message-ID and size twice in one mailbox, or the same sync identity
	// (remote UID, POP3 UIDL) on two files. Repair leaves them: which
	// copy to keep is the user's choice.
	Duplicates []string `json:"duplicates,omitempty"`
	// Repaired says the findings were fixed, not only reported.
	Repaired bool `json:"repaired"`
}

// Clean reports whether nothing was out of step.
func (r *Report) Clean() bool {
	return len(r.Indexed) == 0 && len(r.Dropped) == 0 && len(r.Problems) == 0 && len(r.Duplicates) == 0
}

type mailboxRow struct {
	id       int64
	name     string
	dir      string
	curMtime int64
	newMtime int64
}

func (s *Store) mailboxRows(ctx context.Context) ([]mailboxRow, error) {
	rows, err := s.wdb.QueryContext(ctx, "SELECT id, name, dir, cur_mtime, new_mtime FROM mailboxes ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []mailboxRow
	for rows.Next() {
		var m mailboxRow
		if err := rows.Scan(&m.id, &m.name, &m.dir, &m.curMtime, &m.newMtime); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func dirMtime(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.ModTime().UnixNano()
}

// reconcileOnOpen finds Maildirs without a mailbox row, makes sure INBOX
// exists, cleans tmp/, and rescans the mailboxes that a session which
// died wrote to, or that another program changed (session.go says which).
func (s *Store) reconcileOnOpen(ctx context.Context) error {
	if err := s.lockWrite(); err != nil {
		return err
	}
	defer s.wmu.Unlock()
	return s.reconcileLocked(ctx, &s.report, true)
}

// reconcileLocked is reconcileOnOpen, or with atOpen false only the
// recovery of what dead sessions left (recoverDead); the caller holds
// wmu.
func (s *Store) reconcileLocked(ctx context.Context, rep *Report, atOpen bool) error {
	live := s.liveness()
	dead, deadMarks, liveMarks, err := s.deadSessions(ctx, live)
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	legacy, err := s.legacyUnclean(ctx)
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	if !atOpen && len(dead) == 0 && !legacy {
		return nil
	}
	// A session that did not Close: a crash, or a power loss, which with
	// synchronous=NORMAL can roll back the last index transactions of
	// messages already acknowledged.
	unclean := len(dead) > 0 || legacy
	if atOpen {
		if err := s.adoptDirs(ctx, rep); err != nil {
			return err
		}
	}
	mbs, err := s.mailboxRows(ctx)
	if err != nil {
		return err
	}
	for _, mb := range mbs {
		rescan := deadMarks[mb.id]
		if atOpen {
			cur, nw := dirMtime(s.mailPath(mb.dir, "cur")), dirMtime(s.mailPath(mb.dir, "new"))
			if cur == -1 {
				if err := s.makeMaildir(mb.dir); err != nil {
					return err
				}
			}
			s.cleanTmp(s.mailPath(mb.dir, "tmp"), time.Now(), live)
			// Mailboxes only live sessions write to are theirs to
			// record; the others are rescanned when their directories
			// changed.
			rescan = rescan || !liveMarks[mb.id] && (mb.curMtime == 0 || cur != mb.curMtime || nw != mb.newMtime)
		}
		if !rescan {
			continue
		}
		rep.Rescanned = append(rep.Rescanned, mb.name)
		before := len(rep.Indexed)
		if err := s.rescan(ctx, mb, true, rep, nil, live); err != nil {
			return fmt.Errorf("rescan %s: %w", mb.name, err)
		}
		if unclean && ownOrphans(rep.Indexed[before:]) {
			if err := s.renewUIDValidity(ctx, mb, rep); err != nil {
				return err
			}
		}
		if !liveMarks[mb.id] {
			if err := s.recordMtimes(ctx, mb); err != nil {
				return err
			}
		}
	}
	if err := s.forgetDead(ctx, dead, legacy); err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	if atOpen {
		rep.Mailboxes = len(mbs)
		rep.Repaired = true
	}
	return nil
}

// adoptDirs creates mailbox rows for Maildirs under ROOT/mail that have
// none (a crash during rename, or a Maildir copied in), and INBOX.
func (s *Store) adoptDirs(ctx context.Context, rep *Report) error {
	entries, err := os.ReadDir(filepath.Join(s.root, "mail"))
	if err != nil {
		return err
	}
	known := map[string]bool{}
	mbs, err := s.mailboxRows(ctx)
	if err != nil {
		return err
	}
	for _, mb := range mbs {
		known[mb.dir] = true
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || known[name] {
			continue
		}
		if strings.HasPrefix(name, ".deleted-") {
			os.RemoveAll(filepath.Join(s.root, "mail", name))
			continue
		}
		mbName, ok := mailboxNameFromDir(name)
		if !ok || mailboxDir(mbName) != name {
			rep.Problems = append(rep.Problems, fmt.Sprintf("directory mail/%s is not a mailbox name; left alone", name))
			continue
		}
		if _, err := os.Stat(filepath.Join(s.root, "mail", name, "cur")); err != nil {
			continue
		}
		if _, err := s.createMailboxLocked(ctx, mbName, ""); err != nil && !errors.Is(err, ErrExists) {
			return err
		}
	}
	if !known[mailboxDir(Inbox)] {
		if _, err := s.createMailboxLocked(ctx, Inbox, ""); err != nil && !errors.Is(err, ErrExists) {
			return err
		}
	}
	return nil
}

// cleanTmp removes files left in tmp/: they were never acknowledged. Our
// own (named by uniqueName on this host) are removed unless their
// session is alive (it may be writing them right now); another program's
// are removed only after 36 hours, as the Maildir convention says, since
// it may be delivering into the directory right now.
func (s *Store) cleanTmp(dir string, now time.Time, live *liveness) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if sess, own := s.ownName(e.Name()); own {
			if sess != "" && live.alive(sess) {
				continue
			}
		} else {
			fi, err := e.Info()
			if err != nil || now.Sub(fi.ModTime()) < 36*time.Hour {
				continue
			}
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// ownName reports whether a Maildir file name has uniqueName's form
// ("SECS.MUSECPpidRsessionQseq.HOST", with any fields and flags after
// it) with this host, and returns its session ("" in a name made before
// sessions, "SECS.MUSECPpidQseq.HOST").
func (s *Store) ownName(name string) (session string, ok bool) {
	rest, ok := strings.CutSuffix(maildirKey(name), "."+s.host)
	if !ok {
		return "", false
	}
	secs, rest, ok := strings.Cut(rest, ".M")
	if !ok || !allDigits(secs) {
		return "", false
	}
	usec, rest, ok := strings.Cut(rest, "P")
	if !ok || !allDigits(usec) {
		return "", false
	}
	pid, seq, ok := strings.Cut(rest, "Q")
	if !ok || !allDigits(seq) {
		return "", false
	}
	if pid, session, ok = strings.Cut(pid, "R"); ok && len(session) != sessionIDLen {
		return "", false
	}
	return session, allDigits(pid)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *Store) recordMtimes(ctx context.Context, mb mailboxRow) error {
	cur, nw := dirMtime(s.mailPath(mb.dir, "cur")), dirMtime(s.mailPath(mb.dir, "new"))
	_, err := s.wdb.ExecContext(ctx, "UPDATE mailboxes SET cur_mtime = ?, new_mtime = ? WHERE id = ?", cur, nw, mb.id)
	return err
}

// ownOrphans reports whether re-indexed files include some in cur/, where
// only our own appends put files: their UIDs may have been seen by a
// client before the index lost them.
func ownOrphans(indexed []string) bool {
	for _, f := range indexed {
		if strings.Contains(f, "/cur/") {
			return true
		}
	}
	return false
}

// renewUIDValidity gives a mailbox a new UIDVALIDITY (RFC 3501 section
// 2.3.1.1): after an unclean shutdown re-indexed messages got UIDs that
// clients may know for others, so their caches must be dropped.
func (s *Store) renewUIDValidity(ctx context.Context, mb mailboxRow, rep *Report) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		uv, err := nextUIDValidity(ctx, tx)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE mailboxes SET uidvalidity = ? WHERE id = ?", uv, mb.id)
		return err
	})
	if err != nil {
		return fmt.Errorf("renew UIDVALIDITY of %s: %w", mb.name, err)
	}
	rep.Problems = append(rep.Problems, mb.name+": new UIDVALIDITY: messages stored before an unclean shutdown were indexed again")
	return nil
}

// maildirBase is a Maildir file name without its directory and without
// the ":2,<flags>" part.
func maildirBase(name string) string {
	name = filepath.Base(name)
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[:i]
	}
	return name
}

// maildirKey is the unique part of a Maildir file name: its base without
// the ",X=..." fields (ours, identity.go, or other writers'), which may
// change while the message keeps its key.
func maildirKey(name string) string {
	base := maildirBase(name)
	if i := strings.IndexByte(base, ','); i >= 0 {
		return base[:i]
	}
	return base
}

// rescan compares a mailbox's files with its rows. With fix, rows without
// files are dropped, files without rows are indexed (new/ files are moved
// to cur/ first), and renamed files are followed; otherwise the findings
// are only reported. When named is not nil, the remote ids that file
// names carry are added to it (id -> "mailbox/file"). Files a live
// session is placing (named by it, not yet indexed) are left alone. The
// caller holds wmu.
func (s *Store) rescan(ctx context.Context, mb mailboxRow, fix bool, rep *Report, named map[string][]string, live *liveness) error {
	files := map[string]string{} // key -> "cur/name" or "new/name"
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(s.mailPath(mb.dir, sub))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			files[maildirKey(e.Name())] = sub + "/" + e.Name()
			if named != nil {
				if id := nameIdentity(e.Name()).ID; id != "" {
					named[id] = append(named[id], mb.name+"/"+sub+"/"+e.Name())
				}
			}
		}
	}
	type row struct {
		id    int64
		uid   uint32
		file  string
		flags string
	}
	var rows []row
	q, err := s.wdb.QueryContext(ctx, "SELECT id, uid, file, flags FROM messages WHERE mailbox_id = ?", mb.id)
	if err != nil {
		return err
	}
	for q.Next() {
		var r row
		if err := q.Scan(&r.id, &r.uid, &r.file, &r.flags); err != nil {
			q.Close()
			return err
		}
		rows = append(rows, r)
	}
	q.Close()
	if err := q.Err(); err != nil {
		return err
	}
	var dropped []row
	type follow struct {
		r    row
		file string
	}
	var follows []follow
	for _, r := range rows {
		key := maildirKey(r.file)
		f, ok := files[key]
		delete(files, key)
		switch {
		case !ok:
			dropped = append(dropped, r)
		case f != r.file:
			follows = append(follows, follow{r, f})
		}
	}
	var orphans []string
	for key, f := range files {
		if s.isPlacing(key) {
			continue // an append between its two stages
		}
		if sess, own := s.ownName(key); own && sess != "" && sess != s.session && live.alive(sess) {
			continue // another process's append between its stages
		}
		orphans = append(orphans, f)
	}
	sort.Strings(orphans)
	rep.Messages += len(rows) - len(dropped) + len(orphans)
	for _, r := range dropped {
		rep.Dropped = append(rep.Dropped, fmt.Sprintf("%s uid %d (%s)", mb.name, r.uid, r.file))
	}
	for _, f := range orphans {
		rep.Indexed = append(rep.Indexed, mb.name+"/"+f)
	}
	if !fix || len(dropped)+len(follows)+len(orphans) == 0 {
		return nil
	}
	// Files move below: a crash from here on must find the mark.
	if err := s.markDirty(ctx, mb.id); err != nil {
		return err
	}
	// Orphans: move new/ files to cur/, then parse them outside the
	// transaction.
	var preps []*prepared
	for _, f := range orphans {
		rel := f
		flags := FlagsFromMaildir(maildirInfo(f))
		if strings.HasPrefix(f, "new/") {
			rel = "cur/" + maildirBase(f) + ":2," + MaildirFlags(flags)
			if err := renameFile(s.mailPath(mb.dir, f), s.mailPath(mb.dir, rel)); err != nil {
				return err
			}
		}
		path := s.mailPath(mb.dir, rel)
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		cf, _ := CanonicalFlags(flags)
		preps = append(preps, &prepared{finalRel: rel, flags: cf, idate: fi.ModTime(), size: fi.Size(), parsed: parseFile(path),
			remote: nameIdentity(rel)})
	}
	if err := s.fsyncDir(s.mailPath(mb.dir, "cur")); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		modseq := s.nextModSeq()
		for _, r := range dropped {
			if err := deleteRow(ctx, tx, r.id, mb.id, r.uid, modseq); err != nil {
				return err
			}
		}
		for _, f := range follows {
			flags, _ := CanonicalFlags(mergeMaildirFlags(splitFlags(f.r.flags), maildirInfo(f.file)))
			b := bitsOf(flags)
			if _, err := tx.ExecContext(ctx, "UPDATE messages SET file = ?, flags = ?, seen = ?, answered = ?, flagged = ?, deleted = ?, draft = ?, modseq = ? WHERE id = ?",
				f.file, joinFlags(flags), b.seen, b.answered, b.flagged, b.deleted, b.draft, modseq, f.r.id); err != nil {
				return err
			}
		}
		var uidnext uint32
		if err := tx.QueryRowContext(ctx, "SELECT uidnext FROM mailboxes WHERE id = ?", mb.id).Scan(&uidnext); err != nil {
			return err
		}
		ids := make([]int64, len(preps))
		for i, p := range preps {
			id := s.nextMessageID()
			ids[i] = id
			if err := insertMessage(ctx, tx, id, mb.id, uidnext, modseq, p.finalRel, p.flags, p.idate, p.size, p.parsed, textCaller); err != nil {
				return err
			}
			// The sync identity its name carries (identity.go).
			dups, err := restoreIdentity(ctx, tx, id, mb.id, p.remote, p.idate)
			if err != nil {
				return err
			}
			for _, d := range dups {
				rep.Duplicates = append(rep.Duplicates, fmt.Sprintf("%s/%s: %s", mb.name, p.finalRel, d))
			}
			uidnext++
		}
		// The full-text rows after the others: one segment (see
		// indexPlacedLocked).
		for i, p := range preps {
			if err := insertText(ctx, tx, ids[i], p.parsed); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?", uidnext, modseq, mb.id); err != nil {
			return err
		}
		return fixCounters(ctx, tx, mb.id)
	})
}

// maildirInfo returns the flag letters after ":2," of a file name.
func maildirInfo(name string) string {
	if i := strings.Index(name, ":2,"); i >= 0 {
		return name[i+3:]
	}
	return ""
}

// mergeMaildirFlags keeps keywords from the index and takes the system
// flags that Maildir letters can express from the file name.
func mergeMaildirFlags(indexFlags []string, info string) []string {
	out := FlagsFromMaildir(info)
	for _, f := range indexFlags {
		if !strings.HasPrefix(f, `\`) && MaildirFlags([]string{f}) == "" {
			out = append(out, f)
		}
	}
	return out
}

func fixCounters(ctx context.Context, tx *sql.Tx, mbID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE mailboxes SET
		total = (SELECT COUNT(*) FROM messages WHERE mailbox_id = ?1),
		unread = (SELECT COUNT(*) FROM messages WHERE mailbox_id = ?1 AND seen = 0),
		uidnext = MAX(uidnext, (SELECT COALESCE(MAX(uid), 0) + 1 FROM messages WHERE mailbox_id = ?1))
		WHERE id = ?1`, mbID)
	return err
}
