package imapd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server/backend"
	"github.com/letterbox-mail/letterbox/store"
)

// FuzzIMAPSession feeds IMAP command streams through the whole server:
// imapserver's parser in front of the session code over a real store.
// Every input gets a new user with a fresh store holding three messages
// (one multipart with an attached message). An input whose first byte is
// odd is sent after LOGIN and SELECT INBOX; otherwise from the greeting.
// Failures: a panic (imapserver recovers and logs it), a NO [SERVERBUG]
// answer or a command error logged as a server error (client input must
// never cause one), a connection that does not end within a deadline once
// the input has ended (a hang), a server that then fails a fresh login
// and NOOP (a stuck session or lock), or a store that Check finds out of
// step.
//
//	go test ./server/imap -run '^$' -fuzz FuzzIMAPSession -fuzztime 10m -parallel 1
func FuzzIMAPSession(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	fz := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		fz.run(t, in)
	})
}

// fuzzSeeds are real command streams. A leading "\x01" sends them after
// LOGIN and SELECT INBOX.
var fuzzSeeds = []string{
	"a CAPABILITY\r\nb LOGIN fuzz secret\r\nc LOGOUT\r\n",
	"a LOGIN {4}\r\nfuzz {6}\r\nsecret\r\nb LIST \"\" *\r\n",
	"a LOGIN {4+}\r\nfuzz {6+}\r\nsecret\r\nb NAMESPACE\r\n",
	"a AUTHENTICATE PLAIN AGZ1enoAc2VjcmV0\r\nb SELECT INBOX\r\n",
	"a LOGIN {5000}\r\nb NOOP\r\n",
	"GET / HTTP/1.1\r\n",
	"\x01a FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n",
	"\x01a UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (Subject From)] BODY.PEEK[1] BODY.PEEK[2.1]<0.10> BINARY.PEEK[1])\r\n",
	"\x01a FETCH 3 (BODY[] BODY[TEXT] BODY[1.MIME] BODY[2.HEADER] RFC822.HEADER)\r\nb FETCH 1 BODY[HEADER.FIELDS.NOT (Date)]\r\n",
	"\x01a SEARCH FROM ann SUBJECT \"one\" UNSEEN SINCE 1-Jan-2020\r\nb UID SEARCH RETURN (MIN MAX COUNT) OR SEEN TEXT {4+}\r\nsoup\r\nc SEARCH CHARSET UTF-8 BODY café\r\n",
	"\x01a SEARCH RETURN (SAVE) ALL\r\nb FETCH $ (UID)\r\nc UID SEARCH 1:* NOT DELETED LARGER 10 HEADER X-Test n1\r\n",
	"\x01a STORE 1:2 +FLAGS (\\Seen \\Flagged $Label)\r\nb UID STORE 3 FLAGS.SILENT (\\Deleted)\r\nc EXPUNGE\r\nd UID EXPUNGE 1:*\r\n",
	"\x01a COPY 1:* Archive\r\nb UID MOVE 2 Trash\r\nc COPY 1 Nowhere\r\nd STATUS Archive (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE DELETED HIGHESTMODSEQ)\r\n",
	"\x01a APPEND INBOX (\\Seen) \"01-Jan-2026 10:00:00 +0000\" {23}\r\nSubject: hi\r\n\r\nhello\r\n\r\nb NOOP\r\n",
	"\x01a APPEND Drafts {23+}\r\nSubject: hi\r\n\r\nhello\r\n\r\nb APPEND INBOX {0}\r\n\r\n",
	"\x01a CREATE Projects/2026/Q1\r\nb RENAME Projects Work\r\nc LIST \"\" Work/*\r\nd DELETE Work/2026/Q1\r\ne LSUB \"\" *\r\n",
	"\x01a CREATE \"a&b\"\r\nb CREATE {3+}\r\na\x00b\r\nc CREATE \"caf&AOk-\"\r\nd RENAME \"caf&AOk-\" \"x/y//z\"\r\ne CREATE \"\xff\"\r\n",
	"\x01a CREATE (USE (\\Archive)) Old\r\nb CREATE Old2 (USE (\\Drafts))\r\nc LIST (SPECIAL-USE) \"\" *\r\nd LIST \"\" * RETURN (STATUS (MESSAGES UNSEEN) CHILDREN SUBSCRIBED)\r\n",
	"\x01a SUBSCRIBE Archive\r\nb UNSUBSCRIBE Archive\r\nc LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"*\" \"%/%\")\r\n",
	"\x01a IDLE\r\nDONE\r\nb NOOP\r\nc IDLE\r\nnot done\r\n",
	"\x01a ENABLE IMAP4rev2\r\nb EXAMINE Sent\r\nc UNSELECT\r\nd SELECT INBOX (CONDSTORE)\r\ne CLOSE\r\n",
	"\x01a CHECK\r\nb UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)\r\nc FETCH 1 (BODY[]<0.5>)\r\nd FETCH 1,2:* FAST\r\n",
	"\x01a SEARCH TEXT {5000+}\r\n" + strings.Repeat("x", 5000) + "\r\nb NOOP\r\n",
	"\x01a APPEND INBOX {100+}\r\nshort",
	"\x01a LIST \"\" \"*a*a*a*a*a*a*a*b\"\r\nb STATUS \"" + strings.Repeat("x", 300) + "\" (MESSAGES)\r\n",
}

// fuzzServer is one server for the fuzzing process; each input runs as a
// new user.
type fuzzServer struct {
	be   *fuzzBackend
	srv  *Server
	addr string
	logs *panicLog
	n    int
}

func newFuzzServer(tb testing.TB) *fuzzServer {
	logs := &panicLog{}
	be := &fuzzBackend{dir: tb.TempDir(), stores: map[string]*store.Store{}}
	srv := New(be, Options{InsecureAuth: true, AppendLimit: 1 << 20, Location: time.UTC, Logger: slog.New(logs),
		Limits: MailboxLimits{MaxMailboxes: 50}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return &fuzzServer{be: be, srv: srv, addr: l.Addr().String(), logs: logs}
}

// fuzzDeadline bounds one input: its answers, then the end of its session.
const fuzzDeadline = 10 * time.Second

func (fz *fuzzServer) run(t *testing.T, in []byte) {
	fz.n++
	user := fmt.Sprintf("u%d", fz.n)
	fz.be.setUser(user)
	st, err := fz.be.Store(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	defer fz.be.drop(user)
	for i, m := range fuzzMessages {
		var opts store.AppendOptions
		if i == 1 {
			opts.Flags = []string{store.FlagSeen}
		}
		if _, err := st.Append(context.Background(), store.Inbox, strings.NewReader(m), opts); err != nil {
			t.Fatal(err)
		}
	}
	fz.logs.reset()

	var stream []byte
	if len(in) > 0 && in[0]&1 == 1 {
		stream = append([]byte("0a LOGIN fuzz secret\r\n0b SELECT INBOX\r\n"), in[1:]...)
	} else {
		stream = in
	}
	out := fz.exchange(t, stream)
	if i := bytes.Index(out, []byte("[SERVERBUG]")); i >= 0 {
		t.Fatalf("SERVERBUG answer: %q\nlogs: %s", lineAt(out, i), fz.logs.text())
	}
	// Once the client has gone, its session ends.
	deadline := time.Now().Add(fuzzDeadline)
	for fz.sessions() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("session did not end after the input ended (a hang)\nlogs: %s", fz.logs.text())
		}
		time.Sleep(time.Millisecond)
	}
	if msg := fz.logs.bad(); msg != "" {
		t.Fatalf("server error: %s", msg)
	}
	// The server still serves the user.
	if got := fz.exchange(t, []byte("1 LOGIN fuzz secret\r\n2 SELECT INBOX\r\n3 NOOP\r\n4 LOGOUT\r\n")); !bytes.Contains(got, []byte("\r\n3 OK")) {
		t.Fatalf("fresh session after the input: %q\nlogs: %s", got, fz.logs.text())
	}
	if rep, err := st.Check(context.Background(), false); err != nil || !rep.Clean() {
		t.Fatalf("store check: %+v %v", rep, err)
	}
}

// exchange writes stream on a new connection, half-closes it, and reads
// everything the server says until it closes.
func (fz *fuzzServer) exchange(t *testing.T, stream []byte) []byte {
	c, err := net.Dial("tcp", fz.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(fuzzDeadline))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(stream)
		c.(*net.TCPConn).CloseWrite()
		werr <- err
	}()
	out, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("reading the answers: %v (a hang?) after %q\nlogs: %s", err, outTail(out), fz.logs.text())
	}
	<-werr // a write error only means the server closed first
	if !bytes.HasPrefix(out, []byte("* OK ")) {
		t.Fatalf("no greeting: %q", outTail(out))
	}
	return out
}

func (fz *fuzzServer) sessions() int {
	fz.srv.mu.Lock()
	defer fz.srv.mu.Unlock()
	return len(fz.srv.sessions)
}

// isReset: the server closed with input unread (after BYE).
func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

func lineAt(b []byte, i int) string {
	start := bytes.LastIndexByte(b[:i], '\n') + 1
	end := bytes.IndexByte(b[i:], '\n')
	if end < 0 {
		return string(b[start:])
	}
	return string(b[start : i+end])
}

func outTail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// fuzzBackend logs every password "secret" in as the current input's user
// and gives each user a fresh store.
type fuzzBackend struct {
	dir    string
	mu     sync.Mutex
	user   string
	stores map[string]*store.Store
}

func (b *fuzzBackend) setUser(u string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.user = u
}

func (b *fuzzBackend) Authenticate(ctx context.Context, username, password string, _ net.Addr) (string, error) {
	if password != testPass {
		return "", backend.ErrAuthFailed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.user, nil
}

func (b *fuzzBackend) Store(ctx context.Context, user string) (*store.Store, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.stores[user]; s != nil {
		return s, nil
	}
	s, err := store.Open(ctx, filepath.Join(b.dir, user), &store.Options{NoSync: true, Location: time.UTC, Readers: 1})
	if err != nil {
		return nil, err
	}
	for _, mb := range backend.DefaultMailboxes {
		if _, err := s.CreateMailbox(ctx, mb.Name, mb.SpecialUse); err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
	}
	b.stores[user] = s
	return s, nil
}

// drop closes and removes a user's store.
func (b *fuzzBackend) drop(user string) {
	b.mu.Lock()
	s := b.stores[user]
	delete(b.stores, user)
	b.mu.Unlock()
	if s != nil {
		s.Close()
	}
	os.RemoveAll(filepath.Join(b.dir, user))
}

// panicLog is a slog handler that keeps the records that mean a server
// fault: imapserver's recovered panics and internal errors, and command
// errors logged at level Error.
type panicLog struct {
	mu   sync.Mutex
	recs []string
}

func (h *panicLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *panicLog) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *panicLog) WithGroup(string) slog.Handler                { return h }

func (h *panicLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.recs) < 200 {
		h.recs = append(h.recs, b.String())
	}
	return nil
}

func (h *panicLog) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = nil
}

// bad returns the first record that means a server fault.
func (h *panicLog) bad() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recs {
		if strings.Contains(r, "panic") || strings.HasPrefix(r, "ERROR") || strings.Contains(r, "imapserver: handling") {
			return r
		}
	}
	return ""
}

func (h *panicLog) text() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.recs, "\n")
}

// fuzzMessages are the three messages of every fuzzed user's INBOX.
var fuzzMessages = []string{
	testMsg(1, "one", "first body"),
	testMsg(2, "two", "second body"),
	"From: Ann <ann@example.com>\r\nTo: bob@example.org\r\nSubject: =?UTF-8?Q?caf=C3=A9?= menu\r\nMessage-ID: <m3@example.com>\r\n" +
		"Date: Tue, 3 Mar 2026 09:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSoup of the day.\r\n" +
		"--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n" +
		"--b2\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--b2\r\nContent-Type: text/html\r\n\r\n<p>inner</p>\r\n--b2--\r\n" +
		"--b1\r\nContent-Type: application/octet-stream; name=x.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b1--\r\n",
}
