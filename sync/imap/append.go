package imapsync

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
)

// Replay of Local.Append: APPEND (RFC 9051 section 6.3.12) with the
// message's current flags and date; APPENDUID (RFC 4315) tells its UID. A
// target the server lacks is created first (ensureRemote).
// Before sending, the entry is marked in flight with the target's UIDNEXT;
// a replay that finds the mark (the connection died after the APPEND was
// sent) first compares the messages that arrived since with the upload
// (see recoverAppend), so a retry never appends twice.

// replayAppend uploads the message an append entry names, wherever it is
// now, to the mailbox it was appended to.
func (e *engine) replayAppend(ctx context.Context, en entry) error {
	p := en.p
	id, present, err := e.findToken(ctx, p.Token)
	if err != nil {
		return err
	}
	if !present {
		return drop("the message was deleted before it was uploaded")
	}
	m, err := e.st.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return drop("the message was deleted before it was uploaded")
	}
	if err != nil {
		return err
	}
	if l, ok := e.learned[id]; ok && l.Mailbox == p.Mailbox {
		return nil // appended by an earlier run
	}
	if m.Mailbox == p.Mailbox {
		ri, err := e.st.RemoteIndex(ctx, p.Mailbox)
		if err != nil {
			return err
		}
		for _, r := range ri {
			if r.ID == id && !r.Elsewhere && r.RemoteUID != 0 {
				return nil // adopted by a sync
			}
		}
	}
	// A Sent or Drafts folder the server lacks is created, never a
	// reason to drop the copy.
	rb, err := e.ensureRemote(ctx, p.Mailbox)
	if err != nil {
		return err
	}
	size, err := e.uploadSize(ctx, id)
	if err != nil {
		return err
	}
	mark, err := e.st.SyncState(ctx, keyInflight)
	if err != nil {
		return err
	}
	if entryID, next, ok := parseInflight(mark); ok && entryID == en.ID {
		done, err := e.recoverAppend(ctx, rb, id, size, next)
		if err != nil || done {
			return err
		}
	}
	st, err := e.c.c.Status(rb.Name, &imap.StatusOptions{UIDNext: true}).Wait()
	if isNo(err, imap.ResponseCodeTryCreate, imap.ResponseCodeNonExistent) {
		// Deleted on the server since the LIST: create it again.
		delete(e.boxes, p.Mailbox)
		if rb, err = e.ensureRemote(ctx, p.Mailbox); err != nil {
			return err
		}
		st, err = e.c.c.Status(rb.Name, &imap.StatusOptions{UIDNext: true}).Wait()
	}
	if err != nil {
		return e.c.wrap("status", p.Mailbox, err)
	}
	if err := e.st.SetSyncState(ctx, map[string]string{keyInflight: inflightValue(en.ID, uint32(st.UIDNext))}); err != nil {
		return err
	}
	data, err := e.upload(ctx, rb, m, size)
	if err != nil {
		return err
	}
	if data.UID != 0 && data.UIDValidity != 0 {
		e.learned[id] = learnedRef{Mailbox: p.Mailbox, UV: data.UIDValidity, UID: uint32(data.UID)}
	}
	if err := e.saveLearned(ctx, map[string]string{keyInflight: ""}); err != nil {
		return err
	}
	return e.mapLocal(ctx, p.Mailbox, []int64{id})
}

// recoverAppend handles an append whose connection died after it was
// sent. The messages that arrived since (UIDs from next, the UIDNEXT seen
// before the APPEND) are compared with the upload: an identical one is
// adopted; a strict prefix of it is what a server kept of the cut upload
// and is deleted. It reports whether the append is done.
func (e *engine) recoverAppend(ctx context.Context, rb remoteBox, id int64, size int64, next uint32) (bool, error) {
	_, sel, err := e.selectFor(rb.Local)
	if err != nil || next == 0 || size > maxRecoverSize {
		return false, err
	}
	crit := &imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(next), Stop: 0}}}}
	data, err := e.c.c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return false, e.c.wrap("search", rb.Local, err)
	}
	known, err := e.remoteUIDs(ctx, rb.Local, sel.UIDValidity)
	if err != nil {
		return false, err
	}
	set, _ := data.All.(imap.UIDSet)
	uids, _ := set.Nums()
	var cand imap.UIDSet
	for _, u := range uids {
		if uint32(u) >= next && !known[uint32(u)] && len(cand) < 50 {
			cand.AddNum(u)
		}
	}
	if len(cand) == 0 {
		return false, nil
	}
	ours, err := e.uploadBytes(ctx, id)
	if err != nil {
		return false, err
	}
	msgs, err := e.c.collect(e.c.c.Fetch(cand, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{fullSection}}))
	if err != nil {
		return false, e.c.wrap("fetch", rb.Local, err)
	}
	var keep uint32
	var broken imap.UIDSet
	for _, msg := range msgs {
		b := msg.FindBodySection(fullSection)
		switch {
		case keep == 0 && bytes.Equal(b, ours):
			keep = uint32(msg.UID)
		case len(b) < len(ours) && bytes.HasPrefix(ours, b):
			broken.AddNum(msg.UID)
		}
	}
	if len(broken) > 0 {
		if err := e.storeFlags(rb.Local, broken, imap.StoreFlagsAdd, []string{store.FlagDeleted}); err != nil {
			return false, err
		}
		if err := e.expunge(rb.Local, broken); err != nil {
			return false, err
		}
	}
	if keep == 0 {
		return false, nil
	}
	e.learned[id] = learnedRef{Mailbox: rb.Local, UV: sel.UIDValidity, UID: keep}
	if err := e.saveLearned(ctx, map[string]string{keyInflight: ""}); err != nil {
		return false, err
	}
	return true, e.mapLocal(ctx, rb.Local, []int64{id})
}

// maxRecoverSize bounds the messages recoverAppend compares in memory;
// a bigger one is appended again.
const maxRecoverSize = 32 << 20

// uploadBytes returns message id as uploaded (CRLF line ends).
func (e *engine) uploadBytes(ctx context.Context, id int64) ([]byte, error) {
	f, err := e.st.OpenRaw(ctx, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	_, err = io.Copy(&crlfWriter{w: &b}, f)
	return b.Bytes(), err
}

// uploadSize is the size of message id as uploaded (CRLF line ends).
func (e *engine) uploadSize(ctx context.Context, id int64) (int64, error) {
	f, err := e.st.OpenRaw(ctx, id)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return crlfLen(bufio.NewReaderSize(f, 64<<10))
}

// inflightValue is the in-flight mark of journal entry id: the entry and
// the target's UIDNEXT before the APPEND.
func inflightValue(id int64, next uint32) string { return fmt.Sprintf("%d:%d", id, next) }

func parseInflight(v string) (int64, uint32, bool) {
	a, b, ok := strings.Cut(v, ":")
	if !ok {
		return 0, 0, false
	}
	id, err1 := strconv.ParseInt(a, 10, 64)
	next, err2 := strconv.ParseUint(b, 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return id, uint32(next), true
}

// upload APPENDs message m to rb, with line ends made CRLF as IMAP wants.
func (e *engine) upload(ctx context.Context, rb remoteBox, m *store.Message, size int64) (*imap.AppendData, error) {
	f, err := e.st.OpenRaw(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	flags := make([]imap.Flag, 0, len(m.Flags))
	for _, fl := range m.Flags {
		flags = append(flags, imap.Flag(fl))
	}
	cmd := e.c.c.Append(rb.Name, size, &imap.AppendOptions{Flags: flags, Time: m.InternalDate})
	w := bufio.NewWriterSize(&crlfWriter{w: cmd}, 64<<10)
	_, werr := io.Copy(w, bufio.NewReaderSize(f, 64<<10))
	if werr == nil {
		werr = w.Flush()
	}
	cerr := cmd.Close()
	data, err := cmd.Wait()
	if err != nil {
		return nil, e.c.wrap("append", rb.Local, err)
	}
	if werr != nil || cerr != nil {
		return nil, e.c.wrap("append", rb.Local, errors.Join(werr, cerr))
	}
	return data, nil
}

// crlfLen returns the length of r with every bare LF made CRLF.
func crlfLen(r io.ByteReader) (int64, error) {
	var n int64
	prevCR := false
	for {
		b, err := r.ReadByte()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if b == '\n' && !prevCR {
			n++
		}
		n++
		prevCR = b == '\r'
	}
}

// crlfWriter writes what it is given with every bare LF made CRLF.
type crlfWriter struct {
	w      io.Writer
	prevCR bool
}

// Write writes p with bare LFs made CRLF.
func (c *crlfWriter) Write(p []byte) (int, error) {
	start := 0
	for i, b := range p {
		if b == '\n' && !c.prevCR {
			if _, err := c.w.Write(p[start:i]); err != nil {
				return start, err
			}
			if _, err := c.w.Write([]byte("\r")); err != nil {
				return i, err
			}
			start = i
		}
		c.prevCR = b == '\r'
	}
	if _, err := c.w.Write(p[start:]); err != nil {
		return start, err
	}
	return len(p), nil
}
