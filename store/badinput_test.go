package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// hostileMessages are inputs the store must keep byte for byte and render
// as well as it can, without panicking.
func hostileMessages() map[string][]byte {
	const hdr = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hostile\r\nMessage-ID: <%s@example.com>\r\n"
	h := func(id string) string { return fmt.Sprintf(hdr, id) }
	var deep strings.Builder
	deep.WriteString(h("deep"))
	for i := range 1000 {
		fmt.Fprintf(&deep, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	deep.WriteString("Content-Type: text/plain\r\n\r\ninnermost needle\r\n")
	for i := 999; i >= 0; i-- {
		fmt.Fprintf(&deep, "--b%d--\r\n", i)
	}
	// 50 MB: a base64 attachment after a short text part.
	var big bytes.Buffer
	big.WriteString(h("big") + "Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nbig needle\r\n--X\r\n")
	big.WriteString("Content-Type: application/octet-stream; name=\"blob.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := strings.Repeat("QUJDRA==", 9)[:72] + "\r\n"
	for big.Len() < 50<<20 {
		big.WriteString(line)
	}
	big.WriteString("--X--\r\n")
	return map[string][]byte{
		"broken boundary":  []byte(h("bb") + "Content-Type: multipart/mixed; boundary=NOPE\r\n\r\n--OTHER\r\nContent-Type: text/plain\r\n\r\nboundary needle\r\n"),
		"no boundary":      []byte(h("nb") + "Content-Type: multipart/alternative\r\n\r\nlost needle\r\n"),
		"lying charset":    []byte(h("lc") + "Content-Type: text/plain; charset=utf-8\r\n\r\ncaf\xe9 needle \xff\xfe\r\n"),
		"unknown charset":  []byte(h("uc") + "Content-Type: text/plain; charset=x-klingon\r\n\r\nklingon needle\r\n"),
		"bad encoded word": []byte(strings.Replace(h("ew"), "hostile", "=?x-bogus?Q?caf=E9?= =?utf-8?B?!!!?=", 1) + "\r\nencoded needle\r\n"),
		"NUL bytes":        []byte(h("nul") + "X-Junk: a\x00b\r\n\r\nnul\x00 needle\x00\x00\r\n"),
		"bad base64":       []byte(h("b64") + "Content-Transfer-Encoding: base64\r\n\r\n!!!! not base64 ****\r\n"),
		"header only":      []byte(h("ho")),
		"no header":        []byte("just some text, no header at all\r\nheaderless needle\r\n"),
		"binary junk":      bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0, 0xff, 0x1a, '\n'}, 4096),
		"1 MB header line": []byte(h("long") + "X-Long: " + strings.Repeat("x", 1<<20) + "\r\n\r\nlong-header needle\r\n"),
		"1000-deep nest":   []byte(deep.String()),
		"50 MB message":    big.Bytes(),
	}
}

func TestHostileAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 50 MB message")
	}
	s, root := openTest(t)
	ctx := context.Background()
	for name, raw := range hostileMessages() {
		t.Run(name, func(t *testing.T) {
			res, err := s.Append(ctx, "INBOX", bytes.NewReader(raw), AppendOptions{})
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			m, err := s.Get(ctx, res.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(root, m.File))
			if err != nil || !bytes.Equal(got, raw) || m.Size != int64(len(raw)) {
				t.Fatalf("stored copy differs from what was appended (%v)", err)
			}
			r, err := s.Render(ctx, res.ID)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if !utf8.ValidString(r.Text) || !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Preview) {
				t.Fatalf("invalid UTF-8 in rendering")
			}
			if i := bytes.Index(raw, []byte(" needle")); i > 0 {
				word := bytes.Trim(raw[bytes.LastIndexAny(raw[:i], " \n")+1:i], "\x00\xe9")
				if !strings.Contains(r.Text, string(word)) || !strings.Contains(r.Text, "needle") {
					t.Errorf("rendered text lacks %q: %.200q (problems %q)", word, r.Text, r.Problems)
				}
			}
		})
	}
	if rep, err := s.Check(ctx, false); err != nil || !rep.Clean() {
		t.Fatalf("check: %v %+v", err, rep)
	}
	// The deep one is still found by a word of its innermost part.
	if n, err := s.Count(ctx, "innermost", SearchOptions{}); err != nil || n != 1 {
		t.Errorf("search innermost: %d, %v", n, err)
	}
}

// A message whose source fails midway (a dropped connection) is not
// stored, leaves nothing behind and does not disturb the next one.
func TestAppendDroppedSource(t *testing.T) {
	s, root := openTest(t)
	ctx := context.Background()
	src := io.MultiReader(strings.NewReader("Subject: half\r\n\r\nthe first half"), errReader{io.ErrUnexpectedEOF})
	if _, err := s.Append(ctx, "INBOX", src, AppendOptions{}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("append of a broken source: %v, want ErrUnexpectedEOF", err)
	}
	for _, sub := range []string{"tmp", "cur", "new"} {
		ents, _ := os.ReadDir(filepath.Join(root, "mail", "INBOX", sub))
		if len(ents) != 0 {
			t.Errorf("%s holds %d files after a failed append", sub, len(ents))
		}
	}
	mustAppend(t, s, "INBOX", coreMsg("ok@x", "after", "fine"))
	if mb, _ := s.Mailbox(ctx, "INBOX"); mb.Total != 1 {
		t.Fatalf("total = %d, want 1", mb.Total)
	}
	if _, err := s.Append(ctx, "INBOX", strings.NewReader(""), AppendOptions{}); err == nil {
		t.Fatal("an empty message was accepted")
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Import stores every non-empty file, mail or not, and names the empty
// ones as failed rather than dropping them silently.
func TestImportOddFiles(t *testing.T) {
	src := filepath.Join(t.TempDir(), "Maildir")
	for _, d := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(src, d), 0o700)
	}
	files := map[string]string{
		"cur/1.host:2,S":   coreMsg("one@x", "one", "first"),
		"new/2.host":       coreMsg("two@x", "two", "second"),
		"cur/3.host:2,":    "",
		"cur/4.host:2,":    "\x7fELF\x02\x01\x01\x00 not mail at all",
		"cur/5.host:2,F":   "Subject: NUL\x00in header\r\n\r\nbody\x00",
		"tmp/6.host":       coreMsg("six@x", "in delivery", "not yet delivered"),
		"cur/.hidden:2,":   coreMsg("hid@x", "hidden", "dot file"),
		"cur/7.host:2,RS?": coreMsg("seven@x", "odd flags", "x"),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := openTest(t)
	ctx := context.Background()
	st, err := s.Import(ctx, []string{src}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Failed) != 1 || !strings.Contains(st.Failed[0], "3.host") {
		t.Errorf("failed = %q, want only the empty file", st.Failed)
	}
	if st.Imported != 5 {
		t.Errorf("imported %d, want 5 (tmp/ and dot files are not messages)", st.Imported)
	}
	flagged, _ := s.Count(ctx, "is:flagged", SearchOptions{})
	unread, _ := s.Count(ctx, "is:unread", SearchOptions{})
	if flagged != 1 || unread != 3 {
		t.Errorf("flagged %d unread %d, want 1 and 3", flagged, unread)
	}
}

// On a full disk, Append fails with a clear error, everything stored
// before is intact, and the store works again once there is room. With
// deferred full-text indexing (the server's mode) a search on the full
// disk either works or says why, and finds every message once there is
// room.
func TestAppendDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	for _, deferText := range []bool{false, true} {
		t.Run(fmt.Sprintf("DeferText=%v", deferText), func(t *testing.T) { testAppendDiskFull(t, deferText) })
	}
}

func testAppendDiskFull(t *testing.T, deferText bool) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	ctx := context.Background()
	root := filepath.Join(mnt, "store")
	s, err := Open(ctx, root, &Options{DeferText: deferText, textIdle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("lorem ipsum dolor sit amet ", 2000) // ~54 KB
	var stored []AppendResult
	var full error
	for i := range 200 {
		res, err := s.Append(ctx, "INBOX", strings.NewReader(coreMsg(fmt.Sprintf("m%d@x", i), fmt.Sprintf("n%d", i), body)), AppendOptions{})
		if err != nil {
			full = err
			break
		}
		stored = append(stored, res)
	}
	if full == nil {
		t.Fatal("3 MB tmpfs never filled")
	}
	if !errors.Is(full, syscall.ENOSPC) && !strings.Contains(full.Error(), "full") {
		t.Errorf("error on a full disk does not say so: %v", full)
	}
	t.Logf("%d messages stored, then: %v", len(stored), full)
	for _, r := range stored {
		if _, err := s.Get(ctx, r.ID); err != nil {
			t.Fatalf("message %d lost after disk full: %v", r.ID, err)
		}
	}
	if n, err := s.Count(ctx, "lorem", SearchOptions{}); err != nil {
		t.Logf("search on the full disk: %v", err)
		if !errors.Is(err, syscall.ENOSPC) && !strings.Contains(err.Error(), "full") {
			t.Errorf("search error on a full disk does not say so: %v", err)
		}
	} else if n != len(stored) {
		t.Errorf("search on the full disk found %d of %d", n, len(stored))
	}
	// Make room and carry on. Deferred indexing spent none of the disk
	// on full text, so it stored more messages, and indexing them needs
	// the room they did not take: free more.
	drop := 3
	if deferText {
		drop = 10
	}
	var uids []uint32
	for _, r := range stored[:drop] {
		uids = append(uids, r.UID)
	}
	if _, err := s.Remove(ctx, "INBOX", uids); err != nil {
		t.Fatalf("remove on a full disk: %v", err)
	}
	if _, err := s.Append(ctx, "INBOX", strings.NewReader(coreMsg("after@x", "after", "small")), AppendOptions{}); err != nil {
		t.Fatalf("append after freeing room: %v", err)
	}
	if n, err := s.Count(ctx, "lorem OR small", SearchOptions{}); err != nil || n != len(stored)-drop+1 {
		t.Errorf("search after freeing room: %d, %v; want %d", n, err, len(stored)-drop+1)
	}
	if err := s.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	s, err = Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.Check(ctx, false)
	if err != nil || !rep.Clean() {
		t.Fatalf("check after disk full: %v %+v", err, rep)
	}
	if rep.Messages != len(stored)-drop+1 {
		t.Errorf("%d messages after reopen, want %d", rep.Messages, len(stored)-drop+1)
	}
}

// Open removes our own leftovers from tmp/ but leaves a file another
// program may be delivering right now, unless it is older than 36 hours.
func TestOpenCleansTmp(t *testing.T) {
	s, root := openTest(t)
	ctx := context.Background()
	tmp := filepath.Join(root, "mail", "INBOX", "tmp")
	own := s.uniqueName()
	files := map[string]time.Time{
		own:                          time.Now(),
		"1700000000.M1P2.otherhost":  time.Now(),
		"1700000000.M1P3.otherhost":  time.Now().Add(-37 * time.Hour),
		"1700000000.M1P4Q5.lookalik": time.Now(),
	}
	for name, mt := range files {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte("Subject: x\r\n\r\nx"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mt, mt)
	}
	s.Close()
	s, err := Open(ctx, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]bool{own: false, "1700000000.M1P2.otherhost": true, "1700000000.M1P3.otherhost": false, "1700000000.M1P4Q5.lookalik": true}
	for name, kept := range want {
		_, err := os.Stat(filepath.Join(tmp, name))
		if (err == nil) != kept {
			t.Errorf("%s: kept=%v, want %v", name, err == nil, kept)
		}
	}
}
