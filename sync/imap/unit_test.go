package imapsync

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

func TestFlagDiff(t *testing.T) {
	for _, tc := range []struct {
		have, want  []string
		add, remove []string
	}{
		{nil, nil, nil, nil},
		{[]string{`\Seen`}, []string{`\Seen`}, nil, nil},
		{nil, []string{`\Seen`, "$A"}, []string{`\Seen`, "$A"}, nil},
		{[]string{`\Seen`, "$A"}, []string{"$a"}, nil, []string{`\Seen`}},
		{[]string{`\Flagged`}, []string{`\Seen`}, []string{`\Seen`}, []string{`\Flagged`}},
	} {
		add, remove := flagDiff(tc.have, tc.want)
		if !slices.Equal(add, tc.add) || !slices.Equal(remove, tc.remove) {
			t.Errorf("flagDiff(%q, %q) = %q, %q; want %q, %q", tc.have, tc.want, add, remove, tc.add, tc.remove)
		}
	}
}

func TestApplyOp(t *testing.T) {
	have := []string{`\Seen`, "$A"}
	for _, tc := range []struct {
		op    store.FlagOp
		flags []string
		want  []string
	}{
		{store.FlagsAdd, []string{`\Flagged`, `\Seen`}, []string{`\Seen`, "$A", `\Flagged`}},
		{store.FlagsRemove, []string{"$a"}, []string{`\Seen`}},
		{store.FlagsReplace, []string{`\Draft`}, []string{`\Draft`}},
	} {
		if got := applyOp(have, tc.op, tc.flags); !slices.Equal(got, tc.want) {
			t.Errorf("applyOp(%v, %q) = %q, want %q", tc.op, tc.flags, got, tc.want)
		}
	}
}

func TestCleanFlags(t *testing.T) {
	got := cleanFlags([]imap.Flag{`\seen`, `\Recent`, "$Label", "bad flag", `\Seen`, "(x"})
	if want := []string{`\Seen`, "$Label"}; !slices.Equal(got, want) {
		t.Errorf("cleanFlags = %q, want %q", got, want)
	}
}

func TestCRLF(t *testing.T) {
	for _, in := range []string{"", "a", "a\nb\n", "a\r\nb\r\n", "a\r\n\nb", "\n\n", "x\r", strings.Repeat("line\n", 5000)} {
		want := strings.ReplaceAll(strings.ReplaceAll(in, "\r\n", "\n"), "\n", "\r\n")
		n, err := crlfLen(bufio.NewReader(strings.NewReader(in)))
		if err != nil || n != int64(len(want)) {
			t.Errorf("crlfLen(%q) = %d, %v; want %d", in, n, err, len(want))
		}
		var b bytes.Buffer
		w := &crlfWriter{w: &b}
		// Write in odd pieces: a CR and its LF may arrive apart.
		for rest := in; rest != ""; {
			k := min(len(rest), 3)
			w.Write([]byte(rest[:k]))
			rest = rest[k:]
		}
		if b.String() != want {
			t.Errorf("crlfWriter(%q) = %q, want %q", in, b.String(), want)
		}
	}
}

func TestMassDeleteRule(t *testing.T) {
	for _, tc := range []struct {
		n, total int
		want     bool
	}{
		{100, 150, false}, // not over 100
		{101, 150, true},
		{101, 202, false}, // not over half
		{101, 201, true},
		{5000, 5000, true},
		{0, 0, false},
	} {
		if got := massDelete(tc.n, tc.total); got != tc.want {
			t.Errorf("massDelete(%d, %d) = %v, want %v", tc.n, tc.total, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	live := &conn{c: &imapclient.Client{}}
	for _, tc := range []struct {
		name string
		c    *conn
		err  error
		kind lbsync.Kind
	}{
		{"refused", nil, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, lbsync.Temporary},
		{"eof", nil, io.EOF, lbsync.Temporary},
		{"certificate", nil, &tls.CertificateVerificationError{Err: errors.New("unknown authority")}, lbsync.Permanent},
		{"unclassified before the client", nil, errors.New("odd"), lbsync.Other},
		{"unclassified on a live client", live, errors.New("in response: bad literal"), lbsync.Temporary},
		{"no", live, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "no"}, lbsync.Permanent},
		{"unavailable", live, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable}, lbsync.Temporary},
		{"authentication failed", live, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed}, lbsync.Auth},
		{"bye", live, &imap.Error{Type: imap.StatusResponseTypeBye}, lbsync.Temporary},
		{"cancelled", live, context.Canceled, lbsync.Cancelled},
		{"deadline", live, context.DeadlineExceeded, lbsync.Temporary},
	} {
		err := tc.c.wrap("op", "INBOX", tc.err)
		if got := lbsync.KindOf(err); got != tc.kind || !errors.Is(err, tc.err) {
			t.Errorf("%s: wrap(%v) = %v, kind %v; want %v", tc.name, tc.err, err, got, tc.kind)
		}
		if !strings.HasPrefix(err.Error(), "imap op INBOX") {
			t.Errorf("%s: message %q", tc.name, err)
		}
	}
	// An error with a kind is kept as it is.
	auth := &lbsync.Error{Op: "imap login", Kind: lbsync.Auth, Err: errors.New("refused")}
	if err := live.wrap("op", "", auth); err != auth {
		t.Errorf("wrap of a classified error: %v", err)
	}
}

func TestMessageID(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"Message-ID: <a@b>\r\nSubject: x\r\n\r\n", "a@b"},
		{"message-id:   <c@d> \r\n\r\nbody", "c@d"},
		{"Subject: none\r\n\r\n", ""},
		{"", ""},
	} {
		if got := messageID([]byte(tc.raw)); got != tc.want {
			t.Errorf("messageID(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestInflightMark(t *testing.T) {
	for _, tc := range []struct {
		v    string
		id   int64
		next uint32
		ok   bool
	}{
		{inflightValue(7, 42), 7, 42, true},
		{"", 0, 0, false},
		{"7", 0, 0, false},
		{"x:1", 0, 0, false},
	} {
		id, next, ok := parseInflight(tc.v)
		if id != tc.id || next != tc.next || ok != tc.ok {
			t.Errorf("parseInflight(%q) = %d, %d, %v", tc.v, id, next, ok)
		}
	}
}

// TestLocalJournal: each local action writes its entry with the remote
// UIDs as they were, changes only what changes, and a refused change
// leaves no entry behind.
func TestLocalJournal(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	var uids []uint32
	for i := range 3 {
		res, err := st.Append(ctx, "INBOX", bytes.NewReader(testMsg(fmt.Sprintf("j-%d@x", i), 200)),
			store.AppendOptions{Flags: []string{`\Seen`}, Remote: store.Remote{UID: uint32(10 + i)}})
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, res.UID)
	}
	if err := st.SetSyncState(ctx, map[string]string{stateKey("INBOX", "uidvalidity"): "99"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateMailbox(ctx, "Archive", ""); err != nil {
		t.Fatal(err)
	}
	changed := 0
	l := &Local{Store: st, Changed: func() { changed++ }}
	steps := []struct {
		name string
		do   func() error
		op   string
		want payload
	}{
		{"flags, only real changes", func() error {
			_, err := l.SetFlags(ctx, "INBOX", uids[:2], store.FlagsReplace, []string{`\Seen`, `\Flagged`})
			return err
		}, opFlags, payload{Mailbox: "INBOX", UIDValidity: 99, Msgs: []msgRef{
			{ID: 1, UID: uids[0], RemoteUID: 10, MessageID: "j-0@x", Add: []string{`\Flagged`}},
			{ID: 2, UID: uids[1], RemoteUID: 11, MessageID: "j-1@x", Add: []string{`\Flagged`}}}}},
		{"move", func() error {
			_, err := l.Move(ctx, "inbox", uids[2:], "Archive")
			return err
		}, opMove, payload{Mailbox: "INBOX", Dest: "Archive", UIDValidity: 99, Msgs: []msgRef{{ID: 3, UID: uids[2], RemoteUID: 12, MessageID: "j-2@x"}}}},
		{"delete", func() error { return l.Delete(ctx, "INBOX", uids[:1], "") }, opDelete,
			payload{Mailbox: "INBOX", UIDValidity: 99, Msgs: []msgRef{{ID: 1, UID: uids[0], RemoteUID: 10, MessageID: "j-0@x"}}}},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		j, _ := st.Journal(ctx)
		if len(j) != i+1 || j[i].Op != s.op {
			t.Fatalf("%s: journal %v", s.name, j)
		}
		var got payload
		json.Unmarshal(j[i].Payload, &got)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(s.want)
		if !bytes.Equal(gb, wb) {
			t.Errorf("%s: payload\n got %s\nwant %s", s.name, gb, wb)
		}
	}
	if changed != len(steps) {
		t.Errorf("Changed called %d times, want %d", changed, len(steps))
	}
	// No change: no entry. A refused change: its entry is withdrawn.
	if _, err := l.SetFlags(ctx, "INBOX", uids[1:2], store.FlagsAdd, []string{`\Seen`}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Move(ctx, "INBOX", uids[1:2], "Nowhere"); err == nil {
		t.Fatal("move to a missing mailbox succeeded")
	}
	if j, _ := st.Journal(ctx); len(j) != len(steps) {
		t.Errorf("journal has %d entries, want %d", len(j), len(steps))
	}
}
