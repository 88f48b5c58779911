package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// A message file placed in cur/ must carry the identity a sync needs to
// recognise it, so that a crash between the rename into cur/ and the
// commit of its row never makes a sync fetch it again (issue 13, item 1).
//
// The child (identityChildEnv) appends with a sync identity and SIGKILLs
// itself right after its files were placed in cur/, before their rows
// commit: exactly the window the issue found. The parent reopens the
// store and checks that the orphan was indexed WITH its identity.
const identityChildEnv = "LETTERBOX_IDENTITY_CHILD"

// identityCase is one kind of sync identity the child appends with.
type identityCase struct {
	name  string
	items []AppendItem
}

func identityCases() []identityCase {
	msg := func(i int) func() (io.ReadCloser, error) {
		raw := fmt.Sprintf("Message-ID: <id%d@test>\r\nSubject: m%d\r\nFrom: a@b.test\r\n\r\nbody %d\r\n", i, i, i)
		return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(raw)), nil }
	}
	long := "pop3:" + strings.Repeat("L", 200)
	var imap []AppendItem
	for i := range 20 {
		imap = append(imap, AppendItem{Open: msg(i), Flags: []string{FlagSeen}, Remote: Remote{UID: uint32(100 + i), Partial: i%2 == 0}})
	}
	return []identityCase{
		{"pop3", []AppendItem{{Open: msg(1), Remote: Remote{ID: "pop3:0000001a/odd:uidl,x"}}}},
		{"pop3-long", []AppendItem{{Open: msg(2), Remote: Remote{ID: long}}}},
		{"local-append", []AppendItem{{Open: msg(3), Remote: Remote{ID: "imap-append:00112233445566778899aabbccddeeff"}}}},
		{"imap", imap},
	}
}

// identityChild appends the items of one case and is killed by its own
// hook after they are placed.
func identityChild(spec string) int {
	root, name, _ := strings.Cut(spec, "|")
	ctx := context.Background()
	kill := func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	s, err := Open(ctx, root, &Options{afterPlace: kill})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, c := range identityCases() {
		if c.name != name {
			continue
		}
		if len(c.items) == 1 {
			it := c.items[0]
			rc, _ := it.Open()
			_, err = s.Append(ctx, Inbox, rc, AppendOptions{Flags: it.Flags, Remote: it.Remote})
		} else {
			_, err = s.AppendMany(ctx, Inbox, c.items)
		}
	}
	fmt.Fprintln(os.Stderr, "not killed:", err)
	return 2
}

func TestCrashBetweenPlaceAndCommitKeepsIdentity(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range identityCases() {
		t.Run(c.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "store")
			// The store exists before the child runs, as after earlier syncs.
			s, err := Open(ctx, root, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), identityChildEnv+"="+root+"|"+c.name)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err = cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed at the hook: %v\n%s", err, stderr.String())
			}
			s, err = Open(ctx, root, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if n := len(s.OpenReport().Indexed); n != len(c.items) {
				t.Fatalf("reopen indexed %d orphans, want %d: %+v", n, len(c.items), s.OpenReport())
			}
			msgs, err := s.Fetch(ctx, Inbox, nil)
			if err != nil || len(msgs) != len(c.items) {
				t.Fatalf("INBOX has %d messages, want %d: %v", len(msgs), len(c.items), err)
			}
			var ids []string
			wantUIDs := map[uint32]bool{}
			wantPartial := map[uint32]bool{}
			for _, it := range c.items {
				if it.Remote.ID != "" {
					ids = append(ids, it.Remote.ID)
				}
				if it.Remote.UID != 0 {
					wantUIDs[it.Remote.UID] = true
					wantPartial[it.Remote.UID] = it.Remote.Partial
				}
			}
			if len(ids) > 0 {
				// What a POP3 sync asks before downloading.
				known, err := s.HasRemoteIDs(ctx, ids)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range ids {
					if !known[id] {
						t.Errorf("remote id %q forgotten: the next sync would download the message again", id)
					}
				}
			}
			if len(wantUIDs) > 0 {
				ri, err := s.RemoteIndex(ctx, Inbox)
				if err != nil {
					t.Fatal(err)
				}
				got := map[uint32]bool{}
				for _, r := range ri {
					if r.RemoteUID != 0 {
						got[r.RemoteUID] = true
						if r.Partial != wantPartial[r.RemoteUID] {
							t.Errorf("remote uid %d: partial %v, want %v", r.RemoteUID, r.Partial, wantPartial[r.RemoteUID])
						}
						if !slices.Contains(r.Flags, FlagSeen) {
							t.Errorf("remote uid %d lost its flags: %v", r.RemoteUID, r.Flags)
						}
					}
				}
				if len(got) != len(wantUIDs) {
					t.Errorf("remote uids after reopen: %v, want %v", got, wantUIDs)
				}
			}
			checkClean(t, s)
		})
	}
}

// Check reports messages stored twice: the same Message-ID and size twice
// in one mailbox, and two files named with the same sync identity. The
// issue's store had 5,006 messages for 5,000 and Check said clean.
func TestCheckReportsDuplicates(t *testing.T) {
	ctx := context.Background()
	s, root := openTest(t)
	if _, err := s.CreateMailbox(ctx, "Archive", ""); err != nil {
		t.Fatal(err)
	}
	a := coreMsg("a@test", "a", "body a")
	mustAppend(t, s, Inbox, a)
	mustAppend(t, s, "Archive", a) // another mailbox: not a duplicate
	mustAppend(t, s, Inbox, coreMsg("b@test", "b", "body b"))
	mustAppend(t, s, Inbox, coreMsg("b@test", "b", "a longer body b")) // same id, other size
	checkClean(t, s)

	mustAppend(t, s, Inbox, a)
	rep, err := s.Check(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Clean() || len(rep.Duplicates) != 1 || !strings.Contains(rep.Duplicates[0], "a@test") {
		t.Fatalf("same Message-ID and size twice in INBOX: %+v", rep)
	}

	// A UIDL-carrying file copied under another unique name, as a second
	// download of the same message would leave it.
	res, err := s.Append(ctx, "Archive", strings.NewReader(coreMsg("c@test", "c", "body c")), AppendOptions{Remote: Remote{ID: "pop3:c"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Fetch(ctx, "Archive", []uint32{res.UID})
	if err != nil || len(m) != 1 {
		t.Fatal(m, err)
	}
	src := filepath.Join(root, m[0].File)
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// Not a Message-ID duplicate: the copy has another body.
	raw = append(raw, "changed\r\n"...)
	base := filepath.Base(src)
	copyName := "1.M1P1R0Q1.elsewhere" + base[strings.IndexByte(base, ','):]
	if err := os.WriteFile(filepath.Join(filepath.Dir(src), copyName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Check(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var sawID bool
	for _, d := range rep.Duplicates {
		sawID = sawID || strings.Contains(d, "pop3:c")
	}
	if !sawID || len(rep.Indexed) != 1 {
		t.Fatalf("a second file with remote id pop3:c: %+v", rep)
	}
	// Repair indexes the copy but leaves both: the duplicates stay reported.
	rep, err = s.Check(ctx, false)
	if err != nil || rep.Clean() || len(rep.Duplicates) != 2 {
		t.Fatalf("after repair: %v %+v", err, rep)
	}
}

func TestIdentityInName(t *testing.T) {
	s := &Store{host: maildirSafe(strings.Repeat("h", 300)), session: strings.Repeat("f", sessionIDLen)}
	longest := strings.Repeat("~", idInName)
	tests := []struct {
		r    Remote
		want Remote
	}{
		{Remote{}, Remote{}},
		{Remote{UID: 42}, Remote{UID: 42}},
		{Remote{UID: 4294967295, Partial: true}, Remote{UID: 4294967295, Partial: true}},
		{Remote{ID: "pop3:a/b:c,d=e%f"}, Remote{ID: "pop3:a/b:c,d=e%f"}},
		{Remote{UID: 7, ID: longest}, Remote{UID: 7, ID: longest}},
		{Remote{ID: longest + "x"}, Remote{ID: hashedRemoteID(longest + "x")}},
		{Remote{Partial: true}, Remote{}}, // partial means nothing without a UID
	}
	for _, tt := range tests {
		name := "cur/" + s.uniqueName() + identityFields(tt.r) + ":2," + MaildirFlags([]string{FlagDraft, FlagFlagged, FlagAnswered, FlagSeen, FlagDeleted})
		if got := nameIdentity(name); got != tt.want {
			t.Errorf("%+v: name %q gives %+v", tt.r, name, got)
		}
		if n := len(filepath.Base(name)); n > 255 {
			t.Errorf("%+v: name of %d bytes", tt.r, n)
		}
		stripped := stripIdentity(name)
		if nameIdentity(stripped) != (Remote{}) || maildirKey(stripped) != maildirKey(name) || maildirInfo(stripped) != maildirInfo(name) {
			t.Errorf("stripIdentity(%q) = %q", name, stripped)
		}
	}
	// Other writers' fields are kept and ignored.
	other := "cur/123.M4P5.host,S=1234,R=9,W=1300,U=77:2,S"
	if got := nameIdentity(other); got != (Remote{UID: 9}) {
		t.Errorf("%q gives %+v", other, got)
	}
	if got := stripIdentity(other); got != "cur/123.M4P5.host,S=1234,W=1300,U=77:2,S" {
		t.Errorf("stripIdentity(%q) = %q", other, got)
	}
}

// FuzzNameIdentity: file names come from disk, written by anyone.
func FuzzNameIdentity(f *testing.F) {
	for _, seed := range []string{"cur/1.M2P3R4Q5.h,R=42p,I=cG9wMzp4:2,S", "new/x,H=AAAA", ",,,=:2,", "a,R=,I=%%", "cur/1,R=99999999999"} {
		f.Add(seed)
	}
	own := &Store{host: "host", session: strings.Repeat("0", sessionIDLen)}
	f.Fuzz(func(t *testing.T, name string) {
		own.ownName(name) // must not panic
		r := nameIdentity(name)
		if r.Partial && r.UID == 0 {
			t.Fatalf("%q: partial without a UID", name)
		}
		stripped := stripIdentity(name)
		if nameIdentity(stripped) != (Remote{}) {
			t.Fatalf("%q: stripped %q still carries an identity", name, stripped)
		}
		// A name made from what was read reads back the same.
		if !strings.HasPrefix(r.ID, "sha256:") {
			if got := nameIdentity("cur/k" + identityFields(r) + ":2,"); got != r && len(r.ID) <= idInName {
				t.Fatalf("%q: %+v round-trips to %+v", name, r, got)
			}
		}
	})
}
