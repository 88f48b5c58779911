package imapd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/letterbox-mail/letterbox/store"
	"github.com/letterbox-mail/letterbox/store/mime"
)

// Fetch implements FETCH and UID FETCH (RFC 9051 sections 6.4.5, 6.4.9).
// Metadata comes from the index (store.IMAPFetch); envelope and body structure from the
// structure the store computes once per message (bodystructure.go);
// sections are read from the message file, and BODY[] is streamed from it
// as is.
// Fetching a non-PEEK section sets \Seen (unless the mailbox is read-only)
// and returns the new FLAGS with the message.
func (s *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) (err error) {
	defer s.done("FETCH", time.Now(), &err)
	name, err := s.mailbox()
	if err != nil {
		return err
	}
	refs := s.sel.resolve(numSet)
	if len(refs) == 0 {
		return nil
	}
	ctx := s.ctx()
	mbID := s.sel.mb.id
	msgs, err := s.st.IMAPFetch(ctx, mbID, uidsOf(refs))
	if err != nil {
		return storeError("fetch "+name, err)
	}
	byUID := make(map[uint32]*store.Message, len(msgs))
	for i := range msgs {
		byUID[msgs[i].UID] = &msgs[i]
	}
	seenSet := map[uint32]bool{}
	if marksSeen(options) && !s.sel.readOnly {
		var unseen []uint32
		for _, m := range msgs {
			if !m.HasFlag(store.FlagSeen) {
				unseen = append(unseen, m.UID)
			}
		}
		if len(unseen) > 0 {
			updates, err := s.setFlags(name, unseen, store.FlagsAdd, []string{store.FlagSeen})
			if err != nil {
				return err
			}
			for _, u := range updates {
				if m := byUID[u.UID]; m != nil {
					m.Flags = u.Flags
					seenSet[u.UID] = true
				}
			}
			// The files were renamed with their new flags.
			if len(updates) > 0 {
				fresh, err := s.st.IMAPFetch(ctx, mbID, unseen)
				if err != nil {
					return storeError("fetch "+name, err)
				}
				for _, m := range fresh {
					if old := byUID[m.UID]; old != nil {
						*old = m
					}
				}
			}
		}
	}
	structs := map[uint32]*mime.Structure{}
	if needsStructure(options) {
		list, err := s.st.Structures(ctx, msgs)
		if err != nil {
			return storeError("fetch "+name, err)
		}
		for i, st := range list {
			structs[msgs[i].UID] = st
		}
	}
	for _, ref := range refs {
		m := byUID[ref.uid]
		if m == nil {
			continue // expunged meanwhile; its EXPUNGE is on the way
		}
		if err := s.fetchOne(w, ref, m, structs[ref.uid], options, seenSet[ref.uid]); err != nil {
			return err
		}
	}
	return nil
}

// marksSeen reports whether options fetch a section without PEEK.
func marksSeen(options *imap.FetchOptions) bool {
	for _, bs := range options.BodySection {
		if !bs.Peek {
			return true
		}
	}
	for _, bs := range options.BinarySection {
		if !bs.Peek {
			return true
		}
	}
	return false
}

// needsFile reports whether options need the message file.
func needsFile(options *imap.FetchOptions) bool {
	return len(options.BodySection) > 0 || len(options.BinarySection) > 0 || len(options.BinarySectionSize) > 0
}

// needsStructure reports whether options need the message's structure:
// for ENVELOPE, BODY, BODYSTRUCTURE and every section but the whole
// message.
func needsStructure(options *imap.FetchOptions) bool {
	if options.Envelope || options.BodyStructure != nil || len(options.BinarySection) > 0 || len(options.BinarySectionSize) > 0 {
		return true
	}
	for _, bs := range options.BodySection {
		if !wholeMessage(bs) {
			return true
		}
	}
	return false
}

// wholeMessage reports BODY[] (with or without a partial).
func wholeMessage(bs *imap.FetchItemBodySection) bool {
	return bs.Specifier == imap.PartSpecifierNone && len(bs.Part) == 0
}

// fetchOne writes the FETCH response of one message. The file is opened
// before the response starts, so a message expunged meanwhile is left out
// rather than half written; so is one without a structure when it is
// needed (its file was gone).
func (s *session) fetchOne(w *imapserver.FetchWriter, ref msgRef, m *store.Message, st *mime.Structure, options *imap.FetchOptions, flagsChanged bool) error {
	if st == nil && needsStructure(options) {
		return nil
	}
	var f *os.File
	if needsFile(options) {
		var err error
		f, err = s.openMessage(m)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fetch %s/%d: %w", m.Mailbox, m.UID, err)
		}
		defer f.Close()
	}
	rw := w.CreateMessage(ref.seq)
	rw.WriteUID(imap.UID(m.UID))
	if options.Flags || flagsChanged {
		rw.WriteFlags(imapFlags(m.Flags))
	}
	if options.InternalDate {
		rw.WriteInternalDate(m.InternalDate)
	}
	if options.RFC822Size {
		rw.WriteRFC822Size(m.Size)
	}
	if options.Envelope {
		rw.WriteEnvelope(imapEnvelope(&st.Envelope))
	}
	if options.BodyStructure != nil {
		rw.WriteBodyStructure(imapBodyStructure(st.Body))
	}
	for _, bs := range options.BodySection {
		var err error
		if wholeMessage(bs) {
			err = s.srv.writeWholeMessage(rw, f, bs)
		} else {
			err = writeBodySectionOf(rw, f, st, bs)
		}
		if err != nil {
			rw.Close()
			return fmt.Errorf("fetch %s/%d: %w", m.Mailbox, m.UID, err)
		}
	}
	for _, bs := range options.BinarySection {
		if err := writeBinarySectionOf(rw, f, st, bs); err != nil {
			rw.Close()
			return fmt.Errorf("fetch %s/%d: %w", m.Mailbox, m.UID, err)
		}
	}
	for _, bss := range options.BinarySectionSize {
		rw.WriteBinarySectionSize(bss, binarySize(f, st, bss))
	}
	return rw.Close()
}

// openMessage opens a message's file. The file name carries the flags
// (Maildir), so a flag change renames it: on a miss the name is looked up
// again. store.ErrNotFound means the message was expunged.
func (s *session) openMessage(m *store.Message) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := openRead(filepath.Join(s.st.Root(), m.File))
		if err == nil || !errors.Is(err, os.ErrNotExist) || try == 6 {
			return f, err
		}
		// The rename comes before its transaction commits: give the new
		// name time to become visible.
		time.Sleep(time.Millisecond << try)
		fresh, gerr := s.st.Get(s.ctx(), m.ID)
		if gerr != nil {
			return nil, gerr
		}
		if fresh.MailboxID != m.MailboxID {
			return nil, store.ErrNotFound // moved away
		}
		m.File = fresh.File
	}
}

// writeWholeMessage writes BODY[]<partial>, streamed from the file as
// it is.
func (srv *Server) writeWholeMessage(rw *imapserver.FetchResponseWriter, f *os.File, bs *imap.FetchItemBodySection) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	off, n := int64(0), fi.Size()
	if bs.Partial != nil {
		off = min(bs.Partial.Offset, n)
		n = min(bs.Partial.Size, n-off)
	}
	wc := rw.WriteBodySection(bs, n)
	buf, _ := srv.copyBufs.Get().(*[]byte)
	if buf == nil {
		b := make([]byte, 32<<10)
		buf = &b
	}
	_, err = io.CopyBuffer(wc, io.NewSectionReader(f, off, n), *buf)
	srv.copyBufs.Put(buf)
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	return err
}

// imapFlags converts store flags to IMAP flags.
func imapFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}

// storeFlags converts IMAP flags to store flags, dropping \Recent, which
// clients may not set (RFC 9051 section 2.3.2).
func storeFlags(flags []imap.Flag) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if strings.EqualFold(string(f), `\Recent`) {
			continue
		}
		out = append(out, string(f))
	}
	return out
}

func imapUID(uid uint32) imap.UID { return imap.UID(uid) }
