package imapsync

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
)

// TestConflicts checks each documented conflict rule: device A (the
// store under test) changes a message locally while another client
// changes it on the server, then A syncs.
func TestConflicts(t *testing.T) {
	const x = "x@example.test"
	type env struct {
		t  *testing.T
		a  admin
		st *store.Store
		l  *Local
	}
	uid := func(e env, mb string) []uint32 { return []uint32{localUID(e.t, e.st, mb, x)} }
	check := func(err error, t *testing.T) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		// local and remote make the conflicting changes.
		local, remote func(e env)
		// want is the state of INBOX and Archive everywhere afterwards:
		// Message-ID x's flags, or "gone".
		inbox, archive string
		// projects, when set, is the state of Projects too.
		projects string
		note     string
	}{
		{
			name: "different flags merge",
			local: func(e env) {
				_, err := e.l.SetFlags(bg(), "INBOX", uid(e, "INBOX"), store.FlagsAdd, []string{`\Flagged`})
				check(err, e.t)
			},
			remote: func(e env) { e.a.flag("INBOX", x, imap.StoreFlagsAdd, `\Seen`) },
			inbox:  `$Keep \Flagged \Seen`, archive: "gone",
		},
		{
			name: "the same change on both sides",
			local: func(e env) {
				_, err := e.l.SetFlags(bg(), "INBOX", uid(e, "INBOX"), store.FlagsRemove, []string{"$Keep"})
				check(err, e.t)
			},
			remote: func(e env) { e.a.flag("INBOX", x, imap.StoreFlagsDel, "$Keep") },
			inbox:  "", archive: "gone",
		},
		{
			name: "local toggle wins over the server's change of that flag",
			local: func(e env) {
				_, err := e.l.SetFlags(bg(), "INBOX", uid(e, "INBOX"), store.FlagsRemove, []string{"$Keep"})
				check(err, e.t)
				_, err = e.l.SetFlags(bg(), "INBOX", uid(e, "INBOX"), store.FlagsAdd, []string{"$Keep"})
				check(err, e.t)
			},
			remote: func(e env) { e.a.flag("INBOX", x, imap.StoreFlagsDel, "$Keep") },
			inbox:  "$Keep", archive: "gone",
		},
		{
			name:   "server-only change applies locally",
			local:  func(e env) {},
			remote: func(e env) { e.a.flag("INBOX", x, imap.StoreFlagsSet, `\Answered`) },
			inbox:  `\Answered`, archive: "gone",
		},
		{
			name: "server expunge wins over a local flag change",
			local: func(e env) {
				_, err := e.l.SetFlags(bg(), "INBOX", uid(e, "INBOX"), store.FlagsAdd, []string{`\Flagged`})
				check(err, e.t)
			},
			remote: func(e env) { e.a.expunge("INBOX", x) },
			inbox:  "gone", archive: "gone",
		},
		{
			name:   "local delete wins over a server flag change",
			local:  func(e env) { check(e.l.Delete(bg(), "INBOX", uid(e, "INBOX"), ""), e.t) },
			remote: func(e env) { e.a.flag("INBOX", x, imap.StoreFlagsAdd, `\Flagged`) },
			inbox:  "gone", archive: "gone",
		},
		{
			name:   "local move of a message the server expunged is dropped",
			local:  func(e env) { _, err := e.l.Move(bg(), "INBOX", uid(e, "INBOX"), "Archive"); check(err, e.t) },
			remote: func(e env) { e.a.expunge("INBOX", x) },
			inbox:  "gone", archive: "gone", note: "move to Archive dropped",
		},
		{
			name:   "both move to the same mailbox: one copy",
			local:  func(e env) { _, err := e.l.Move(bg(), "INBOX", uid(e, "INBOX"), "Archive"); check(err, e.t) },
			remote: func(e env) { e.a.move("INBOX", x, "Archive") },
			inbox:  "gone", archive: "$Keep",
		},
		{
			name:   "move to a mailbox deleted on the server creates it again",
			local:  func(e env) { _, err := e.l.Move(bg(), "INBOX", uid(e, "INBOX"), "Projects"); check(err, e.t) },
			remote: func(e env) { e.a.deleteMailbox("Projects") },
			inbox:  "gone", archive: "gone", projects: "$Keep", note: "created on the server",
		},
		{
			name:   "local move wins over a server flag change, which travels along",
			local:  func(e env) { _, err := e.l.Move(bg(), "INBOX", uid(e, "INBOX"), "Archive"); check(err, e.t) },
			remote: func(e env) { e.a.flag("INBOX", x, imap.StoreFlagsAdd, `\Seen`) },
			inbox:  "gone", archive: `$Keep \Seen`,
		},
	}
	forEachPeer(t, func(t *testing.T, p *peer) {
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				a := admin{t, p}
				a.create("Archive")
				a.create("Projects")
				for _, mb := range []string{"INBOX", "Archive", "Projects"} {
					if _, ok := a.state(mb).flags[x]; ok {
						a.expunge(mb, x)
					}
				}
				a.append("INBOX", testMsg(x, 500), []string{"$Keep"}, time.Now())
				st := newStore(t)
				opts := testOptions(p)
				var ev events
				opts.Report = ev.reporter()
				mustSync(t, st, opts)
				e := env{t: t, a: a, st: st, l: &Local{Store: st}}
				tc.local(e)
				tc.remote(e)
				mustSync(t, st, opts)
				boxes := map[string]string{"INBOX": tc.inbox, "Archive": tc.archive}
				if tc.projects != "" {
					boxes["Projects"] = tc.projects
				}
				for mb, want := range boxes {
					srv := a.state(mb)
					loc, _ := localState(t, st, mb)
					for side, s := range map[string]boxState{"server": srv, "store": loc} {
						got, ok := s.flags[x]
						if !ok {
							got = "gone"
						}
						if got != want || len(s.dups) > 0 {
							t.Errorf("%s on the %s: %q (dups %v), want %q", mb, side, got, s.dups, want)
						}
					}
				}
				if tc.note != "" && !strings.Contains(strings.Join(ev.notes(), "\n"), tc.note) {
					t.Errorf("notes %q lack %q", ev.notes(), tc.note)
				}
				if j, _ := st.Journal(context.Background()); len(j) != 0 {
					t.Errorf("journal not drained: %v", j)
				}
			})
		}
	})
}

func bg() context.Context { return context.Background() }

// TestCrashAfterJournal: an action whose journal entry was written but
// whose store change was not (a crash in between) reaches the server, and
// the store gets it back from the server: the order Local uses is safe.
func TestCrashAfterJournal(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p *peer) {
		a := admin{t, p}
		a.create("Archive")
		mids := a.seed("INBOX", "crash", 2, 400)
		st := newStore(t)
		opts := testOptions(p)
		mustSync(t, st, opts)
		l := &Local{Store: st}
		journalOnly := func(op string, mid, dest string, add ...string) {
			pl, _, err := l.capture(bg(), "INBOX", []uint32{localUID(t, st, "INBOX", mid)})
			if err != nil {
				t.Fatal(err)
			}
			pl.Dest, pl.Msgs[0].Add = dest, add
			b, _ := json.Marshal(pl)
			if _, err := st.JournalAdd(bg(), op, b); err != nil {
				t.Fatal(err)
			}
		}
		journalOnly(opFlags, mids[0], "", `\Flagged`)
		journalOnly(opMove, mids[1], "Archive")
		mustSync(t, st, opts)
		for _, mb := range []string{"INBOX", "Archive"} {
			sameState(t, st, a, mb, true)
		}
		if f := a.state("INBOX").flags[mids[0]]; f != `\Flagged` {
			t.Errorf("flag on the server: %q", f)
		}
		if _, ok := a.state("Archive").flags[mids[1]]; !ok {
			t.Errorf("move not made on the server")
		}
	})
}
