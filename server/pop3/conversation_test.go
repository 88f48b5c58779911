package pop3d

import (
	"fmt"
	"strings"
	"testing"
)

// Three small messages whose octets on the wire are known: a CRLF one,
// one with a body of three lines, and one stored with LF line ends, a
// dot-led line and no final line end.
var (
	msgOne   = "Subject: one\r\n\r\nHello\r\n"
	msgTwo   = "Subject: two\r\nFrom: a@example.test\r\n\r\nLine 1\r\nLine 2\r\nLine 3\r\n"
	msgThree = "Subject: three\n\n.dot\n..two\n.\nend"
	// wireThree is msgThree as sent, before byte-stuffing.
	wireThree = "Subject: three\r\n\r\n.dot\r\n..two\r\n.\r\nend\r\n"
)

// step is one exchange of a conversation: send a line (unless empty),
// then expect a status line starting with want and, for a multi-line
// reply, exactly lines or body.
type step struct {
	send  string
	want  string
	lines []string
	body  string
}

func (s step) run(t *testing.T, cl *client) {
	t.Helper()
	if s.send != "" {
		cl.send(s.send)
	}
	cl.expect(s.want)
	switch {
	case s.lines != nil:
		got := cl.multi()
		if strings.Join(got, "\n") != strings.Join(s.lines, "\n") {
			t.Fatalf("after %q: got lines %q, want %q", s.send, got, s.lines)
		}
	case s.body != "":
		if got := string(cl.body()); got != s.body {
			t.Fatalf("after %q: got body %q, want %q", s.send, got, s.body)
		}
	}
}

func TestConversations(t *testing.T) {
	sizes := []int{len(msgOne), len(msgTwo), len(wireThree)}
	total := sizes[0] + sizes[1] + sizes[2]
	login := []step{{send: "USER " + alice, want: "+OK"}, {send: "PASS " + alicePW, want: "+OK Logged in, 3 messages"}}
	withLogin := func(s ...step) []step { return append(append([]step{}, login...), s...) }
	list := func(nums ...int) []string {
		var out []string
		for _, n := range nums {
			out = append(out, fmt.Sprintf("%d %d", n, sizes[n-1]))
		}
		return out
	}

	tests := []struct {
		name  string
		steps func(e *env) []step
	}{
		{"quit before login", func(*env) []step {
			return []step{{send: "QUIT", want: "+OK Bye"}}
		}},
		{"wrong state before login", func(*env) []step {
			var s []step
			for _, c := range []string{"STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 0", "UIDL"} {
				s = append(s, step{send: c, want: "-ERR " + strings.Fields(c)[0] + " is not allowed before login"})
			}
			return append(s, login...)
		}},
		{"unknown commands", func(*env) []step {
			return []step{
				{send: "XYZZ", want: "-ERR Unknown command: XYZZ"},
				{send: "HELLOWORLD", want: "-ERR Unknown command"},
				{send: "NO", want: "-ERR Unknown command"},
				{send: "st@t", want: "-ERR Unknown command"},
				{send: "NOOP\x00", want: "-ERR Unknown command"},
				{send: "capa", want: "+OK"},
			}
		}},
		{"capa insecure auth allowed", func(*env) []step {
			return []step{{send: "CAPA", want: "+OK", lines: []string{
				"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER", "SASL PLAIN", "IMPLEMENTATION letterbox"}}}
		}},
		{"capa after login", func(*env) []step {
			return withLogin(step{send: "CAPA", want: "+OK", lines: []string{
				"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION letterbox"}})
		}},
		{"user pass stat", func(*env) []step {
			return withLogin(step{send: "STAT", want: fmt.Sprintf("+OK 3 %d", total)})
		}},
		{"user without domain", func(*env) []step {
			return []step{{send: "USER Alice", want: "+OK"}, {send: "PASS " + alicePW, want: "+OK Logged in"}}
		}},
		{"wrong password then right", func(*env) []step {
			return []step{
				{send: "USER " + alice, want: "+OK"},
				{send: "PASS wrong", want: "-ERR [AUTH] Authentication failed"},
				{send: "PASS " + alicePW, want: "-ERR Send USER first"},
				{send: "USER " + alice, want: "+OK"},
				{send: "PASS " + alicePW, want: "+OK Logged in"},
			}
		}},
		{"password with spaces", func(*env) []step {
			return []step{{send: "USER " + alice, want: "+OK"}, {send: "PASS correct horse", want: "-ERR [AUTH]"}}
		}},
		{"user without name", func(*env) []step {
			return []step{{send: "USER", want: "-ERR Syntax"}, {send: "USER  ", want: "-ERR Syntax"}}
		}},
		{"auth plain initial response", func(*env) []step {
			return []step{{send: "AUTH PLAIN " + plainIR("", alice, alicePW), want: "+OK Logged in, 3 messages"}}
		}},
		{"auth plain continuation", func(*env) []step {
			return []step{
				{send: "AUTH plain", want: "+ "},
				{send: plainIR("", alice, alicePW), want: "+OK Logged in"},
			}
		}},
		{"auth plain bad base64", func(*env) []step {
			return []step{
				{send: "AUTH PLAIN !!not-base64!!", want: "-ERR Invalid base64 data"},
				{send: "AUTH PLAIN", want: "+ "},
				{send: "%%%", want: "-ERR Invalid base64 data"},
				{send: "AUTH PLAIN " + plainIR("", alice, alicePW), want: "+OK Logged in"},
			}
		}},
		{"auth plain malformed", func(*env) []step {
			return []step{
				{send: "AUTH PLAIN =", want: "-ERR [AUTH] Malformed"},
				{send: "AUTH PLAIN " + plainIR("", "", alicePW), want: "-ERR [AUTH] Malformed"},
			}
		}},
		{"auth plain wrong password", func(*env) []step {
			return []step{{send: "AUTH PLAIN " + plainIR("", alice, "nope"), want: "-ERR [AUTH] Authentication failed"}}
		}},
		{"auth plain cancelled", func(*env) []step {
			return []step{{send: "AUTH PLAIN", want: "+ "}, {send: "*", want: "-ERR Authentication cancelled"}, {send: "NOOP", want: "-ERR"}}
		}},
		{"auth plain authzid", func(*env) []step {
			return []step{
				{send: "AUTH PLAIN " + plainIR(bob, alice, alicePW), want: "-ERR [AUTH] Authorization identity"},
				{send: "AUTH PLAIN " + plainIR(alice, alice, alicePW), want: "+OK Logged in"},
			}
		}},
		{"auth other mechanism", func(*env) []step {
			return []step{{send: "AUTH CRAM-MD5", want: "-ERR Unsupported"}}
		}},
		{"auth mechanism list", func(*env) []step {
			return []step{{send: "AUTH", want: "+OK", lines: []string{"PLAIN"}}}
		}},
		{"list and uidl", func(e *env) []step {
			u := func(i int) string { return fmt.Sprintf("%d %08x%08x", i, e.uv, e.uids[i-1]) }
			return withLogin(
				step{send: "LIST", want: fmt.Sprintf("+OK 3 messages (%d octets)", total), lines: list(1, 2, 3)},
				step{send: "LIST 2", want: "+OK " + list(2)[0]},
				step{send: "LIST 3", want: "+OK " + list(3)[0]},
				step{send: "LIST 4", want: "-ERR No such message"},
				step{send: "LIST 0", want: "-ERR No such message"},
				step{send: "LIST x", want: "-ERR Invalid message number"},
				step{send: "LIST -1", want: "-ERR Invalid message number"},
				step{send: "LIST 1 2", want: "-ERR Syntax"},
				step{send: "UIDL", want: "+OK", lines: []string{u(1), u(2), u(3)}},
				step{send: "UIDL 3", want: "+OK " + u(3)},
				step{send: "UIDL 99999999999", want: "-ERR Invalid message number"},
			)
		}},
		{"dele then rset", func(e *env) []step {
			return withLogin(
				step{send: "DELE 1", want: "+OK Message 1 deleted"},
				step{send: "DELE 1", want: "-ERR Message 1 already deleted"},
				step{send: "RETR 1", want: "-ERR Message 1 already deleted"},
				step{send: "TOP 1 0", want: "-ERR Message 1 already deleted"},
				step{send: "LIST 1", want: "-ERR Message 1 already deleted"},
				step{send: "STAT", want: fmt.Sprintf("+OK 2 %d", sizes[1]+sizes[2])},
				step{send: "LIST", want: "+OK 2 messages", lines: list(2, 3)},
				step{send: "UIDL", want: "+OK", lines: []string{
					fmt.Sprintf("2 %08x%08x", e.uv, e.uids[1]), fmt.Sprintf("3 %08x%08x", e.uv, e.uids[2])}},
				step{send: "RSET", want: "+OK"},
				step{send: "STAT", want: fmt.Sprintf("+OK 3 %d", total)},
				step{send: "RETR 1", want: fmt.Sprintf("+OK %d octets", sizes[0]), body: msgOne},
			)
		}},
		{"retr", func(*env) []step {
			return withLogin(
				step{send: "RETR 2", want: fmt.Sprintf("+OK %d octets", sizes[1]), body: msgTwo},
				step{send: "RETR 3", want: fmt.Sprintf("+OK %d octets", sizes[2]), body: wireThree},
				step{send: "RETR", want: "-ERR Syntax"},
				step{send: "RETR 4", want: "-ERR No such message"},
			)
		}},
		{"top", func(*env) []step {
			return withLogin(
				step{send: "TOP 2 0", want: "+OK", body: "Subject: two\r\nFrom: a@example.test\r\n\r\n"},
				step{send: "TOP 2 1", want: "+OK", body: "Subject: two\r\nFrom: a@example.test\r\n\r\nLine 1\r\n"},
				step{send: "TOP 2 3", want: "+OK", body: msgTwo},
				step{send: "TOP 2 100", want: "+OK", body: msgTwo},
				step{send: "TOP 3 1", want: "+OK", body: "Subject: three\r\n\r\n.dot\r\n"},
				step{send: "TOP 2", want: "-ERR Syntax"},
				step{send: "TOP 2 x", want: "-ERR Invalid number of lines"},
				step{send: "TOP 9 1", want: "-ERR No such message"},
			)
		}},
		{"noop", func(*env) []step { return withLogin(step{send: "NOOP", want: "+OK"}) }},
		{"already logged in", func(*env) []step {
			return withLogin(
				step{send: "USER " + alice, want: "-ERR Already logged in"},
				step{send: "PASS x", want: "-ERR Already logged in"},
				step{send: "AUTH PLAIN", want: "-ERR Already logged in"},
				step{send: "STLS", want: "-ERR Already logged in"},
				step{send: "FOO", want: "-ERR Unknown command"},
			)
		}},
		{"stls without tls config", func(*env) []step {
			return []step{{send: "STLS", want: "-ERR STLS not available"}}
		}},
		{"quit after login", func(*env) []step {
			return withLogin(step{send: "QUIT", want: "+OK Logging out, 0 messages deleted"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Options{AllowInsecureAuth: true}, false, [][]byte{[]byte(msgOne), []byte(msgTwo), []byte(msgThree)})
			cl := e.dial()
			for _, s := range tc.steps(e) {
				s.run(t, cl)
			}
		})
	}
}
