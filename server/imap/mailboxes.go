package imapd

import (
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/letterbox-mail/letterbox/store"
)

// delim is the hierarchy delimiter, the store's.
const delim = '/'

// Create implements CREATE (RFC 9051 section 6.3.4) with the USE option
// of CREATE-SPECIAL-USE (RFC 6154 section 3). Missing superior levels are
// created too, as the RFC advises; they count against MaxMailboxes.
func (s *session) Create(name string, options *imap.CreateOptions) (err error) {
	defer s.done("CREATE", time.Now(), &err, "mailbox", name)
	cname, err := canonical(name)
	if err != nil {
		return err
	}
	if err := s.checkNew(cname); err != nil {
		return err
	}
	use := ""
	if options != nil && len(options.SpecialUse) > 0 {
		if len(options.SpecialUse) > 1 || !knownSpecialUse(string(options.SpecialUse[0])) {
			return &imap.Error{Type: imap.StatusResponseTypeNo, Code: "USEATTR", Text: "Unsupported special-use attribute"}
		}
		use = specialUseName(string(options.SpecialUse[0]))
	}
	ctx := s.ctx()
	have, err := s.checkCount(ctx, 0)
	if err != nil {
		return err
	}
	if have[cname] {
		return storeError("create "+cname, store.ErrExists)
	}
	var parents []string
	parts := strings.Split(cname, string(delim))
	for i := 1; i < len(parts); i++ {
		if parent := strings.Join(parts[:i], string(delim)); !have[parent] {
			parents = append(parents, parent)
		}
	}
	if max := s.srv.opts.Limits.MaxMailboxes; len(have)+len(parents)+1 > max {
		return errTooMany(max)
	}
	for _, parent := range parents {
		if _, err := s.st.CreateMailbox(ctx, parent, ""); err != nil && !errors.Is(err, store.ErrExists) {
			return storeError("create "+parent, err)
		}
	}
	_, err = s.st.CreateMailbox(ctx, cname, use)
	return storeError("create "+cname, err)
}

func knownSpecialUse(attr string) bool { return specialUseName(attr) != "" }

// specialUseName returns the store's spelling of a special-use attribute.
func specialUseName(attr string) string {
	for _, u := range []string{store.SpecialAll, store.SpecialArchive, store.SpecialDrafts, store.SpecialJunk, store.SpecialSent, store.SpecialTrash} {
		if strings.EqualFold(u, attr) {
			return u
		}
	}
	return ""
}

// Delete implements DELETE (RFC 9051 section 6.3.5). INBOX cannot be
// deleted; mailboxes below a deleted one stay.
func (s *session) Delete(name string) (err error) {
	defer s.done("DELETE", time.Now(), &err, "mailbox", name)
	cname, err := canonical(name)
	if err != nil {
		return err
	}
	if cname == store.Inbox {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "INBOX cannot be deleted"}
	}
	return storeError("delete "+cname, s.st.DeleteMailbox(s.ctx(), cname))
}

// Rename implements RENAME (RFC 9051 section 6.3.6). Renaming INBOX moves
// its messages to a new mailbox and leaves INBOX empty.
func (s *session) Rename(oldName, newName string, _ *imap.RenameOptions) (err error) {
	defer s.done("RENAME", time.Now(), &err, "mailbox", oldName, "to", newName)
	from, err := canonical(oldName)
	if err != nil {
		return err
	}
	to, err := canonical(newName)
	if err != nil {
		return err
	}
	ctx := s.ctx()
	if to == store.Inbox {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAlreadyExists, Text: "INBOX exists"}
	}
	extra := 0
	if from == store.Inbox {
		extra = 1 // INBOX stays, its messages move to a new mailbox
	}
	have, err := s.checkCount(ctx, extra)
	if err != nil {
		return err
	}
	if !have[from] {
		return errNoSuchMailbox
	}
	// The new name of every mailbox that moves must be one a new mailbox
	// may have.
	if err := s.checkNew(to); err != nil {
		return err
	}
	if from != store.Inbox {
		for old := range have {
			if strings.HasPrefix(old, from+string(delim)) {
				if err := s.checkNew(to + old[len(from):]); err != nil {
					return err
				}
			}
		}
		return storeError("rename "+from, s.st.RenameMailbox(ctx, from, to))
	}
	if _, err := s.st.CreateMailbox(ctx, to, ""); err != nil {
		return storeError("rename INBOX", err)
	}
	uids, err := s.st.UIDs(ctx, store.Inbox)
	if err != nil {
		return storeError("rename INBOX", err)
	}
	if len(uids) > 0 {
		if _, _, err := s.st.Move(ctx, store.Inbox, uids, to); err != nil {
			return storeError("rename INBOX", err)
		}
	}
	return nil
}

// Subscribe implements SUBSCRIBE (RFC 9051 section 6.3.7).
func (s *session) Subscribe(name string) (err error) {
	defer s.done("SUBSCRIBE", time.Now(), &err, "mailbox", name)
	return s.setSubscribed(name, true)
}

// Unsubscribe implements UNSUBSCRIBE (RFC 9051 section 6.3.8).
func (s *session) Unsubscribe(name string) (err error) {
	defer s.done("UNSUBSCRIBE", time.Now(), &err, "mailbox", name)
	return s.setSubscribed(name, false)
}

func (s *session) setSubscribed(name string, on bool) error {
	cname, err := canonical(name)
	if err != nil {
		return err
	}
	return storeError("subscribe "+cname, s.st.SetSubscribed(s.ctx(), cname, on))
}

// List implements LIST and LSUB (RFC 9051 section 6.3.9) with the
// selection and return options of LIST-EXTENDED (RFC 5258), CHILDREN,
// SPECIAL-USE (RFC 6154; the attributes are always returned) and
// LIST-STATUS (RFC 5819). Superior levels that are not mailboxes are
// listed as \NoSelect.
func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) (err error) {
	defer s.done("LIST", time.Now(), &err)
	if options == nil {
		options = &imap.ListOptions{}
	}
	if len(patterns) == 0 || (len(patterns) == 1 && patterns[0] == "") {
		// RFC 9051 section 6.3.9: the empty pattern asks for the delimiter.
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: delim})
	}
	mbs, err := s.st.Mailboxes(s.ctx())
	if err != nil {
		return storeError("list", err)
	}
	match := newListMatcher(ref, patterns)
	byName := map[string]*store.Mailbox{}
	hasChildren := map[string]bool{}
	names := map[string]bool{}
	for i := range mbs {
		mb := &mbs[i]
		byName[mb.Name] = mb
		names[mb.Name] = true
		parts := strings.Split(mb.Name, string(delim))
		for j := 1; j < len(parts); j++ {
			p := strings.Join(parts[:j], string(delim))
			hasChildren[p] = true
			names[p] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if (sorted[i] == store.Inbox) != (sorted[j] == store.Inbox) {
			return sorted[i] == store.Inbox
		}
		return sorted[i] < sorted[j]
	})
	for _, name := range sorted {
		if !match.match(name) {
			continue
		}
		mb := byName[name]
		if options.SelectSubscribed && (mb == nil || !mb.Subscribed) {
			continue
		}
		if options.SelectSpecialUse && (mb == nil || mb.SpecialUse == "") {
			continue
		}
		data := &imap.ListData{Mailbox: name, Delim: delim}
		if mb == nil {
			data.Attrs = append(data.Attrs, imap.MailboxAttrNoSelect)
		}
		if hasChildren[name] {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
		}
		if mb != nil {
			if mb.Subscribed && (options.SelectSubscribed || options.ReturnSubscribed) {
				data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
			}
			if mb.SpecialUse != "" {
				data.Attrs = append(data.Attrs, imap.MailboxAttr(mb.SpecialUse))
			}
			if options.ReturnStatus != nil {
				if data.Status, err = s.status(mb, options.ReturnStatus); err != nil {
					return err
				}
			}
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

// Status implements STATUS (RFC 9051 section 6.3.11), with SIZE (RFC
// 8438) and DELETED.
func (s *session) Status(name string, options *imap.StatusOptions) (data *imap.StatusData, err error) {
	defer s.done("STATUS", time.Now(), &err, "mailbox", name)
	cname, err := canonical(name)
	if err != nil {
		return nil, err
	}
	mb, err := s.st.Mailbox(s.ctx(), cname)
	if err != nil {
		return nil, storeError("status "+cname, err)
	}
	return s.status(mb, options)
}

func (s *session) status(mb *store.Mailbox, options *imap.StatusOptions) (*imap.StatusData, error) {
	data := &imap.StatusData{Mailbox: mb.Name}
	u32 := func(n int) *uint32 { v := uint32(n); return &v }
	if options.NumMessages {
		data.NumMessages = u32(mb.Total)
	}
	if options.UIDNext {
		data.UIDNext = imap.UID(mb.UIDNext)
	}
	if options.UIDValidity {
		data.UIDValidity = mb.UIDValidity
	}
	if options.NumUnseen {
		data.NumUnseen = u32(mb.Unread)
	}
	if options.NumRecent {
		data.NumRecent = u32(0) // \Recent is not kept (RFC 9051 removed it)
	}
	if options.AppendLimit {
		limit := s.srv.opts.AppendLimit
		data.AppendLimit = &limit
	}
	if options.HighestModSeq {
		data.HighestModSeq = mb.HighestModSeq
	}
	if options.NumDeleted || options.Size {
		u, err := s.st.Usage(s.ctx(), mb.Name)
		if err != nil {
			return nil, storeError("status "+mb.Name, err)
		}
		if options.NumDeleted {
			data.NumDeleted = u32(u.Deleted)
		}
		if options.Size {
			size := u.Size
			data.Size = &size
		}
	}
	return data, nil
}
