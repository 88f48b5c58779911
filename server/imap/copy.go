package imapd

import (
	"errors"
	"io"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/letterbox-mail/letterbox/store"
)

// Copy implements COPY and UID COPY (RFC 9051 section 6.4.7) with the
// COPYUID response code of UIDPLUS (RFC 4315 section 3).
func (s *session) Copy(numSet imap.NumSet, dest string) (data *imap.CopyData, err error) {
	defer s.done("COPY", time.Now(), &err, "to", dest)
	return s.transfer(numSet, dest, false)
}

// Move implements MOVE and UID MOVE (RFC 6851 section 3): the untagged OK
// [COPYUID] is written here, the EXPUNGE responses come from the tracker
// when imapserver polls before the tagged OK.
func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) (err error) {
	defer s.done("MOVE", time.Now(), &err, "to", dest)
	if s.sel.readOnly {
		return errReadOnly
	}
	data, err := s.transfer(numSet, dest, true)
	if err != nil || data == nil {
		return err
	}
	return w.WriteCopyData(data)
}

func (s *session) transfer(numSet imap.NumSet, dest string, move bool) (*imap.CopyData, error) {
	name, err := s.mailbox()
	if err != nil {
		return nil, err
	}
	dst, err := canonical(dest)
	if err != nil {
		return nil, err
	}
	if dst == name {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Source and destination are the same mailbox"}
	}
	ctx := s.ctx()
	if _, err := s.st.Mailbox(ctx, dst); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, s.missingTarget(dst)
		}
		return nil, storeError("copy to "+dst, err)
	}
	refs := s.sel.resolve(numSet)
	if len(refs) == 0 {
		return nil, nil
	}
	var pairs []store.UIDPair
	var uv uint32
	if move {
		pairs, uv, err = s.st.Move(ctx, name, uidsOf(refs), dst)
	} else {
		pairs, uv, err = s.st.Copy(ctx, name, uidsOf(refs), dst)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, errTryCreate
	}
	if err != nil {
		return nil, storeError("copy to "+dst, err)
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	data := &imap.CopyData{UIDValidity: uv}
	for _, p := range pairs {
		data.SourceUIDs.AddNum(imap.UID(p.Src))
		data.DestUIDs.AddNum(imap.UID(p.Dst))
	}
	return data, nil
}

// Append implements APPEND (RFC 9051 section 6.3.12) with APPENDUID
// (RFC 4315 section 3). imapserver enforces APPENDLIMIT before the literal
// is read; the store makes the message durable before the OK.
func (s *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (data *imap.AppendData, err error) {
	defer s.done("APPEND", time.Now(), &err, "mailbox", mailbox, "size", r.Size())
	name, err := canonical(mailbox)
	if err != nil {
		return nil, err
	}
	if r.Size() == 0 {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "Empty message"}
	}
	opts := store.AppendOptions{InternalDate: options.Time}
	for _, f := range options.Flags {
		opts.Flags = append(opts.Flags, string(f))
	}
	// The literal must arrive whole: a connection dropped mid-literal ends
	// the reader early, and a short message must not be stored.
	lit := &exactReader{r: r, left: r.Size()}
	res, err := s.st.Append(s.ctx(), name, lit, opts)
	if err != nil && lit.cut {
		// The client's fault (a dropped connection or a lie about the
		// size), not the server's: no SERVERBUG, no error log.
		return nil, &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Message literal cut short"}
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, s.missingTarget(name)
	}
	if err != nil {
		return nil, storeError("append to "+name, err)
	}
	return &imap.AppendData{UID: imap.UID(res.UID), UIDValidity: res.UIDValidity}, nil
}

// exactReader reads exactly left bytes from r; fewer is
// io.ErrUnexpectedEOF, never a clean end.
type exactReader struct {
	r    io.Reader
	left int64
	cut  bool // the literal ended early
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err != nil && err != io.EOF && e.left > 0 {
		e.cut = true // a read error mid-literal: the connection is gone
	}
	if err == io.EOF && e.left > 0 {
		e.cut = true
		return n, io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		err = nil
		if e.left == 0 {
			err = io.EOF
		}
	}
	return n, err
}
