package imapd

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	// Legacy charsets (koi8-r, iso-2022-jp, ...) for the encoded words
	// SEARCH HEADER decodes through go-message; store/mime no longer
	// registers them for the whole binary.
	_ "github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"

	"github.com/letterbox-mail/letterbox/store"
)

// Search implements SEARCH and UID SEARCH (RFC 9051 section 6.4.4) with
// ESEARCH results and SEARCHRES (RFC 5182).
//
// The store answers it: the criteria become one store.Filter, compiled to
// one SQL query (flags, keywords, dates, sizes, UID and sequence sets,
// From/To/Cc/Subject/Message-ID/In-Reply-To substrings, BODY and TEXT via
// the full-text index, NOT and OR). Only header fields the index does not
// keep (HEADER of other fields, BCC, and the empty value that asks whether
// a field exists) are evaluated here, by reading the headers of the
// selected mailbox's messages once per such key; their result enters the
// filter as a UID set. BODY and TEXT match whole words, as RFC 9051 section
// 6.4.4 allows. \Recent is never set, so RECENT and NEW match nothing.
func (s *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (data *imap.SearchData, err error) {
	defer s.done("SEARCH", time.Now(), &err)
	name, err := s.mailbox()
	if err != nil {
		return nil, err
	}
	view := s.sel.view()
	c := &searchCompiler{s: s, mailbox: name, view: view}
	f, err := c.filter(criteria)
	if err != nil {
		return nil, err
	}
	// Only messages the client knows of can be answered.
	and(&f, store.Filter{UIDs: ranges(uidsOf(view))})
	uids, err := s.st.SearchUIDs(s.ctx(), name, &f)
	if err != nil {
		return nil, storeError("search "+name, err)
	}
	seqOf := make(map[uint32]uint32, len(view))
	for _, m := range view {
		seqOf[m.uid] = m.seq
	}
	data = &imap.SearchData{}
	var seqs imap.SeqSet
	var uidSet imap.UIDSet
	for _, uid := range uids {
		seq, ok := seqOf[uid]
		if !ok {
			continue
		}
		uidSet.AddNum(imap.UID(uid))
		seqs.AddNum(seq)
		num := seq
		if kind == imapserver.NumKindUID {
			num = uid
		}
		if data.Min == 0 || num < data.Min {
			data.Min = num
		}
		data.Max = max(data.Max, num)
		data.Count++
	}
	if kind == imapserver.NumKindUID {
		data.All = uidSet
	} else {
		data.All = seqs
	}
	if options != nil && options.ReturnSave {
		s.sel.searchRes = saved(uids, seqOf, options)
	}
	return data, nil
}

// saved is what SEARCHRES keeps: all matches, or only the lowest and
// highest when SAVE comes with MIN or MAX alone (RFC 5182 section 2.4).
func saved(uids []uint32, known map[uint32]uint32, options *imap.SearchOptions) imap.UIDSet {
	var all []uint32
	for _, u := range uids {
		if _, ok := known[u]; ok {
			all = append(all, u)
		}
	}
	var set imap.UIDSet
	if len(all) == 0 {
		return set
	}
	if options.ReturnAll || options.ReturnCount || (!options.ReturnMin && !options.ReturnMax) {
		for _, u := range all {
			set.AddNum(imap.UID(u))
		}
		return set
	}
	if options.ReturnMin {
		set.AddNum(imap.UID(all[0]))
	}
	if options.ReturnMax {
		set.AddNum(imap.UID(all[len(all)-1]))
	}
	return set
}

// searchCompiler turns IMAP search criteria into a store.Filter.
type searchCompiler struct {
	s       *session
	mailbox string
	view    []msgRef
	headers map[uint32]textproto.Header // read once, for unindexed fields
}

func (c *searchCompiler) filter(sc *imap.SearchCriteria) (store.Filter, error) {
	loc := c.s.srv.opts.Location
	var f store.Filter
	for _, set := range sc.SeqNum {
		and(&f, store.Filter{UIDs: ranges(uidsOf(c.seqs(set)))})
	}
	for _, set := range sc.UID {
		if imap.IsSearchRes(set) {
			set = c.s.sel.searchRes
		}
		set = staticUIDSet(set, lastUID(c.view))
		var uids []uint32
		for _, m := range c.view {
			if set.Contains(imap.UID(m.uid)) {
				uids = append(uids, m.uid)
			}
		}
		and(&f, store.Filter{UIDs: ranges(uids)})
	}
	// Dates compare calendar days, disregarding time and zone (RFC 9051
	// section 6.4.4): the day is taken in the server's zone.
	f.Since, f.Before = day(sc.Since, loc), day(sc.Before, loc)
	f.SentSince, f.SentBefore = day(sc.SentSince, loc), day(sc.SentBefore, loc)
	f.Larger, f.Smaller = sc.Larger, sc.Smaller
	for _, fl := range sc.Flag {
		if strings.EqualFold(string(fl), `\Recent`) {
			and(&f, store.Filter{UIDs: []store.UIDRange{}})
			continue
		}
		f.Flags = append(f.Flags, string(fl))
	}
	for _, fl := range sc.NotFlag {
		if !strings.EqualFold(string(fl), `\Recent`) {
			f.NotFlags = append(f.NotFlags, string(fl))
		}
	}
	for _, h := range sc.Header {
		if store.FilterHeaderIndexed(h.Key, h.Value) {
			f.Header = append(f.Header, store.HeaderMatch{Key: h.Key, Value: h.Value})
			continue
		}
		uids, err := c.scanHeader(h.Key, h.Value)
		if err != nil {
			return f, err
		}
		and(&f, store.Filter{UIDs: ranges(uids)})
	}
	f.Body = append(f.Body, sc.Body...)
	f.Text = append(f.Text, sc.Text...)
	for i := range sc.Not {
		g, err := c.filter(&sc.Not[i])
		if err != nil {
			return f, err
		}
		f.Not = append(f.Not, g)
	}
	for _, pair := range sc.Or {
		a, err := c.filter(&pair[0])
		if err != nil {
			return f, err
		}
		b, err := c.filter(&pair[1])
		if err != nil {
			return f, err
		}
		f.Or = append(f.Or, [2]store.Filter{a, b})
	}
	return f, nil
}

// seqs returns the messages of a sequence set in the session's view.
func (c *searchCompiler) seqs(set imap.SeqSet) []msgRef {
	if len(c.view) == 0 {
		return nil
	}
	set = staticSeqSet(set, c.view[len(c.view)-1].seq)
	var out []msgRef
	for _, m := range c.view {
		if set.Contains(m.seq) {
			out = append(out, m)
		}
	}
	return out
}

// scanHeader returns the UIDs of the messages whose header field key
// contains value (case-insensitive), or has the field at all when value is
// empty. The headers are read from the files once per search.
func (c *searchCompiler) scanHeader(key, value string) ([]uint32, error) {
	if c.headers == nil {
		msgs, err := c.s.st.Fetch(c.s.ctx(), c.mailbox, uidsOf(c.view))
		if err != nil {
			return nil, storeError("search "+c.mailbox, err)
		}
		c.headers = make(map[uint32]textproto.Header, len(msgs))
		for _, m := range msgs {
			h, err := readHeader(filepath.Join(c.s.st.Root(), m.File))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			c.headers[m.UID] = h
		}
	}
	value = strings.ToLower(value)
	var out []uint32
	for _, m := range c.view {
		h, ok := c.headers[m.uid]
		if !ok {
			continue
		}
		mh := gomessage.Header{Header: h}
		fields := mh.FieldsByKey(key)
		for fields.Next() {
			v, err := fields.Text()
			if err != nil {
				v = fields.Value()
			}
			if value == "" || strings.Contains(strings.ToLower(v), value) {
				out = append(out, m.uid)
				break
			}
		}
	}
	return out, nil
}

// maxSearchHeader is how much of a message's header SEARCH HEADER reads
// for a field the index does not hold: the fields after it are not
// searched, so a header of many megabytes costs what a normal one does.
const maxSearchHeader = 64 << 10

func readHeader(path string) (textproto.Header, error) {
	f, err := openRead(path)
	if err != nil {
		return textproto.Header{}, err
	}
	defer f.Close()
	// An unparsable header has the fields read before the fault, a cut
	// one those before the cut.
	h, _ := textproto.ReadHeader(bufio.NewReader(io.LimitReader(f, maxSearchHeader)))
	return h, nil
}

// and adds g to f's conditions.
func and(f *store.Filter, g store.Filter) {
	if f.UIDs == nil && g.UIDs != nil && isOnlyUIDs(g) {
		f.UIDs = g.UIDs
		return
	}
	f.Not = append(f.Not, store.Filter{Not: []store.Filter{g}}) // NOT NOT g
}

func isOnlyUIDs(g store.Filter) bool {
	g.UIDs = nil
	return g.Flags == nil && g.NotFlags == nil && g.Since.IsZero() && g.Before.IsZero() && g.SentSince.IsZero() &&
		g.SentBefore.IsZero() && g.Larger == 0 && g.Smaller == 0 && g.Header == nil && g.Body == nil &&
		g.Text == nil && g.Not == nil && g.Or == nil
}

// ranges compresses ascending UIDs into ranges; nil becomes an empty,
// non-nil set (nothing matches).
func ranges(uids []uint32) []store.UIDRange {
	out := []store.UIDRange{}
	if !slices.IsSorted(uids) {
		uids = slices.Clone(uids)
		slices.Sort(uids)
	}
	for _, u := range uids {
		if n := len(out); n > 0 && out[n-1].Stop+1 == u {
			out[n-1].Stop = u
			continue
		}
		out = append(out, store.UIDRange{Start: u, Stop: u})
	}
	return out
}

// day returns the start of t's calendar day in loc; zero stays zero.
func day(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
