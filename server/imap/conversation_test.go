package imapd

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/letterbox-mail/letterbox/store"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	tests := []struct {
		user, pass string
		ok         bool
	}{
		{testUser, testPass, true},
		{"ALICE@A.TEST", testPass, true},
		{"alice", testPass, true},
		{testUser, "wrong", false},
		{"nobody@a.test", testPass, false},
		{testUser, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.pass, func(t *testing.T) {
			c, err := imapclient.DialInsecure(e.addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Login(tt.user, tt.pass).Wait()
			if (err == nil) != tt.ok {
				t.Fatalf("login %s/%s: err %v, want ok=%v", tt.user, tt.pass, err, tt.ok)
			}
			if !tt.ok {
				if !strings.Contains(err.Error(), "AUTHENTICATIONFAILED") && !strings.Contains(err.Error(), "Authentication failed") {
					t.Fatalf("failure text: %v", err)
				}
				return
			}
			caps, err := c.Capability().Wait()
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []imap.Cap{imap.CapIMAP4rev1, imap.CapIMAP4rev2, imap.CapIdle, imap.CapUIDPlus, imap.CapMove,
				imap.CapSpecialUse, imap.CapLiteralPlus, imap.CapNamespace, imap.Cap("APPENDLIMIT=52428800")} {
				if !caps.Has(want) {
					t.Errorf("capability %s missing from %v", want, caps)
				}
			}
		})
	}
}

func TestListSpecialUse(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	if _, err := e.st.CreateMailbox(context.Background(), "Projects/2026", ""); err != nil {
		t.Fatal(err)
	}
	c := e.client(nil)
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string][]imap.MailboxAttr{}
	var names []string
	for _, d := range list {
		attrs[d.Mailbox] = d.Attrs
		names = append(names, d.Mailbox)
		if d.Delim != '/' {
			t.Errorf("%s: delimiter %q", d.Mailbox, d.Delim)
		}
	}
	want := []string{"INBOX", "Archive", "Drafts", "Junk", "Projects", "Projects/2026", "Sent", "Trash"}
	if !slices.Equal(names, want) {
		t.Fatalf("LIST * = %v, want %v", names, want)
	}
	for name, use := range map[string]imap.MailboxAttr{"Sent": imap.MailboxAttrSent, "Drafts": imap.MailboxAttrDrafts,
		"Trash": imap.MailboxAttrTrash, "Junk": imap.MailboxAttrJunk, "Archive": imap.MailboxAttrArchive} {
		if !slices.Contains(attrs[name], use) {
			t.Errorf("%s attrs %v lack %s", name, attrs[name], use)
		}
	}
	if !slices.Contains(attrs["Projects"], imap.MailboxAttrNoSelect) || !slices.Contains(attrs["Projects"], imap.MailboxAttrHasChildren) {
		t.Errorf("Projects attrs %v", attrs["Projects"])
	}
	// RFC 6154 section 5.1: LIST (SPECIAL-USE) selects only those.
	special, err := c.List("", "*", &imap.ListOptions{SelectSpecialUse: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(special) != 5 {
		t.Fatalf("LIST (SPECIAL-USE) returned %d mailboxes", len(special))
	}
	top, err := c.List("", "%", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(top) != 7 {
		t.Fatalf("LIST %% returned %d mailboxes", len(top))
	}
	ns, err := c.Namespace().Wait()
	if err != nil || len(ns.Personal) != 1 || ns.Personal[0].Delim != '/' {
		t.Fatalf("NAMESPACE %+v %v", ns, err)
	}
}

func TestSelectExamine(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	e.add("INBOX", testMsg(1, "one", "a"), store.FlagSeen)
	e.add("INBOX", testMsg(2, "two", "b"))
	e.add("INBOX", testMsg(3, "three", "c"))
	mb, _ := e.st.Mailbox(context.Background(), "INBOX")
	c := e.client(nil)
	for _, readOnly := range []bool{false, true} {
		data, err := c.Select("inbox", &imap.SelectOptions{ReadOnly: readOnly}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if data.NumMessages != 3 || data.UIDNext != 4 || data.UIDValidity != mb.UIDValidity {
			t.Fatalf("select (read-only %v): %+v", readOnly, data)
		}
		if readOnly == false && !slices.Contains(data.PermanentFlags, imap.FlagWildcard) {
			t.Errorf("PERMANENTFLAGS %v", data.PermanentFlags)
		}
	}
	// EXAMINE is read-only: no STORE, no implicit \Seen.
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err == nil {
		t.Fatal("STORE in EXAMINE succeeded")
	}
	if _, err := c.Fetch(imap.SeqSetNum(2), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect(); err != nil {
		t.Fatal(err)
	}
	if m, _ := e.st.GetByUID(context.Background(), "INBOX", 2); m.HasFlag(store.FlagSeen) {
		t.Fatal("FETCH BODY[] in EXAMINE set \\Seen")
	}
	if _, err := c.Select("NoSuchBox", nil).Wait(); err == nil {
		t.Fatal("SELECT of a missing mailbox succeeded")
	}
}

func TestAppendFetch(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	c := e.client(nil)
	raw := []byte("From: Ann <ann@example.com>\r\nTo: bob@example.org\r\nSubject: =?UTF-8?Q?caf=C3=A9?= menu\r\n" +
		"Date: Tue, 3 Mar 2026 09:00:00 +0100\r\nMessage-ID: <menu@example.com>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Soup of the day.\r\n--b1\r\nContent-Type: application/octet-stream; name=x.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b1--\r\n")
	when := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDraft, "$Menu"}, Time: when})
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	ad, err := cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := e.st.Mailbox(context.Background(), "INBOX")
	if ad.UID != 1 || ad.UIDValidity != mb.UIDValidity {
		t.Fatalf("APPENDUID %+v, mailbox %+v", ad, mb)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject"}, Peek: true}
	partial := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 6, Size: 3}}
	part1 := &imap.FetchItemBodySection{Part: []int{1}, Peek: true}
	whole := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(ad.UID), &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{whole, header, partial, part1},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if !bytes.Equal(m.FindBodySection(whole), raw) {
		t.Fatalf("BODY[] differs:\n%q\n%q", m.FindBodySection(whole), raw)
	}
	if got := string(m.FindBodySection(header)); got != "Subject: =?UTF-8?Q?caf=C3=A9?= menu\r\n\r\n" {
		t.Errorf("HEADER.FIELDS: %q", got)
	}
	if got := string(m.FindBodySection(partial)); got != "Ann" {
		t.Errorf("partial: %q", got)
	}
	if got := string(m.FindBodySection(part1)); got != "Soup of the day." {
		t.Errorf("BODY[1]: %q", got)
	}
	if m.RFC822Size != int64(len(raw)) || !m.InternalDate.Equal(when) {
		t.Errorf("size %d date %v", m.RFC822Size, m.InternalDate)
	}
	if m.Envelope == nil || m.Envelope.Subject != "café menu" || m.Envelope.MessageID != "menu@example.com" {
		t.Errorf("envelope %+v", m.Envelope)
	}
	if mp, ok := m.BodyStructure.(*imap.BodyStructureMultiPart); !ok || mp.Subtype != "mixed" || len(mp.Children) != 2 {
		t.Errorf("bodystructure %#v", m.BodyStructure)
	}
	if !slices.Contains(m.Flags, imap.FlagDraft) || !slices.Contains(m.Flags, "$Menu") {
		t.Errorf("flags %v", m.Flags)
	}
	// BODY[] without PEEK sets \Seen and reports it (RFC 9051 6.4.5).
	msgs, err = c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierText}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(msgs[0].Flags, imap.FlagSeen) {
		t.Errorf("flags after BODY[TEXT]: %v", msgs[0].Flags)
	}
	if sm, _ := e.st.GetByUID(context.Background(), "INBOX", 1); !sm.HasFlag(store.FlagSeen) {
		t.Error("store lacks \\Seen")
	}
	// APPEND to a missing mailbox asks the client to create it.
	cmd = c.Append("Nowhere", 3, nil)
	cmd.Write([]byte("x\r\n"))
	cmd.Close()
	if _, err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "TRYCREATE") {
		t.Fatalf("append to missing mailbox: %v", err)
	}
}

func TestStoreFlags(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	for i := 1; i <= 3; i++ {
		e.add("INBOX", testMsg(i, "s", "b"))
	}
	c := e.client(nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		set   imap.NumSet
		op    imap.StoreFlagsOp
		flags []imap.Flag
		want  map[uint32][]string
	}{
		{imap.SeqSetNum(1, 2), imap.StoreFlagsAdd, []imap.Flag{imap.FlagFlagged, "$Label1"},
			map[uint32][]string{1: {"$Label1", `\Flagged`}, 2: {"$Label1", `\Flagged`}, 3: nil}},
		{imap.UIDSetNum(2), imap.StoreFlagsDel, []imap.Flag{"$label1"},
			map[uint32][]string{1: {"$Label1", `\Flagged`}, 2: {`\Flagged`}, 3: nil}},
		{imap.SeqSet{imap.SeqRange{Start: 2, Stop: 0}}, imap.StoreFlagsSet, []imap.Flag{imap.FlagSeen, imap.FlagAnswered},
			map[uint32][]string{1: {"$Label1", `\Flagged`}, 2: {`\Answered`, `\Seen`}, 3: {`\Answered`, `\Seen`}}},
	}
	for i, tt := range tests {
		msgs, err := c.Store(tt.set, &imap.StoreFlags{Op: tt.op, Flags: tt.flags}, nil).Collect()
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		for _, m := range msgs {
			if got := flagStrings(m.Flags); !slices.Equal(got, tt.want[uint32(m.UID)]) {
				t.Errorf("%d: FETCH FLAGS of %d = %v, want %v", i, m.UID, got, tt.want[uint32(m.UID)])
			}
		}
		stored, _ := e.st.Fetch(ctx, "INBOX", nil)
		for _, m := range stored {
			if !slices.Equal(m.Flags, tt.want[m.UID]) {
				t.Errorf("%d: store flags of %d = %v, want %v", i, m.UID, m.Flags, tt.want[m.UID])
			}
		}
	}
	// .SILENT answers nothing.
	msgs, err := c.Store(imap.SeqSetNum(3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Collect()
	if err != nil || len(msgs) != 0 {
		t.Fatalf("silent store: %v %v", msgs, err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{`\Bogus`}}, nil).Close(); err == nil {
		t.Fatal("unknown system flag accepted")
	}
}

func flagStrings(flags []imap.Flag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, string(f))
	}
	slices.Sort(out)
	return out
}

func TestCopyMoveExpunge(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	for i := 1; i <= 5; i++ {
		e.add("INBOX", testMsg(i, "s", "b"))
	}
	var expunged []uint32
	c := e.client(&imapclient.UnilateralDataHandler{Expunge: func(seq uint32) { expunged = append(expunged, seq) }})
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	arch, _ := e.st.Mailbox(ctx, "Archive")
	cd, err := c.Copy(imap.SeqSetNum(1, 2), "Archive").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if cd.UIDValidity != arch.UIDValidity || cd.SourceUIDs.String() != "1:2" || cd.DestUIDs.String() != "1:2" {
		t.Fatalf("COPYUID %+v", cd)
	}
	md, err := c.Move(imap.UIDSetNum(2, 4), "Trash").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if md.SourceUIDs.String() != "2,4" || md.DestUIDs.String() != "1:2" {
		t.Fatalf("MOVE COPYUID %+v", md)
	}
	// MOVE expunged sequence numbers 2 and then 3 (4 after 2 went).
	if !slices.Equal(expunged, []uint32{2, 3}) {
		t.Fatalf("EXPUNGE responses of MOVE: %v", expunged)
	}
	if uids, _ := e.st.UIDs(ctx, "INBOX"); !slices.Equal(uids, []uint32{1, 3, 5}) {
		t.Fatalf("INBOX UIDs %v", uids)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "Missing").Wait(); err == nil || !strings.Contains(err.Error(), "TRYCREATE") {
		t.Fatalf("copy to missing mailbox: %v", err)
	}
	// Now seqs 1,2,3 = UIDs 1,3,5. Delete 1 and 3, expunge.
	expunged = nil
	if err := c.Store(imap.SeqSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	seqs, err := c.Expunge().Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs, []uint32{1, 1}) {
		t.Fatalf("EXPUNGE returned %v", seqs)
	}
	if uids, _ := e.st.UIDs(ctx, "INBOX"); !slices.Equal(uids, []uint32{5}) {
		t.Fatalf("INBOX UIDs after expunge %v", uids)
	}
	// UID EXPUNGE (RFC 4315) removes only the given \Deleted messages.
	e.add("INBOX", testMsg(6, "s", "b"), store.FlagDeleted)
	e.add("INBOX", testMsg(7, "s", "b"), store.FlagDeleted)
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UIDExpunge(imap.UIDSetNum(7)).Collect(); err != nil {
		t.Fatal(err)
	}
	if uids, _ := e.st.UIDs(ctx, "INBOX"); !slices.Equal(uids, []uint32{5, 6}) {
		t.Fatalf("INBOX UIDs after UID EXPUNGE %v", uids)
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	ctx := context.Background()
	add := func(raw string, date time.Time, flags ...string) {
		if _, err := e.st.Append(ctx, "INBOX", strings.NewReader(raw), store.AppendOptions{Flags: flags, InternalDate: date}); err != nil {
			t.Fatal(err)
		}
	}
	d := func(day int) time.Time { return time.Date(2026, 3, day, 12, 0, 0, 0, time.UTC) }
	add(testMsg(1, "Quarterly report", "the numbers are in"), d(1), store.FlagSeen)
	add(testMsg(2, "Lunch", "pizza on friday")+"", d(2), store.FlagFlagged)
	add(strings.Replace(testMsg(3, "Report draft", "draft numbers attached"), "X-Test: n3", "X-Test: n3\r\nBcc: secret@example.net\r\nX-Priority: 1", 1), d(3), store.FlagSeen, "$Work")
	add(testMsg(4, "hello", strings.Repeat("long body text ", 300)), d(4))
	c := e.client(nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	date := func(day int) time.Time { return time.Date(2026, 3, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		c    imap.SearchCriteria
		want []uint32
	}{
		{"all", imap.SearchCriteria{}, []uint32{1, 2, 3, 4}},
		{"seen", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, []uint32{1, 3}},
		{"unseen", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, []uint32{2, 4}},
		{"keyword", imap.SearchCriteria{Flag: []imap.Flag{"$Work"}}, []uint32{3}},
		{"recent", imap.SearchCriteria{Flag: []imap.Flag{`\Recent`}}, nil},
		{"subject", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "report"}}}, []uint32{1, 3}},
		{"from", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "ann@EXAMPLE"}}}, []uint32{1, 2, 3, 4}},
		{"to name", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "To", Value: "bob"}}}, []uint32{1, 2, 3, 4}},
		{"bcc (header scan)", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Bcc", Value: "secret@"}}}, []uint32{3}},
		{"header exists", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "X-Priority", Value: ""}}}, []uint32{3}},
		{"header value", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "X-Test", Value: "N2"}}}, []uint32{2}},
		{"body", imap.SearchCriteria{Body: []string{"numbers"}}, []uint32{1, 3}},
		{"text", imap.SearchCriteria{Text: []string{"lunch"}}, []uint32{2}},
		{"larger", imap.SearchCriteria{Larger: 2000}, []uint32{4}},
		{"smaller", imap.SearchCriteria{Smaller: 2000}, []uint32{1, 2, 3}},
		{"since", imap.SearchCriteria{Since: date(3)}, []uint32{3, 4}},
		{"before", imap.SearchCriteria{Before: date(2)}, []uint32{1}},
		{"on", imap.SearchCriteria{Since: date(2), Before: date(3)}, []uint32{2}},
		{"sentsince", imap.SearchCriteria{SentSince: date(3)}, nil},
		{"sentbefore", imap.SearchCriteria{SentBefore: date(3)}, []uint32{1, 2, 3, 4}},
		{"uid set", imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(2, 3, 9)}}, []uint32{2, 3}},
		{"seq set star", imap.SearchCriteria{SeqNum: []imap.SeqSet{{imap.SeqRange{Start: 3, Stop: 0}}}}, []uint32{3, 4}},
		{"not", imap.SearchCriteria{Not: []imap.SearchCriteria{{Flag: []imap.Flag{imap.FlagSeen}}}}, []uint32{2, 4}},
		{"or", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Flag: []imap.Flag{imap.FlagFlagged}}, {Larger: 2000}}}}, []uint32{2, 4}},
		{"and of several", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}, Body: []string{"draft"}, Since: date(2)}, []uint32{3}},
		{"not header scan", imap.SearchCriteria{Not: []imap.SearchCriteria{{Header: []imap.SearchCriteriaHeaderField{{Key: "Bcc", Value: ""}}}}}, []uint32{1, 2, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := c.UIDSearch(&tt.c, nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			var got []uint32
			for _, u := range data.AllUIDs() {
				got = append(got, uint32(u))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("UID SEARCH = %v, want %v", got, tt.want)
			}
		})
	}
	// The IMAP answers agree with the store's own query language.
	agree := []struct {
		c     imap.SearchCriteria
		query string
	}{
		{imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, "is:unread"},
		{imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}}, "is:flagged"},
		{imap.SearchCriteria{Body: []string{"numbers"}}, "body:numbers"},
		{imap.SearchCriteria{Larger: 2000}, "larger:2000"},
	}
	for _, a := range agree {
		data, err := c.UIDSearch(&a.c, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := e.st.Search(ctx, a.query, store.SearchOptions{Mailbox: "INBOX", Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		var want []uint32
		for _, m := range msgs {
			want = append(want, m.UID)
		}
		slices.Sort(want)
		var got []uint32
		for _, u := range data.AllUIDs() {
			got = append(got, uint32(u))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: IMAP %v, store %v", a.query, got, want)
		}
	}
	// Sequence-number SEARCH with ESEARCH options (SEARCHRES is in
	// TestRaw: imapclient does not send SAVE).
	data, err := c.Search(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, &imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if data.Min != 1 || data.Max != 3 || data.Count != 2 {
		t.Fatalf("ESEARCH %+v", data)
	}
}

func TestStatus(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	e.add("Archive", testMsg(1, "a", "b"), store.FlagSeen)
	e.add("Archive", testMsg(2, "a", "b"), store.FlagDeleted)
	e.add("Archive", testMsg(3, "a", "b"))
	c := e.client(nil)
	data, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, NumUnseen: true, NumDeleted: true, Size: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := e.st.Mailbox(context.Background(), "Archive")
	msgs, _ := e.st.Fetch(context.Background(), "Archive", nil)
	var size int64
	for _, m := range msgs {
		size += m.Size
	}
	if *data.NumMessages != 3 || data.UIDNext != 4 || data.UIDValidity != mb.UIDValidity || *data.NumUnseen != 2 || *data.NumDeleted != 1 || *data.Size != size {
		t.Fatalf("STATUS %+v", data)
	}
	if _, err := c.Status("Nope", &imap.StatusOptions{NumMessages: true}).Wait(); err == nil {
		t.Fatal("STATUS of missing mailbox succeeded")
	}
}

func TestCreateRenameDelete(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	ctx := context.Background()
	c := e.client(nil)
	steps := []struct {
		name string
		run  func() error
		ok   bool
	}{
		{"create", func() error { return c.Create("Work/Q1", nil).Wait() }, true},
		{"create again", func() error { return c.Create("Work/Q1", nil).Wait() }, false},
		{"create special-use", func() error {
			return c.Create("Spam", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrJunk}}).Wait()
		}, true},
		{"create bad name", func() error { return c.Create("a//b", nil).Wait() }, false},
		{"rename", func() error { return c.Rename("Work", "Job", nil).Wait() }, true},
		{"rename missing", func() error { return c.Rename("Nope", "Other", nil).Wait() }, false},
		{"delete", func() error { return c.Delete("Job/Q1").Wait() }, true},
		{"delete INBOX", func() error { return c.Delete("INBOX").Wait() }, false},
		{"delete missing", func() error { return c.Delete("Job/Q1").Wait() }, false},
		{"subscribe", func() error { return c.Unsubscribe("Spam").Wait() }, true},
	}
	for _, s := range steps {
		if err := s.run(); (err == nil) != s.ok {
			t.Fatalf("%s: err %v, want ok=%v", s.name, err, s.ok)
		}
	}
	mbs, _ := e.st.Mailboxes(ctx)
	var names []string
	for _, mb := range mbs {
		names = append(names, mb.Name)
		if mb.Name == "Spam" && (mb.SpecialUse != store.SpecialJunk || mb.Subscribed) {
			t.Errorf("Spam: %+v", mb)
		}
	}
	want := []string{"INBOX", "Archive", "Drafts", "Job", "Junk", "Sent", "Spam", "Trash"}
	if !slices.Equal(names, want) {
		t.Fatalf("mailboxes %v, want %v", names, want)
	}
	// RENAME INBOX moves its messages (RFC 9051 section 6.3.6).
	e.add("INBOX", testMsg(1, "a", "b"))
	if err := c.Rename("INBOX", "Old", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if uids, _ := e.st.UIDs(ctx, "INBOX"); len(uids) != 0 {
		t.Fatalf("INBOX still has %v", uids)
	}
	if uids, _ := e.st.UIDs(ctx, "Old"); len(uids) != 1 {
		t.Fatalf("Old has %v", uids)
	}
}

// TestSequenceNumbersStable: a session keeps its sequence numbers until
// it is told of an expunge (RFC 9051 section 7.5.1).
func TestSequenceNumbersStable(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	for i := 1; i <= 4; i++ {
		e.add("INBOX", testMsg(i, "s", "b"))
	}
	var expunged []uint32
	a := e.client(&imapclient.UnilateralDataHandler{Expunge: func(seq uint32) { expunged = append(expunged, seq) }})
	b := e.client(nil)
	for _, c := range []*imapclient.Client{a, b} {
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	// FETCH may not report the expunge: A still calls UID 3 number 3.
	msgs, err := a.Fetch(imap.SeqSetNum(3), &imap.FetchOptions{UID: true}).Collect()
	if err != nil || len(msgs) != 1 || msgs[0].UID != 3 || msgs[0].SeqNum != 3 {
		t.Fatalf("FETCH 3 before NOOP: %v %+v", err, msgs)
	}
	if len(expunged) != 0 {
		t.Fatalf("EXPUNGE during FETCH: %v", expunged)
	}
	if err := a.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(expunged, []uint32{2}) {
		t.Fatalf("EXPUNGE after NOOP: %v", expunged)
	}
	msgs, err = a.Fetch(imap.SeqSetNum(3), &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil || len(msgs) != 1 || msgs[0].UID != 4 {
		t.Fatalf("FETCH 3 after NOOP: %v %+v", err, msgs)
	}
}
