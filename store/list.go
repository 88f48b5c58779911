package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/letterbox-mail/letterbox/store/mime"
)

// Sort orders a listing.
type Sort int

// Orders of List.
const (
	// SortDate lists newest first.
	SortDate Sort = iota
	// SortThread lists threads newest activity first, each thread's
	// messages as a tree: parents before their replies, siblings oldest
	// first (threadorder.go).
	SortThread
)

// ListOptions select a page of a mailbox.
type ListOptions struct {
	Mailbox string
	Sort    Sort
	Offset  int
	// Limit is the page size; 50 when zero.
	Limit int
	// After continues a listing after this message (the last row of the
	// previous page): keyset paging, as fast at the end of a
	// 100,000-message mailbox as at its start, where Offset has to walk
	// every skipped row. Zero ID means from the top. Offset still applies.
	// The thread order needs the key's thread fields (Message.Key).
	After MessageKey
	// Collapsed are threads (ThreadID) of which a threaded listing shows
	// only the first message, with ThreadSize set.
	Collapsed []int64
}

// MessageKey is a message's position in the date order and, with its
// thread fields, in the thread order.
type MessageKey struct {
	Date time.Time
	ID   int64
	// ThreadDate, ThreadID and ThreadPos place it in the thread order.
	ThreadDate time.Time
	ThreadID   int64
	ThreadPos  int
}

// Key returns the message's position, for ListOptions.After.
func (m Message) Key() MessageKey {
	return MessageKey{Date: m.Date, ID: m.ID, ThreadDate: m.ThreadDate, ThreadID: m.ThreadID, ThreadPos: m.ThreadPos}
}

const messageCols = `m.id, m.mailbox_id, mb.name, mb.dir, m.uid, m.modseq, m.flags, m.internal_date, m.size, m.file, m.date,
	m.from_addr, m.to_addr, m.cc_addr, m.subject, m.message_id, m.in_reply_to, m.refs, m.thread_id, m.has_attachment, m.preview,
	m.thread_date, m.thread_order, m.thread_depth`

const messageFrom = " FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id "

func scanMessage(rows *sql.Rows) (Message, error) {
	var m Message
	var dir, flags, from, to, cc, refs string
	var idate, date int64
	var att int
	var tdate, torder int64
	err := rows.Scan(&m.ID, &m.MailboxID, &m.Mailbox, &dir, &m.UID, &m.ModSeq, &flags, &idate, &m.Size, &m.File, &date,
		&from, &to, &cc, &m.Subject, &m.MessageID, &m.InReplyTo, &refs, &m.ThreadID, &att, &m.Preview,
		&tdate, &torder, &m.Depth)
	if err != nil {
		return m, err
	}
	m.ThreadDate, m.ThreadPos = time.Unix(tdate, 0), int(-torder)
	m.File = filepath.Join("mail", dir, m.File)
	m.Flags = splitFlags(flags)
	m.InternalDate = time.Unix(idate, 0)
	m.Date = time.Unix(date, 0)
	m.From, m.To, m.Cc = parseAddrJSON(from), parseAddrJSON(to), parseAddrJSON(cc)
	if refs != "" {
		m.References = strings.Fields(refs)
	}
	m.HasAttachment = att != 0
	return m, nil
}

// queryMessages runs "SELECT messageCols FROM ... <tail>" on a reader.
func (s *Store) queryMessages(ctx context.Context, tail string, args ...any) ([]Message, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+messageCols+messageFrom+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// List returns one page of a mailbox. The date order pages through a
// covering index, so any page costs about the same.
func (s *Store) List(ctx context.Context, opts ListOptions) ([]Message, error) {
	mb, err := s.Mailbox(ctx, opts.Mailbox)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = 50
	}
	offset := max(opts.Offset, 0)
	var msgs []Message
	switch opts.Sort {
	case SortThread:
		msgs, err = s.listThreads(ctx, mb.ID, opts, limit, offset)
	default:
		after := ""
		args := []any{mb.ID, limit, offset}
		if opts.After.ID != 0 {
			after = " AND (date, id) < (?4, ?5)"
			args = append(args, opts.After.Date.Unix(), opts.After.ID)
		}
		msgs, err = s.queryMessages(ctx, `WHERE m.id IN (SELECT id FROM messages INDEXED BY messages_by_date WHERE mailbox_id = ?1`+after+`
			ORDER BY date DESC, id DESC LIMIT ?2 OFFSET ?3) ORDER BY m.date DESC, m.id DESC`, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", mb.Name, err)
	}
	return msgs, nil
}

// threadDepths sets Depth from the reply chain among the listed messages
// of each thread: a message is one deeper than the nearest ancestor shown.
func threadDepths(msgs []Message) {
	depth := map[string]int{}
	for i := range msgs {
		m := &msgs[i]
		d := 0
		parents := append([]string{m.InReplyTo}, reversed(m.References)...)
		for _, p := range parents {
			if pd, ok := depth[p]; ok && p != "" {
				d = pd + 1
				break
			}
		}
		if d == 0 && i > 0 && msgs[i-1].ThreadID == m.ThreadID {
			d = 1
		}
		m.Depth = d
		if m.MessageID != "" {
			depth[m.MessageID] = d
		}
	}
}

func reversed(list []string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[len(list)-1-i] = v
	}
	return out
}

// Get returns one message by its store id.
func (s *Store) Get(ctx context.Context, id int64) (*Message, error) {
	msgs, err := s.queryMessages(ctx, "WHERE m.id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("message %d: %w", id, err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	return &msgs[0], nil
}

// GetByUID returns one message of a mailbox by UID.
func (s *Store) GetByUID(ctx context.Context, mailbox string, uid uint32) (*Message, error) {
	mb, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return nil, err
	}
	msgs, err := s.queryMessages(ctx, "WHERE m.mailbox_id = ? AND m.uid = ?", mb.ID, uid)
	if err != nil {
		return nil, fmt.Errorf("message %s/%d: %w", mb.Name, uid, err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("message %s/%d: %w", mb.Name, uid, ErrNotFound)
	}
	return &msgs[0], nil
}

// Fetch returns the messages of a mailbox with the given UIDs, in UID
// order; UIDs that do not exist are skipped. A nil uids means all.
func (s *Store) Fetch(ctx context.Context, mailbox string, uids []uint32) ([]Message, error) {
	mb, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return nil, err
	}
	if uids == nil {
		msgs, err := s.queryMessages(ctx, "WHERE m.mailbox_id = ? ORDER BY m.uid", mb.ID)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", mb.Name, err)
		}
		return msgs, nil
	}
	var out []Message
	for _, chunk := range chunkUIDs(uids, 500) {
		msgs, err := s.queryMessages(ctx, "WHERE m.mailbox_id = ? AND m.uid IN ("+placeholders(len(chunk))+") ORDER BY m.uid", append([]any{mb.ID}, uidArgs(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", mb.Name, err)
		}
		out = append(out, msgs...)
	}
	return out, nil
}

// UIDs returns all UIDs of a mailbox in ascending order.
func (s *Store) UIDs(ctx context.Context, mailbox string) ([]uint32, error) {
	mb, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid", mb.ID)
	if err != nil {
		return nil, fmt.Errorf("uids %s: %w", mb.Name, err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// OpenRaw opens the raw message file for streaming. The caller closes it.
func (s *Store) OpenRaw(ctx context.Context, id int64) (*os.File, error) {
	var m *Message
	var f *os.File
	var err error
	// A flag change renames the file (its Maildir name carries the flags)
	// before its transaction commits: a reader that got the old name in
	// between finds nothing, and finds the file under the new name once
	// the commit is visible.
	for wait := time.Millisecond; ; wait *= 2 {
		if m, err = s.Get(ctx, id); err != nil {
			return nil, err
		}
		f, err = os.Open(filepath.Join(s.root, m.File))
		if !errors.Is(err, os.ErrNotExist) || wait > 64*time.Millisecond {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("message %d: file %s missing (run store check): %w", id, m.File, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("message %d: %w", id, err)
	}
	return f, nil
}

// Render decodes a message for a reader: headers, text, attachments.
func (s *Store) Render(ctx context.Context, id int64) (*Rendered, error) {
	f, err := s.OpenRaw(ctx, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := mime.Render(f)
	if err != nil {
		return r, fmt.Errorf("render message %d: %w", id, err)
	}
	// A message synced header first has only its header in the file
	// until the sync brings the body (ReplaceBodies).
	if err := s.rdb.QueryRowContext(ctx, "SELECT EXISTS(SELECT 1 FROM remote_uids WHERE message_id = ? AND partial = 1)", id).Scan(&r.Partial); err != nil {
		return nil, fmt.Errorf("render message %d: %w", id, err)
	}
	return r, nil
}

// SaveAttachment writes the decoded MIME part `part` of message id to w
// (see mime.SavePart); ErrNotFound when the message has no such part.
func (s *Store) SaveAttachment(ctx context.Context, id int64, part string, w io.Writer) (int64, error) {
	f, err := s.OpenRaw(ctx, id)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := mime.SavePart(f, part, w)
	if errors.Is(err, mime.ErrNoPart) {
		return n, fmt.Errorf("message %d part %s: %w", id, part, ErrNotFound)
	}
	if err != nil {
		return n, fmt.Errorf("message %d part %s: %w", id, part, err)
	}
	return n, nil
}

// Changes are what changed in a mailbox since a MODSEQ.
type Changes struct {
	// Changed are messages added or whose flags changed, in UID order.
	Changed []Message
	// Vanished are expunged UIDs (as far as the store remembers them).
	Vanished      []uint32
	HighestModSeq uint64
}

// ChangesSince returns what changed in mailbox after modseq.
func (s *Store) ChangesSince(ctx context.Context, mailbox string, modseq uint64) (*Changes, error) {
	mb, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return nil, err
	}
	ch := &Changes{HighestModSeq: mb.HighestModSeq}
	ch.Changed, err = s.queryMessages(ctx, "WHERE m.mailbox_id = ? AND m.modseq > ? ORDER BY m.uid", mb.ID, modseq)
	if err != nil {
		return nil, fmt.Errorf("changes of %s: %w", mb.Name, err)
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid", mb.ID, modseq)
	if err != nil {
		return nil, fmt.Errorf("changes of %s: %w", mb.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		ch.Vanished = append(ch.Vanished, u)
	}
	return ch, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func uidArgs(uids []uint32) []any {
	out := make([]any, len(uids))
	for i, u := range uids {
		out[i] = u
	}
	return out
}

func chunkUIDs(uids []uint32, n int) [][]uint32 {
	var out [][]uint32
	for len(uids) > n {
		out = append(out, uids[:n])
		uids = uids[n:]
	}
	if len(uids) > 0 {
		out = append(out, uids)
	}
	return out
}
