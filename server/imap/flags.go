package imapd

import (
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/letterbox-mail/letterbox/store"
)

// Store implements STORE and UID STORE (RFC 9051 section 6.4.6). The new
// flags go to the other sessions through the tracker; this session gets
// them in the command's own FETCH responses (none for .SILENT).
func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, _ *imap.StoreOptions) (err error) {
	defer s.done("STORE", time.Now(), &err)
	if s.sel.readOnly {
		return errReadOnly
	}
	name, err := s.mailbox()
	if err != nil {
		return err
	}
	refs := s.sel.resolve(numSet)
	if len(refs) == 0 {
		return nil
	}
	op := store.FlagsReplace
	switch flags.Op {
	case imap.StoreFlagsAdd:
		op = store.FlagsAdd
	case imap.StoreFlagsDel:
		op = store.FlagsRemove
	}
	if _, err := s.setFlags(name, uidsOf(refs), op, storeFlags(flags.Flags)); err != nil {
		return err
	}
	if flags.Silent {
		return nil
	}
	msgs, err := s.st.Fetch(s.ctx(), name, uidsOf(refs))
	if err != nil {
		return storeError("store "+name, err)
	}
	byUID := make(map[uint32][]string, len(msgs))
	for _, m := range msgs {
		byUID[m.UID] = m.Flags
	}
	for _, ref := range refs {
		fl, ok := byUID[ref.uid]
		if !ok {
			continue
		}
		rw := w.CreateMessage(ref.seq)
		rw.WriteUID(imap.UID(ref.uid))
		rw.WriteFlags(imapFlags(fl))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// setFlags changes flags in the store and drains the change feed while it
// still holds the user's lock, so the changes are queued for the other
// sessions and not for this one, which answers them itself.
func (s *session) setFlags(name string, uids []uint32, op store.FlagOp, flags []string) ([]store.FlagUpdate, error) {
	s.user.mu.Lock()
	defer s.user.mu.Unlock()
	updates, err := s.st.SetFlags(s.ctx(), name, uids, op, flags)
	if err != nil {
		s.user.drainLocked(nil)
		return nil, storeError("store flags in "+name, err)
	}
	own := &origin{mailboxID: s.sel.mb.id, tracker: s.sel.tracker}
	if len(updates) > 0 {
		own.modseq = updates[0].ModSeq
	}
	s.user.drainLocked(own)
	return updates, nil
}
