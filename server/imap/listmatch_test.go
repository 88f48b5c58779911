package imapd

import (
	"context"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapserver"
)

var listMatchSeeds = []struct{ name, ref, pattern string }{
	{"INBOX", "", "*"},
	{"INBOX", "", "inbox"},
	{"Projects/2026", "", "%"},
	{"Projects/2026", "", "Projects/%"},
	{"Projects/2026", "Projects", "%"},
	{"Projects/2026", "Projects/", "*6"},
	{"Projects/2026", "Other", "/Projects/*"},
	{"a/b/c", "", "a%c"},
	{"a/b/c", "", "a*c"},
	{"a/b/c", "", "%/%/%"},
	{"aaaa", "", "*a*a*%a"},
	{"", "", ""},
	{"x", "", "**%%*"},
}

func TestListMatch(t *testing.T) {
	for _, s := range listMatchSeeds {
		got := newListMatcher(s.ref, []string{s.pattern}).match(s.name)
		want := libMatch(s.name, s.ref, s.pattern)
		if got != want {
			t.Errorf("%q ref %q pattern %q: %v, imapserver says %v", s.name, s.ref, s.pattern, got, want)
		}
	}
}

// libMatch is imapserver.MatchList with the INBOX rule of RFC 9051
// section 5.1, as List used it before.
func libMatch(name, ref, pattern string) bool {
	if imapserver.MatchList(name, delim, ref, pattern) {
		return true
	}
	return name == "INBOX" && imapserver.MatchList(name, delim, strings.ToUpper(ref), strings.ToUpper(pattern))
}

// FuzzListMatch: the matcher agrees with imapserver.MatchList (on inputs
// small enough for its backtracking).
func FuzzListMatch(f *testing.F) {
	for _, s := range listMatchSeeds {
		f.Add(s.name, s.ref, s.pattern)
	}
	f.Fuzz(func(t *testing.T, name, ref, pattern string) {
		if len(name) > 40 || len(ref) > 20 || len(pattern) > 20 || strings.Count(pattern, "*")+strings.Count(pattern, "%") > 6 {
			return
		}
		got := newListMatcher(ref, []string{pattern}).match(name)
		if want := libMatch(name, ref, pattern); got != want {
			t.Fatalf("%q ref %q pattern %q: %v, imapserver says %v", name, ref, pattern, got, want)
		}
	})
}

// TestListPatternBlowup: a pattern of many wildcards against a long name
// is answered at once; with imapserver.MatchList's backtracking it ran
// for hours.
func TestListPatternBlowup(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	if _, err := e.st.CreateMailbox(context.Background(), strings.Repeat("a", 200), ""); err != nil {
		t.Fatal(err)
	}
	r := e.raw()
	r.send("a LOGIN " + testUser + " " + testPass + "\r\n")
	r.expect("a OK")
	r.send("b LIST \"\" \"" + strings.Repeat("*a", 30) + "*b\"\r\n")
	if l := r.expect("b "); l[len(l)-1] != "b OK LIST completed" || len(l) != 1 {
		t.Fatalf("LIST: %q", l)
	}
	r.send("c LIST \"\" \"" + strings.Repeat("*a", 30) + "*\"\r\n")
	if l := r.expect("c "); len(l) != 2 || !strings.Contains(l[0], strings.Repeat("a", 200)) {
		t.Fatalf("LIST: %q", l)
	}
}
