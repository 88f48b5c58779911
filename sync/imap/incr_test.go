package imapsync

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
)

// TestProvedUIDs: the count proof of incr.go holds only when the server's
// UIDs below the last UIDNEXT and the store's are provably the last
// pass's.
func TestProvedUIDs(t *testing.T) {
	seq := func(a, b uint32, skip ...uint32) []uint32 {
		var out []uint32
		for u := a; u <= b; u++ {
			if !slices.Contains(skip, u) {
				out = append(out, u)
			}
		}
		return out
	}
	set := func(uids ...uint32) map[uint32][]string {
		m := map[uint32][]string{}
		for _, u := range uids {
			m[u] = nil
		}
		return m
	}
	last := makeProof(seq(1, 10), 11) // the last pass: 1..10, UIDNEXT 11
	tests := []struct {
		name    string
		proof   uidProof
		known   []uint32 // the store's remote UIDs
		exists  uint32
		changed map[uint32][]string // the CHANGEDSINCE answer
		next    uint32              // the SELECT's UIDNEXT
		want    []uint32            // nil: not proved
	}{
		{"no proof", uidProof{}, seq(1, 10), 10, nil, 11, nil},
		{"nothing new", last, seq(1, 10), 10, set(3), 11, seq(1, 10)},
		{"two new and flags", last, seq(1, 10), 12, set(2, 11, 12), 13, seq(1, 12)},
		{"expunge one, append one", last, seq(1, 10), 10, set(11), 12, nil},
		{"expunge one", last, seq(1, 10), 9, nil, 11, nil},
		{"expunge two, append one beyond a gap", last, seq(1, 10), 9, set(13), 14, nil},
		// The store lacks 4 (its store failed) and still has 12, which
		// the server expunged after an interrupted pass; counts agree.
		{"store differs, same count", last, append(seq(1, 10, 4), 12), 11, set(11), 13, nil},
		{"store knows one the server assigned since", last, seq(1, 11), 11, set(11), 12, seq(1, 11)},
		{"store knows one the server expunged since", last, seq(1, 11), 10, nil, 12, seq(1, 10)},
		{"a UID beyond the SELECT's view", last, seq(1, 10), 11, set(11, 12), 12, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := provedUIDs(tc.proof, tc.known, tc.exists, tc.changed, tc.next)
			if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
				t.Errorf("provedUIDs = %v, %v; want %v", got, ok, tc.want)
			}
		})
	}
	if p := parseProof(last.String()); p != last {
		t.Errorf("parseProof(%q) = %+v", last.String(), p)
	}
	for _, bad := range []string{"", "11:10", "x:10:" + last.sum, "11:-1:" + last.sum, "11:10:abc"} {
		if p := parseProof(bad); p.next != 0 {
			t.Errorf("parseProof(%q) = %+v, want none", bad, p)
		}
	}
}

// condFake is a one-mailbox CONDSTORE server (RFC 7162) on fakeIMAP:
// SELECT with HIGHESTMODSEQ, UID SEARCH, UID FETCH of flags CHANGEDSINCE
// and of bodies. beforeChanges, when set, runs before the answer to a
// CHANGEDSINCE fetch is written (to play another session's expunge
// announced then).
type condFake struct {
	*fakeIMAP
	mu            sync.Mutex
	msgs          []fakeMsg // ascending UIDs
	uidnext       uint32
	modseq        uint64
	cmds          []string
	beforeChanges func(w io.Writer)
}

type fakeMsg struct {
	uid    uint32
	modseq uint64
	flags  string
	body   []byte
}

func newCondFake(t *testing.T) *condFake {
	f := &condFake{fakeIMAP: newFakeIMAP(t), uidnext: 1, modseq: 1}
	f.reply["LOGIN"] = func(tag, _ string, w io.Writer) {
		io.WriteString(w, tag+" OK [CAPABILITY IMAP4rev1 CONDSTORE ESEARCH LITERAL+] logged in\r\n")
	}
	f.reply["LIST"] = func(tag, _ string, w io.Writer) {
		io.WriteString(w, "* LIST () \"/\" INBOX\r\n"+tag+" OK done\r\n")
	}
	f.reply["SELECT"] = func(tag, line string, w io.Writer) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.cmds = append(f.cmds, "SELECT")
		fmt.Fprintf(w, "* %d EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT %d] ok\r\n* OK [HIGHESTMODSEQ %d] ok\r\n%s OK [READ-WRITE] done\r\n",
			len(f.msgs), f.uidnext, f.modseq, tag)
	}
	f.reply["UID SEARCH"] = func(tag, _ string, w io.Writer) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.cmds = append(f.cmds, "SEARCH")
		var uids []string
		for _, m := range f.msgs {
			uids = append(uids, strconv.Itoa(int(m.uid)))
		}
		fmt.Fprintf(w, "* ESEARCH (TAG %q) UID ALL %s\r\n%s OK done\r\n", tag, strings.Join(uids, ","), tag)
	}
	changedSince := regexp.MustCompile(`CHANGEDSINCE (\d+)`)
	f.reply["UID FETCH"] = func(tag, line string, w io.Writer) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if m := changedSince.FindStringSubmatch(line); m != nil {
			f.cmds = append(f.cmds, "FETCH CHANGEDSINCE")
			if f.beforeChanges != nil {
				f.beforeChanges(w)
				f.beforeChanges = nil
			}
			since, _ := strconv.ParseUint(m[1], 10, 64)
			for i, msg := range f.msgs {
				if msg.modseq > since {
					fmt.Fprintf(w, "* %d FETCH (UID %d FLAGS (%s) RFC822.SIZE %d INTERNALDATE \"02-Mar-2026 10:00:00 +0000\" MODSEQ (%d))\r\n",
						i+1, msg.uid, msg.flags, len(msg.body), msg.modseq)
				}
			}
			io.WriteString(w, tag+" OK done\r\n")
			return
		}
		// UID FETCH set (...): the set is the third word.
		words := strings.Fields(line)
		want := map[uint32]bool{}
		for _, part := range strings.Split(words[3], ",") {
			a, b, isRange := strings.Cut(part, ":")
			lo, _ := strconv.Atoi(a)
			hi := lo
			if isRange {
				if b == "*" {
					hi = 1 << 31
				} else {
					hi, _ = strconv.Atoi(b)
				}
			}
			for _, m := range f.msgs {
				if int(m.uid) >= lo && int(m.uid) <= hi {
					want[m.uid] = true
				}
			}
		}
		body := strings.Contains(line, "BODY.PEEK[]")
		if body {
			f.cmds = append(f.cmds, "FETCH BODY")
		} else {
			f.cmds = append(f.cmds, "FETCH "+strings.Join(words[4:], " "))
		}
		for i, m := range f.msgs {
			if !want[m.uid] {
				continue
			}
			fmt.Fprintf(w, "* %d FETCH (UID %d FLAGS (%s) RFC822.SIZE %d INTERNALDATE \"02-Mar-2026 10:00:00 +0000\" MODSEQ (%d)", i+1, m.uid, m.flags, len(m.body), m.modseq)
			if body {
				fmt.Fprintf(w, " BODY[] {%d}\r\n%s", len(m.body), m.body)
			}
			io.WriteString(w, ")\r\n")
		}
		io.WriteString(w, tag+" OK done\r\n")
	}
	f.start()
	return f
}

// add appends messages with the given Message-IDs.
func (f *condFake) add(mids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, mid := range mids {
		f.modseq++
		f.msgs = append(f.msgs, fakeMsg{uid: f.uidnext, modseq: f.modseq, body: testMsg(mid, 300)})
		f.uidnext++
	}
}

// expunge removes the message with uid; it returns its sequence number.
func (f *condFake) expunge(uid uint32) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.expungeLocked(uid)
}

func (f *condFake) expungeLocked(uid uint32) int {
	for i, m := range f.msgs {
		if m.uid == uid {
			f.msgs = slices.Delete(f.msgs, i, i+1)
			f.modseq++
			return i + 1
		}
	}
	return 0
}

// flag sets the flags of uid.
func (f *condFake) flag(uid uint32, flags string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.msgs {
		if f.msgs[i].uid == uid {
			f.modseq++
			f.msgs[i].flags, f.msgs[i].modseq = flags, f.modseq
		}
	}
}

// took returns the commands of the mailbox pass since the last call.
func (f *condFake) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cmds
	f.cmds = nil
	return c
}

// localMids returns the Message-IDs of the local INBOX, sorted.
func localMids(t *testing.T, st *store.Store) []string {
	t.Helper()
	s, _ := localState(t, st, store.Inbox)
	var out []string
	for mid := range s.flags {
		out = append(out, mid)
	}
	slices.Sort(out)
	return out
}

// TestIncrementalWithoutSearch: on a CONDSTORE server an incremental pass
// leaves out UID SEARCH ALL and the size fetch when the counts prove
// nothing was expunged, and makes the search whenever they do not: an
// expunge beside an append (EXISTS unchanged), and an expunge the server
// announces while the CHANGEDSINCE fetch is answered, which would make
// the counts agree falsely.
func TestIncrementalWithoutSearch(t *testing.T) {
	f := newCondFake(t)
	f.add("m1", "m2", "m3", "m4", "m5")
	st := newStore(t)
	opts := Options{Account: "t", Server: Config{Addr: f.addr(), Security: SecurityNone, Login: "u", Password: "p"}}
	sync := func() Result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := Sync(ctx, st, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	check := func(res, want Result, cmds []string, search bool, mids ...string) {
		t.Helper()
		if res.New != want.New || res.Expunged != want.Expunged || res.Flags != want.Flags {
			t.Errorf("result %+v, want %d new, %d expunged, %d flags", res, want.New, want.Expunged, want.Flags)
		}
		if slices.Contains(cmds, "SEARCH") != search {
			t.Errorf("commands %q: UID SEARCH made %v, want %v", cmds, !search, search)
		}
		if got := localMids(t, st); !slices.Equal(got, mids) {
			t.Errorf("local messages %q, want %q", got, mids)
		}
	}
	check(sync(), Result{New: 5}, f.took(), true, "m1", "m2", "m3", "m4", "m5")

	// Two new messages and a flag change: SELECT, the CHANGEDSINCE fetch
	// (which brings the sizes) and the bodies, nothing else.
	f.add("m6", "m7")
	f.flag(2, `\Seen`)
	res := sync()
	cmds := f.took()
	check(res, Result{New: 2, Flags: 1}, cmds, false, "m1", "m2", "m3", "m4", "m5", "m6", "m7")
	if want := []string{"SELECT", "FETCH CHANGEDSINCE", "FETCH BODY"}; !slices.Equal(cmds, want) {
		t.Errorf("commands %q, want %q", cmds, want)
	}

	// Expunge one and append one: EXISTS is what it was.
	f.expunge(3)
	f.add("m8")
	check(sync(), Result{New: 1, Expunged: 1}, f.took(), true, "m1", "m2", "m4", "m5", "m6", "m7", "m8")

	// Expunge one below the last UIDNEXT and append two; the server
	// announces the expunge of the newer one during the CHANGEDSINCE
	// fetch and leaves it out of the answer: EXISTS (7) less the one new
	// UID seen (1) equals the last count (6), yet m1 is gone.
	f.expunge(1)
	f.add("m9", "m10")
	f.beforeChanges = func(w io.Writer) {
		seq := f.expungeLocked(10)
		fmt.Fprintf(w, "* %d EXPUNGE\r\n", seq)
	}
	check(sync(), Result{New: 1, Expunged: 1}, f.took(), true, "m2", "m4", "m5", "m6", "m7", "m8", "m9")

	// And the pass after it needs no search again.
	f.add("m11")
	check(sync(), Result{New: 1}, f.took(), false, "m11", "m2", "m4", "m5", "m6", "m7", "m8", "m9")
}

// TestExpungeOneAppendOne: another device expunges one message and
// appends one, so the count stays; the sync must see both (a shortcut
// that trusted the count would keep the expunged message). On a
// CONDSTORE server (Dovecot) the pass before it, with only new messages
// and flag changes, makes no UID SEARCH, and this one does.
func TestExpungeOneAppendOne(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		a := admin{t, p}
		mids := a.seed("INBOX", "ea", 6, 600)
		st := newStore(t)
		opts := testOptions(p)
		opts.AllMailboxes = false
		opts.Mailboxes = []string{"INBOX"}
		mustSync(t, st, opts)
		p.proxy.record.Store(true)

		a.seed("INBOX", "ea-new", 2, 600)
		a.flag("INBOX", mids[0], imap.StoreFlagsAdd, `\Seen`)
		p.proxy.takeSent()
		res := mustSync(t, st, opts)
		if res.New != 2 || res.Flags != 1 || res.Expunged != 0 {
			t.Errorf("result %+v, want 2 new, 1 flag change", res)
		}
		sameState(t, st, a, "INBOX", true)
		if sent := p.proxy.takeSent(); p.condstore && strings.Contains(sent, "UID SEARCH") {
			t.Errorf("a pass with nothing expunged searched:\n%s", sent)
		}

		a.expunge("INBOX", mids[1])
		a.seed("INBOX", "ea-more", 1, 600)
		p.proxy.takeSent()
		res = mustSync(t, st, opts)
		if res.New != 1 || res.Expunged != 1 {
			t.Errorf("result %+v, want 1 new, 1 expunged", res)
		}
		sameState(t, st, a, "INBOX", true)
		if sent := p.proxy.takeSent(); p.condstore && !strings.Contains(sent, "UID SEARCH") {
			t.Errorf("a pass with an expunge and an append did not search:\n%s", sent)
		}

		// Both again, and a flag change, on the state the last pass saved.
		a.expunge("INBOX", mids[2])
		a.seed("INBOX", "ea-last", 1, 600)
		a.flag("INBOX", mids[3], imap.StoreFlagsAdd, `\Flagged`)
		res = mustSync(t, st, opts)
		if res.New != 1 || res.Expunged != 1 || res.Flags != 1 {
			t.Errorf("result %+v, want 1 new, 1 expunged, 1 flag change", res)
		}
		sameState(t, st, a, "INBOX", true)
	})
}
