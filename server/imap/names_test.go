package imapd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// badNames are mailbox names as sent on the wire that no command may take
// as a new mailbox: bad encodings (refused by the command reader), names
// the store cannot hold, and names over the limits.
var badNames = []struct{ name, wire string }{
	{"NUL", "\"a\x00b\""},
	{"control", "\"a\x01b\""},
	{"tab", "\"a\tb\""},
	{"DEL", "\"a\x7fb\""},
	{"C1 control", "\"a\u0085b\""},
	{"control in UTF-7", "\"a&AAE-b\""},
	{"bad UTF-8", "\"a\xffb\""},
	{"bare ampersand", "\"a&b\""},
	{"unterminated UTF-7", "\"&Jjo\""},
	{"ASCII in UTF-7", "\"&AGE-\""},
	{"NUL literal", "{3+}\r\na\x00b"},
	{"bad UTF-7 literal", "{3+}\r\na&b"},
	{"star", "\"a*b\""},
	{"percent", "\"a%b\""},
	{"empty level", "\"a//b\""},
	{"leading slash", "\"/a\""},
	{"empty", "\"\""},
	{"256 bytes", "\"" + strings.Repeat("x", 256) + "\""},
	{"513 bytes", "\"" + strings.Repeat("x", 513) + "\""},
	{"dots over NAME_MAX", "\"" + strings.Repeat(".", 90) + "\""},
	{"too deep", "\"" + strings.Repeat("d/", 20) + "d\""},
	{"128 levels", "\"" + strings.Repeat("n/", 127) + "n\""},
}

// TestBadMailboxNames: every command that takes a mailbox name refuses a
// bad one with NO and a response code (RFC 5530), never SERVERBUG, BAD or
// a dropped connection, and the session answers the next command.
func TestBadMailboxNames(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true, Limits: MailboxLimits{MaxNameBytes: 255, MaxDepth: 16}})
	e.add("INBOX", testMsg(1, "one", "a"))
	if _, err := e.st.CreateMailbox(context.Background(), "Src", ""); err != nil {
		t.Fatal(err)
	}
	before := mailboxNames(t, e)
	msg := "Subject: x\r\n\r\nhi" + smuggle
	create := []string{"NO [CANNOT]"}
	lookup := []string{"NO [CANNOT]", "NO [NONEXISTENT]"}
	list := []string{"NO [CANNOT]", "OK"}
	commands := []struct {
		format string // %s is the name
		want   []string
	}{
		{"CREATE %s", create},
		{"RENAME Src %s", create},
		{"RENAME %s Dst", lookup},
		{"DELETE %s", lookup},
		{"SELECT %s", lookup},
		{"EXAMINE %s", lookup},
		{"STATUS %s (MESSAGES)", lookup},
		{"SUBSCRIBE %s", lookup},
		{"UNSUBSCRIBE %s", lookup},
		{fmt.Sprintf("APPEND %%s {%d+}\r\n%s", len(msg), msg), create},
		{"COPY 1 %s", create},
		{"MOVE 1 %s", create},
		{"UID COPY 1 %s", create},
		{"LIST \"\" %s", list},
		{"LIST %s \"*\"", list},
		{"LSUB \"\" %s", list},
	}
	r := e.raw()
	r.send("a LOGIN " + testUser + " " + testPass + "\r\n")
	r.expect("a OK")
	for _, c := range commands {
		for _, n := range badNames {
			if strings.HasPrefix(c.format, "COPY") || strings.HasPrefix(c.format, "MOVE") || strings.HasPrefix(c.format, "UID") {
				r.send("s SELECT INBOX\r\n")
				r.expect("s OK")
			}
			cmd := fmt.Sprintf("t "+c.format+"\r\n", n.wire)
			r.send(cmd)
			l := r.expect("t ")
			got := strings.TrimPrefix(l[len(l)-1], "t ")
			if !slices.ContainsFunc(c.want, func(w string) bool { return strings.HasPrefix(got, w) }) {
				t.Errorf("%s, %s: got %q, want one of %q", strings.Fields(c.format)[0], n.name, got, c.want)
			}
			if strings.Contains(got, "SERVERBUG") {
				t.Errorf("%s, %s: %q", strings.Fields(c.format)[0], n.name, got)
			}
			r.send("z NOOP\r\n")
			r.expect("z OK")
		}
	}
	// A synchronizing literal: refused before its continuation or after
	// its data, the session goes on.
	r.send("t CREATE {3}\r\n")
	r.expect("+")
	r.send("a\x01b\r\n")
	if l := r.line(); !strings.HasPrefix(l, "t NO [CANNOT]") {
		t.Fatalf("CREATE {3} a^Ab: %q", l)
	}
	r.send("z NOOP\r\n")
	r.expect("z OK")
	if after := mailboxNames(t, e); !slices.Equal(after, before) {
		t.Fatalf("mailboxes changed: %q, were %q", after, before)
	}
	// Good names still work.
	r.send("u CREATE \"Good/" + strings.Repeat("é", 100) + "\"\r\n")
	r.expect("u OK")
}

// TestMailboxNameErrorText: refusals say what is wrong.
func TestMailboxNameErrorText(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true, Limits: MailboxLimits{MaxNameBytes: 100, MaxDepth: 4, MaxMailboxes: 10}})
	r := e.raw()
	r.send("a LOGIN " + testUser + " " + testPass + "\r\n")
	r.expect("a OK")
	tests := []struct{ send, want string }{
		{"b CREATE \"a\x01b\"\r\n", "b NO [CANNOT] Mailbox name contains a control character"},
		{"b CREATE \"a\xffb\"\r\n", "b NO [CANNOT] Mailbox name is not valid UTF-8"},
		{"b CREATE \"a&b\"\r\n", "b NO [CANNOT] Mailbox name is not valid modified UTF-7"},
		{"b CREATE \"a*b\"\r\n", "b NO [CANNOT] Mailbox name may not contain *"},
		{"b CREATE \"a//b\"\r\n", "b NO [CANNOT] Mailbox name has an empty level"},
		{"b CREATE \"" + strings.Repeat("x", 101) + "\"\r\n", "b NO [CANNOT] Mailbox name is 101 bytes long; the limit is 100"},
		{"b CREATE \"a/b/c/d/e\"\r\n", "b NO [CANNOT] Mailbox name has 5 levels; the limit is 4"},
		{"b CREATE \"" + strings.Repeat(".", 90) + "\"\r\n", "b NO [CANNOT] Mailbox name is too long for the store"},
		// Six mailboxes exist (INBOX and the five special ones): four more.
		{"b CREATE \"a/b/c/d\"\r\n", "b OK"},
		{"b CREATE \"e\"\r\n", "b NO [LIMIT] 10 mailboxes is the limit"},
		// The new names of the children count too: a/b/c/d would be x/y/z/c/d.
		{"b RENAME a/b x/y/z\r\n", "b NO [CANNOT] Mailbox name has 5 levels; the limit is 4"},
		{"b RENAME a/b x/y\r\n", "b OK"},
	}
	for _, tt := range tests {
		r.send(tt.send)
		if l := r.line(); !strings.HasPrefix(l, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.send, l, tt.want)
		}
	}
}

func mailboxNames(t *testing.T, e *testEnv) []string {
	t.Helper()
	mbs, err := e.st.Mailboxes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mb := range mbs {
		out = append(out, mb.Name)
	}
	return out
}
