package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// srcMessage is what the tests compare of a SourceMessage.
type srcMessage struct {
	Mailbox string
	Flags   []string
	Body    string
	Date    time.Time
}

// srcWalkAll walks paths and reads every message, checking Size.
func srcWalkAll(t *testing.T, paths ...string) []srcMessage {
	t.Helper()
	var got []srcMessage
	err := WalkSources(context.Background(), paths, func(m SourceMessage) error {
		rc, err := m.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		if m.Size >= 0 && m.Size != int64(len(b)) {
			t.Errorf("%s: Size %d, read %d bytes", m.Origin, m.Size, len(b))
		}
		got = append(got, srcMessage{m.Mailbox, m.Flags, string(b), m.InternalDate})
		return nil
	})
	if err != nil {
		t.Fatalf("WalkSources: %v", err)
	}
	return got
}

func srcWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// srcMakeMaildir creates dir/{cur,new,tmp} and the files, named "cur/x" or
// "new/x", with their content.
func srcMakeMaildir(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i+1 < len(files); i += 2 {
		srcWriteFile(t, filepath.Join(dir, files[i]), files[i+1])
	}
}

func srcDate(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

const mboxrdSample = "From alice@example.com Mon Jan  2 15:04:05 2006\n" +
	"Subject: one\n" +
	"\n" +
	"hello\n" +
	">From the start\n" +
	">>From quoted\n" +
	"From is not a separator here\n" +
	"From what I heard, neither here\n" +
	"ok\n" +
	"\n" +
	"From bob@example.com Tue Feb  3 04:05:06 2009\n" +
	"Subject: two\n" +
	"\n" +
	"bye\n" +
	"\n"

func TestWalkSources(t *testing.T) {
	bigLine := strings.Repeat("x", 1<<20)
	bigQuote := strings.Repeat(">", 1<<20)
	tests := []struct {
		name  string
		build func(t *testing.T, dir string) []string
		want  []srcMessage
	}{{
		name: "plain Maildir with junk",
		build: func(t *testing.T, dir string) []string {
			srcMakeMaildir(t, dir,
				"cur/1.a:2,SF", "m1",
				"cur/2.b:2,DPRT", "m2",
				"cur/3.c", "",
				"new/4.d", "m4",
				"new/5.e:2,S", "m5",
				"cur/.hidden", "junk",
				"tmp/6.f", "junk",
				"dovecot-uidlist", "junk",
				"cur/sub/7.g", "junk")
			if err := os.Symlink(filepath.Join(dir, "cur/1.a:2,SF"), filepath.Join(dir, "cur/8.link")); err != nil {
				t.Fatal(err)
			}
			mtime := srcDate("2020-05-06T07:08:09Z")
			if err := os.Chtimes(filepath.Join(dir, "cur/1.a:2,SF"), mtime, mtime); err != nil {
				t.Fatal(err)
			}
			return []string{dir}
		},
		want: []srcMessage{
			{"INBOX", []string{FlagFlagged, FlagSeen}, "m1", srcDate("2020-05-06T07:08:09Z")},
			{"INBOX", []string{FlagDraft, "$Forwarded", FlagAnswered, FlagDeleted}, "m2", time.Time{}},
			{"INBOX", nil, "", time.Time{}},
			{"INBOX", nil, "m4", time.Time{}},
			{"INBOX", nil, "m5", time.Time{}},
		},
	}, {
		name: "Maildir++ tree",
		build: func(t *testing.T, dir string) []string {
			srcMakeMaildir(t, dir, "cur/1:2,S", "inbox")
			srcMakeMaildir(t, filepath.Join(dir, ".Sub.Folder"), "cur/2:2,", "sub")
			srcMakeMaildir(t, filepath.Join(dir, ".&AMk-t&AOk-"), "new/3", "ete")
			srcMakeMaildir(t, filepath.Join(dir, ".A&-B"), "cur/4", "amp")
			srcMakeMaildir(t, filepath.Join(dir, ".Bad&AMk"), "cur/5", "bad")
			srcWriteFile(t, filepath.Join(dir, ".NotMaildir/x"), "junk")
			srcWriteFile(t, filepath.Join(dir, "subscriptions"), "Sub\n")
			return []string{dir}
		},
		want: []srcMessage{
			{"INBOX", []string{FlagSeen}, "inbox", time.Time{}},
			{"Été", nil, "ete", time.Time{}},
			{"A&B", nil, "amp", time.Time{}},
			{"Bad&AMk", nil, "bad", time.Time{}},
			{"Sub/Folder", nil, "sub", time.Time{}},
		},
	}, {
		name: "Maildir++ folder given alone",
		build: func(t *testing.T, dir string) []string {
			srcMakeMaildir(t, dir, "cur/1", "inbox")
			srcMakeMaildir(t, filepath.Join(dir, ".Sent.2024"), "cur/2", "sent")
			return []string{filepath.Join(dir, ".Sent.2024")}
		},
		want: []srcMessage{{"Sent/2024", nil, "sent", time.Time{}}},
	}, {
		name: "directory of Maildirs",
		build: func(t *testing.T, dir string) []string {
			srcMakeMaildir(t, filepath.Join(dir, "inbox"), "cur/1", "in")
			srcMakeMaildir(t, filepath.Join(dir, "work"), "cur/2", "work")
			srcMakeMaildir(t, filepath.Join(dir, "work/.Old"), "cur/3", "old")
			srcMakeMaildir(t, filepath.Join(dir, "work/projects/x"), "cur/4", "x")
			srcWriteFile(t, filepath.Join(dir, "archive.mbox"), "From a Mon Jan  2 15:04:05 2006\n\narch\n")
			srcWriteFile(t, filepath.Join(dir, "Apple.mbox/mbox"), "From a Mon Jan  2 15:04:05 2006\n\napple\n")
			srcWriteFile(t, filepath.Join(dir, "notes.txt"), "not mail\n")
			srcWriteFile(t, filepath.Join(dir, "empty/readme"), "")
			return []string{dir}
		},
		want: []srcMessage{
			{"Apple", nil, "\napple\n", srcDate("2006-01-02T15:04:05Z")},
			{"archive", nil, "\narch\n", srcDate("2006-01-02T15:04:05Z")},
			{"INBOX", nil, "in", time.Time{}},
			{"work", nil, "work", time.Time{}},
			{"work/Old", nil, "old", time.Time{}},
			{"work/projects/x", nil, "x", time.Time{}},
		},
	}, {
		name: "mboxrd",
		build: func(t *testing.T, dir string) []string {
			srcWriteFile(t, filepath.Join(dir, "Lists.mbox"), mboxrdSample)
			return []string{filepath.Join(dir, "Lists.mbox")}
		},
		want: []srcMessage{
			{"Lists", nil, "Subject: one\n\nhello\nFrom the start\n>From quoted\nFrom is not a separator here\nFrom what I heard, neither here\nok\n", srcDate("2006-01-02T15:04:05Z")},
			{"Lists", nil, "Subject: two\n\nbye\n", srcDate("2009-02-03T04:05:06Z")},
		},
	}, {
		name: "mbox with CRLF",
		build: func(t *testing.T, dir string) []string {
			srcWriteFile(t, filepath.Join(dir, "inbox"), strings.ReplaceAll(mboxrdSample, "\n", "\r\n"))
			return []string{filepath.Join(dir, "inbox")}
		},
		want: []srcMessage{
			{"INBOX", nil, "Subject: one\n\nhello\nFrom the start\n>From quoted\nFrom is not a separator here\nFrom what I heard, neither here\nok\n", srcDate("2006-01-02T15:04:05Z")},
			{"INBOX", nil, "Subject: two\n\nbye\n", srcDate("2009-02-03T04:05:06Z")},
		},
	}, {
		name: "mbox with 1 MB lines, dates and no blank separators",
		build: func(t *testing.T, dir string) []string {
			srcWriteFile(t, filepath.Join(dir, "mbox"),
				"From - Sat Mar  1 10:00:00 2025\nA: b\n\n"+bigLine+"\n"+bigQuote+"From x\n"+
					"From c@d Sat Mar 01 10:00:00 +0100 2025\nB: c\n\n"+bigQuote+"\n"+
					"From c@d Sat Mar  1 10:00:00 2025 remote from x\nC: d")
			return []string{filepath.Join(dir, "mbox")}
		},
		want: []srcMessage{
			{"INBOX", nil, "A: b\n\n" + bigLine + "\n" + bigQuote[1:] + "From x\n", srcDate("2025-03-01T10:00:00Z")},
			{"INBOX", nil, "B: c\n\n" + bigQuote + "\n", srcDate("2025-03-01T10:00:00+01:00")},
			{"INBOX", nil, "C: d", srcDate("2025-03-01T10:00:00Z")},
		},
	}, {
		name: "empty mbox and undated From_ line",
		build: func(t *testing.T, dir string) []string {
			srcWriteFile(t, filepath.Join(dir, "empty.mbox"), "")
			srcWriteFile(t, filepath.Join(dir, "Old.mbox"), "From someone\n\nFrom nobody\n")
			return []string{filepath.Join(dir, "empty.mbox"), filepath.Join(dir, "Old.mbox")}
		},
		want: []srcMessage{{"Old", nil, "", time.Time{}}, {"Old", nil, "", time.Time{}}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			paths := tc.build(t, t.TempDir())
			got := srcWalkAll(t, paths...)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d messages, want %d: %+v", len(got), len(tc.want), srcShorten(got))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Mailbox != w.Mailbox || !slices.Equal(g.Flags, w.Flags) || g.Body != w.Body {
					t.Errorf("message %d: got %+v, want %+v", i, srcShorten(got[i:i+1]), srcShorten(tc.want[i:i+1]))
				}
				if !w.Date.IsZero() && !g.Date.Equal(w.Date) {
					t.Errorf("message %d: date %v, want %v", i, g.Date, w.Date)
				}
			}
		})
	}
}

// srcShorten truncates bodies for error messages.
func srcShorten(msgs []srcMessage) []srcMessage {
	out := slices.Clone(msgs)
	for i := range out {
		if len(out[i].Body) > 80 {
			out[i].Body = out[i].Body[:80] + "..."
		}
	}
	return out
}

func TestWalkSourcesErrors(t *testing.T) {
	dir := t.TempDir()
	srcWriteFile(t, filepath.Join(dir, "notes.txt"), "hello\n")
	err := WalkSources(context.Background(), []string{filepath.Join(dir, "notes.txt")}, func(SourceMessage) error { return nil })
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("text file: got %v, want ErrInvalid naming the file", err)
	}
	err = WalkSources(context.Background(), []string{filepath.Join(dir, "missing")}, func(SourceMessage) error { return nil })
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing path: got %v", err)
	}

	srcWriteFile(t, filepath.Join(dir, "a.mbox"), mboxrdSample)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err = WalkSources(ctx, []string{filepath.Join(dir, "a.mbox")}, func(SourceMessage) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("cancelled walk: got %v after %d messages", err, n)
	}
	stop := errors.New("stop")
	err = WalkSources(context.Background(), []string{filepath.Join(dir, "a.mbox")}, func(SourceMessage) error { return stop })
	if err != stop {
		t.Errorf("callback error: got %v", err)
	}
}

func TestMboxRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := mboxrdSample +
		"From carol@example.com Wed Mar  4 05:06:07 2015\n" +
		"Subject: three\n\n>>>From deep\nFrom\n>From\n\n\n" +
		"From dave@example.com Thu Apr  5 06:07:08 2018\n\n" +
		"From eve@example.com Fri May  6 07:08:09 2022\n" +
		"X: y\n\n" + strings.Repeat(">", 70000) + "From long\n" + strings.Repeat("z", 1<<20) + "\r\n\n"
	srcWriteFile(t, filepath.Join(dir, "in.mbox"), src)
	first := srcWalkAll(t, filepath.Join(dir, "in.mbox"))
	if len(first) != 5 {
		t.Fatalf("got %d messages, want 5", len(first))
	}
	var out bytes.Buffer
	for _, m := range first {
		if err := WriteMboxMessage(&out, "sender@example.com", m.Date, strings.NewReader(m.Body)); err != nil {
			t.Fatal(err)
		}
	}
	srcWriteFile(t, filepath.Join(dir, "out.mbox"), out.String())
	second := srcWalkAll(t, filepath.Join(dir, "out.mbox"))
	if len(second) != len(first) {
		t.Fatalf("round trip: %d messages, want %d", len(second), len(first))
	}
	for i := range first {
		want := strings.ReplaceAll(first[i].Body, "\r\n", "\n")
		if second[i].Body != want || !second[i].Date.Equal(first[i].Date) {
			t.Errorf("message %d differs after round trip: %+v", i, srcShorten(second[i:i+1]))
		}
	}
	if !strings.HasPrefix(out.String(), "From sender@example.com Mon Jan  2 15:04:05 2006\n") {
		t.Errorf("From_ line: %q", strings.SplitN(out.String(), "\n", 2)[0])
	}
}

func TestWriteMboxMessage(t *testing.T) {
	tests := []struct {
		name, from, in, want string
	}{
		{"quoting", "a@b", "From x\n>From y\nFromage\n>>From z\n", "From a@b Thu Jan  1 00:00:00 1970\n>From x\n>>From y\nFromage\n>>>From z\n\n"},
		{"CRLF and final newline", "", "A: b\r\n\r\nbody\r\nend", "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\nA: b\n\nbody\nend\n\n"},
		{"lone CR", "a b", "a\rb\r", "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\na\rb\r\n\n"},
		{"empty", "x\n", "", "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n\n"},
		{"CR at the end of the read buffer", "a", strings.Repeat("y", 65535) + "\r\nz\r\r\n", "From a Thu Jan  1 00:00:00 1970\n" + strings.Repeat("y", 65535) + "\nz\r\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteMboxMessage(&b, tc.from, time.Unix(0, 0), strings.NewReader(tc.in)); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestMaildirFlags(t *testing.T) {
	tests := []struct {
		flags   []string
		letters string
	}{
		{nil, ""},
		{[]string{FlagSeen}, "S"},
		{[]string{`\seen`, `\Deleted`, `\Draft`, `\Answered`, `\Flagged`, "$forwarded"}, "DFPRST"},
		{[]string{"$Junk", FlagFlagged, FlagFlagged}, "F"},
	}
	for _, tc := range tests {
		if got := MaildirFlags(tc.flags); got != tc.letters {
			t.Errorf("MaildirFlags(%q) = %q, want %q", tc.flags, got, tc.letters)
		}
	}
	for _, tc := range []struct {
		info  string
		flags []string
	}{
		{"", nil},
		{"S", []string{FlagSeen}},
		{"TSRPFD", []string{FlagDraft, FlagFlagged, "$Forwarded", FlagAnswered, FlagSeen, FlagDeleted}},
		{"abSx", []string{FlagSeen}},
	} {
		got := FlagsFromMaildir(tc.info)
		if !slices.Equal(got, tc.flags) {
			t.Errorf("FlagsFromMaildir(%q) = %q, want %q", tc.info, got, tc.flags)
		}
		if back := FlagsFromMaildir(MaildirFlags(got)); !slices.Equal(back, got) {
			t.Errorf("flags %q do not survive a round trip: %q", got, back)
		}
	}
}

func TestWriteMaildirMessage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Maildir")
	if err := WriteMaildirMessage(dir, "1.x", []string{FlagSeen, FlagAnswered, "$Label"}, strings.NewReader("msg")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cur", "1.x:2,RS"))
	if err != nil || string(b) != "msg" {
		t.Fatalf("cur/1.x:2,RS: %q, %v", b, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Errorf("tmp not empty: %v", ents)
	}
	got := srcWalkAll(t, dir)
	if len(got) != 1 || !slices.Equal(got[0].Flags, []string{FlagAnswered, FlagSeen}) || got[0].Mailbox != "INBOX" {
		t.Errorf("walked back: %+v", got)
	}
	if err := WriteMaildirMessage(dir, "1.x", []string{FlagSeen, FlagAnswered}, strings.NewReader("again")); !errors.Is(err, ErrExists) {
		t.Errorf("second write: %v, want ErrExists", err)
	}
	for _, name := range []string{"", ".hidden", "a/b", "a:2,S"} {
		if err := WriteMaildirMessage(dir, name, nil, strings.NewReader("x")); !errors.Is(err, ErrInvalid) {
			t.Errorf("name %q: %v, want ErrInvalid", name, err)
		}
	}
}

func TestDecodeModifiedUTF7(t *testing.T) {
	for in, want := range map[string]string{
		"Sent":                "Sent",
		"&-":                  "&",
		"&AMk-t&AOk-":         "Été",
		"&ZeVnLIqe-":          "日本語",
		"&2D3eAQ-":            "\U0001F601",
		"&2D0-":               "&2D0-", // lone surrogate: kept as is
		"&AMk":                "&AMk",
		"Entw&APw-rfe &- Co.": "Entwürfe & Co.",
		"Brouillons":          "Brouillons",
	} {
		if got := decodeModifiedUTF7(in); got != want {
			t.Errorf("decodeModifiedUTF7(%q) = %q, want %q", in, got, want)
		}
	}
}
