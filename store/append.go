package store

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/letterbox-mail/letterbox/store/mime"
	"github.com/letterbox-mail/letterbox/store/query"
)

// AppendOptions are the metadata of an appended message.
type AppendOptions struct {
	Flags []string
	// InternalDate is the date the message arrived; now when zero.
	InternalDate time.Time
	// Remote ties the message to its copy on a remote server, in the
	// same transaction as the message row (see syncstate.go).
	Remote Remote
}

// AppendResult tells where an appended message went.
type AppendResult struct {
	ID          int64
	UID         uint32
	UIDValidity uint32
	ModSeq      uint64
	Size        int64
	// Err is set by AppendMany for an item that could not be stored.
	Err error
}

// AppendItem is one message of AppendMany.
type AppendItem struct {
	Open         func() (io.ReadCloser, error)
	Flags        []string
	InternalDate time.Time
	// Remote is as in AppendOptions.
	Remote Remote
}

// prepared is a message written to tmp/ and parsed, not yet acknowledged.
type prepared struct {
	key      string
	tmp      string
	flags    []string
	idate    time.Time
	parsed   *mime.Parsed
	size     int64
	err      error
	finalRel string // "cur/<key>:2,<flags>"
	dir      string // the mailbox directory placeFiles put it in
	remote   Remote
	unsynced bool // written without fsync: the committer syncs the batch
}

// Append stores one message read from r in mailbox and returns its UID.
// It returns only after the message file is fsynced and renamed into
// cur/, the directory fsynced and the index row committed. It is Prepare
// followed by Commit.
func (s *Store) Append(ctx context.Context, mailbox string, r io.Reader, opts AppendOptions) (AppendResult, error) {
	pm, err := s.Prepare(ctx, mailbox, r, opts)
	if err != nil {
		return AppendResult{}, err
	}
	return pm.Commit(ctx)
}

// Pending is a message that Prepare wrote to its mailbox's tmp/ and
// parsed, and that is not in the mailbox yet: no reader sees it, no
// change is published for it, and a crash leaves nothing of it behind
// (Open clears tmp/). Exactly one of Commit and Abort must follow; a
// Pending is used by one goroutine.
type Pending struct {
	s       *Store
	mailbox string // canonical name
	p       *prepared
	done    bool
}

// Prepare is the first stage of Append: it writes the message read from
// r into mailbox's tmp/ and parses it. Everything that depends on the
// data (reading it, its size, disk space for it) fails here. Several
// Prepares, in one store or in many, followed by their Commits, deliver
// one message to several mailboxes with nothing published before every
// copy exists.
func (s *Store) Prepare(ctx context.Context, mailbox string, r io.Reader, opts AppendOptions) (*Pending, error) {
	flags, err := CanonicalFlags(opts.Flags)
	if err != nil {
		return nil, fmt.Errorf("append to %q: %w", mailbox, err)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	// Writing the file needs no lock; only the rename and commit do.
	_, dir, cname, err := s.mailboxDirRead(ctx, mailbox)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	// The file is made durable by the group commit, with the others of
	// its batch (see syncFiles).
	p := s.prepareSync(dir, r, flags, opts.InternalDate, false)
	p.unsynced = !s.opts.NoSync
	p.remote = opts.Remote
	if p.err != nil {
		return nil, fmt.Errorf("append to %q: %w", cname, p.err)
	}
	return &Pending{s: s, mailbox: cname, p: p}, nil
}

// Size is the prepared message's size in bytes.
func (pm *Pending) Size() int64 { return pm.p.size }

// Commit is the second stage of Append: it joins the group commit, and
// returns once the message file is durable, renamed into cur/, the
// directory synced and the index row committed; then the change is
// published. On error nothing of the message is left.
func (pm *Pending) Commit(ctx context.Context) (AppendResult, error) {
	if pm.done {
		return AppendResult{}, fmt.Errorf("append to %q: %w", pm.mailbox, errPendingDone)
	}
	pm.done = true
	res, err := pm.s.groupCommit(ctx, pm.mailbox, []*prepared{pm.p})
	if err != nil {
		return AppendResult{}, fmt.Errorf("append to %q: %w", pm.mailbox, err)
	}
	return res[0], nil
}

// Abort removes the prepared file; it does nothing after Commit.
func (pm *Pending) Abort() {
	if pm.done {
		return
	}
	pm.done = true
	removeTmp([]*prepared{pm.p})
}

var errPendingDone = errors.New("prepared message already committed or aborted")

// AppendMany stores many messages in one mailbox, batching fsyncs and the
// index transaction. Files are written and parsed in parallel. An item that
// cannot be read gets its own Err; the others are stored. Nothing is
// returned before every stored message is durable.
func (s *Store) AppendMany(ctx context.Context, mailbox string, items []AppendItem) ([]AppendResult, error) {
	st, err := s.Stage(ctx, mailbox, items)
	if err != nil {
		return nil, err
	}
	return st.Commit(ctx)
}

func (s *Store) prepareItem(dir string, it AppendItem, fsync bool) *prepared {
	flags, err := CanonicalFlags(it.Flags)
	if err != nil {
		return &prepared{err: err}
	}
	rc, err := it.Open()
	if err != nil {
		return &prepared{err: err}
	}
	defer rc.Close()
	p := s.prepareSync(dir, rc, flags, it.InternalDate, fsync)
	p.remote = it.Remote
	return p
}

// prepare writes r into the mailbox's tmp/ directory, fsyncs it, and
// parses it on the way.
func (s *Store) prepare(dir string, r io.Reader, flags []string, idate time.Time) *prepared {
	return s.prepareSync(dir, r, flags, idate, true)
}

// batchSyncMin is the AppendMany batch size from which one syncfs
// replaces the per-file fsyncs. syncfs(2) flushes everything dirty on
// the filesystem, other programs' writes included: after another
// program wrote much, one took 30-200 ms where fsyncs of 40 new files
// (by the parallel writers) took a few. An incremental sync's batches
// (tens of messages) therefore fsync each file, as mbsync does; a full
// sync's (hundreds, up to 2 MiB) take one syncfs.
const batchSyncMin = 64

// syncFiles makes the written files of a batch durable. One file is
// fsynced; for more, one syncfs(2) of the filesystem holding dir replaces
// their fsyncs (far less CPU, one flush), falling back to an fsync of
// each where syncfs fails.
func syncFiles(dir string, ps []*prepared) error {
	if len(ps) > 1 {
		if d, err := os.Open(dir); err == nil {
			err = unix.Syncfs(int(d.Fd()))
			d.Close()
			if err == nil {
				return nil
			}
		}
	}
	for _, p := range ps {
		f, err := os.Open(p.tmp)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("fsync: %w", err)
		}
	}
	return nil
}

// prepareSync is prepare, with the file's fsync left to the caller when
// fsync is false.
func (s *Store) prepareSync(dir string, r io.Reader, flags []string, idate time.Time, fsync bool) *prepared {
	if idate.IsZero() {
		idate = time.Now()
	}
	p := &prepared{key: s.uniqueName(), flags: flags, idate: idate}
	p.tmp = s.mailPath(dir, "tmp", p.key)
	f, err := os.OpenFile(p.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		p.err = err
		return p
	}
	bw := s.bufs.Get().(*bufio.Writer)
	bw.Reset(f)
	defer func() {
		bw.Reset(nil)
		s.bufs.Put(bw)
	}()
	cw := &countWriter{w: bw}
	tee := io.TeeReader(r, cw)
	pr := safeParse(tee)
	p.parsed = pr.Parsed
	p.err = pr.readErr
	if _, err := io.Copy(io.Discard, tee); err != nil && p.err == nil {
		p.err = err
	}
	if err := bw.Flush(); err != nil && p.err == nil {
		p.err = err
	}
	if p.err == nil && fsync && !s.opts.NoSync {
		if err := f.Sync(); err != nil {
			p.err = fmt.Errorf("fsync: %w", err)
		}
	}
	if err := f.Close(); err != nil && p.err == nil {
		p.err = err
	}
	p.size = cw.n
	if p.err == nil && p.size == 0 {
		p.err = ErrEmptyMessage
	}
	if p.err != nil {
		os.Remove(p.tmp)
		p.err = fmt.Errorf("write message: %w", p.err)
	}
	return p
}

type parseResult struct {
	*mime.Parsed
	readErr error
}

// safeParse runs mime.Parse and turns a parser panic into a problem, so
// a bug in MIME handling can never lose a message.
func safeParse(r io.Reader) (res parseResult) {
	defer func() {
		if v := recover(); v != nil {
			res = parseResult{Parsed: &mime.Parsed{Problems: []string{fmt.Sprintf("parser failure: %v", v)}}}
		}
	}()
	pm, err := mime.Parse(r)
	if pm == nil {
		pm = &mime.Parsed{}
	}
	return parseResult{Parsed: pm, readErr: err}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func removeTmp(ps []*prepared) {
	for _, p := range ps {
		os.Remove(p.tmp)
	}
}

// commitPrepared renames prepared files into cur/, fsyncs the directory and
// commits their index rows in one transaction.
func (s *Store) commitPrepared(ctx context.Context, mailbox string, ps []*prepared) ([]AppendResult, error) {
	mbID, err := s.placeFiles(ctx, mailbox, ps)
	if err != nil {
		return nil, err
	}
	return s.indexPlaced(ctx, mailbox, mbID, ps)
}

// indexPlaced is the second stage of a commit: the index rows of placed
// files, in one transaction under wmu.
func (s *Store) indexPlaced(ctx context.Context, mailbox string, mbID int64, ps []*prepared) ([]AppendResult, error) {
	if err := s.lockWrite(); err != nil {
		return nil, errors.Join(err, s.unplaceFailed(ps, mbID))
	}
	defer s.wmu.Unlock()
	return s.indexPlacedLocked(ctx, mailbox, mbID, ps)
}

// indexPlacedLocked is indexPlaced with wmu held by the caller.
func (s *Store) indexPlacedLocked(ctx context.Context, mailbox string, mbID int64, ps []*prepared) ([]AppendResult, error) {
	var uv uint32
	res := make([]AppendResult, len(ps))
	var changes []Change
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var uidnext uint32
		if err := tx.QueryRowContext(ctx, "SELECT uidvalidity, uidnext FROM mailboxes WHERE id = ?", mbID).Scan(&uv, &uidnext); err != nil {
			return err
		}
		var unread int
		modseq := s.nextModSeq()
		ctx2tx := cachedTx{tx, &s.stmts}
		mode := textCaller
		if s.opts.DeferText {
			mode = textDefer
		}
		for i, p := range ps {
			uid := uidnext
			uidnext++
			id := s.nextMessageID()
			err := insertMessage(ctx, ctx2tx, id, mbID, uid, modseq, p.finalRel, p.flags, p.idate, p.size, p.parsed, mode)
			if err != nil {
				return err
			}
			if bitsOf(p.flags).seen == 0 {
				unread++
			}
			res[i] = AppendResult{ID: id, UID: uid, ModSeq: modseq, Size: p.size}
			changes = append(changes, Change{Kind: ChangeMessageAdded, MailboxID: mbID, Mailbox: mailbox, ID: id, UID: uid, ModSeq: modseq, Flags: p.flags})
		}
		// The sync state rows, then the full-text rows, go after every
		// message: a statement that opens a savepoint (an INSERT OR
		// REPLACE; any statement that fires a trigger, as the message
		// insert does) makes FTS5 flush its pending terms to disk, so
		// full-text rows between them cost a full-text segment per
		// message and the merging of those segments: a third of a full
		// sync's time (TestAppendManyWritesOneTextSegment).
		for i, p := range ps {
			if err := insertRemote(ctx, tx, res[i].ID, mbID, p.remote); err != nil {
				return err
			}
		}
		if mode == textCaller {
			for i, p := range ps {
				if err := insertText(ctx, ctx2tx, res[i].ID, p.parsed); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, total = total + ?, unread = unread + ? WHERE id = ?",
			uidnext, modseq, len(ps), unread, mbID); err != nil {
			return err
		}
		return s.ensureDirty(ctx, tx, mbID)
	})
	if err != nil {
		return nil, errors.Join(err, s.unplaceFailed(ps, mbID))
	}
	s.unplace(ps)
	if s.opts.DeferText {
		s.deferredText(len(ps))
	}
	for i := range res {
		res[i].UIDValidity = uv
	}
	s.feed.publish(changes)
	return res, nil
}

// textMode says what insertMessage does about a message's full text.
type textMode int

const (
	// textNow writes its full-text row.
	textNow textMode = iota
	// textDefer writes a row in fts_pending instead (Options.DeferText,
	// textindex.go).
	textDefer
	// textCaller writes nothing: the caller writes the full-text rows of
	// a batch after all its other statements, so that FTS5 writes them
	// as one segment (see indexPlacedLocked).
	textCaller
)

// insertMessage writes the index row and the thread of one message, and
// its full text as mode says.
func insertMessage(ctx context.Context, tx sqlTx, id, mbID int64, uid uint32, modseq uint64, file string, flags []string, idate time.Time, size int64, pm *mime.Parsed, mode textMode) error {
	env := pm.Envelope
	date := env.Date
	if date.IsZero() {
		date = idate
	}
	b := bitsOf(flags)
	inReplyTo := ""
	if len(env.InReplyTo) > 0 {
		inReplyTo = env.InReplyTo[0]
	}
	threadID, err := assignThread(ctx, tx, env, date.Unix())
	if err != nil {
		return fmt.Errorf("thread: %w", err)
	}
	hasAtt := 0
	if pm.HasAttachment {
		hasAtt = 1
	}
	if _, err := tx.ExecContext(ctx, qInsertMessage,
		id, mbID, uid, modseq, joinFlags(flags), b.seen, b.answered, b.flagged, b.deleted, b.draft,
		idate.Unix(), size, file, date.Unix(), addrJSON(env.From), addrJSON(env.To), addrJSON(env.Cc),
		cleanText(env.Subject), env.MessageID, inReplyTo, strings.Join(env.References, " "), threadID, hasAtt, cleanText(pm.Preview)); err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	switch mode {
	case textDefer:
		if _, err := tx.ExecContext(ctx, qInsertPending, id); err != nil {
			return fmt.Errorf("queue full-text indexing: %w", err)
		}
	case textNow:
		return insertText(ctx, tx, id, pm)
	}
	return nil
}

// insertText adds a message's full-text row.
func insertText(ctx context.Context, tx sqlTx, id int64, pm *mime.Parsed) error {
	env := pm.Envelope
	// CJK runs are indexed as bigrams (query.IndexCJK).
	if _, err := tx.ExecContext(ctx, qInsertText, id, query.IndexCJK(addrText(env.From)), query.IndexCJK(addrText(env.To)),
		query.IndexCJK(addrText(env.Cc)), query.IndexCJK(cleanText(env.Subject)), query.IndexCJK(cleanText(pm.BodyText))); err != nil {
		return fmt.Errorf("index text: %w", err)
	}
	return nil
}

// parseFile parses a stored message file; problems never fail it.
func parseFile(path string) *mime.Parsed {
	pm, _ := parseFileErr(path)
	return pm
}

// parseFileErr is parseFile that also returns the error of opening the
// file; the message returned then has only that problem.
func parseFileErr(path string) (*mime.Parsed, error) {
	f, err := os.Open(path)
	if err != nil {
		return &mime.Parsed{Problems: []string{err.Error()}}, err
	}
	defer f.Close()
	return safeParse(bufio.NewReaderSize(f, 64<<10)).Parsed, nil
}

func addrJSON(list []Address) string {
	if len(list) == 0 {
		return "[]"
	}
	b, err := json.Marshal(list)
	if err != nil {
		return "[]"
	}
	return string(b)
}

func parseAddrJSON(s string) []Address {
	if s == "" || s == "[]" {
		return nil
	}
	var list []Address
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil
	}
	return list
}

// addrText is the full-text form of addresses: names and addresses.
func addrText(list []Address) string {
	var b strings.Builder
	for _, a := range list {
		b.WriteString(a.Name)
		b.WriteByte(' ')
		b.WriteString(a.Addr)
		b.WriteByte(' ')
	}
	return cleanText(b.String())
}

// cleanText drops NUL bytes and invalid UTF-8, which SQLite text must not
// carry.
func cleanText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// uniqueName returns a Maildir unique name (time.MusecPpidRsessionQseq.host);
// the session tells other processes whose file it is (session.go).
func (s *Store) uniqueName() string {
	now := time.Now()
	return fmt.Sprintf("%d.M%dP%dR%sQ%d.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(), s.session, s.keySeq.Add(1), s.host)
}

// maildirSafe escapes "/", ":" and "," in the host part of unique names
// and caps it at hostInName bytes, so file names keep room for the
// identity fields (identity.go).
func maildirSafe(host string) string {
	host = strings.NewReplacer("/", `\057`, ":", `\072`, ",", `\054`).Replace(host)
	if len(host) > hostInName {
		host = host[:hostInName]
	}
	return host
}
