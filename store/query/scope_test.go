package query

import "testing"

func TestScope(t *testing.T) {
	tests := []struct {
		in, mailbox string
		names       bool   // in.NamesMailbox()
		want        string // Scope(in, mailbox).String()
	}{
		{`report`, "INBOX", false, `report in:INBOX`},
		{`report`, "inbox", false, `report in:INBOX`},
		{`report`, "", false, `report`},
		{`a b -c`, "Old mail", false, `a b -c in:"Old mail"`},
		{`a OR b`, "Archive", false, `(a OR b) in:Archive`},
		{`-(a b)`, "Archive", false, `-(a b) in:Archive`},
		{`subject:"check in:room"`, "INBOX", false, `subject:"check in:room" in:INBOX`},
		{`"in:Trash"`, "INBOX", false, `"in:Trash" in:INBOX`},
		{`body:in:x`, "INBOX", false, `body:in:x in:INBOX`},
		{`in:Archive report`, "INBOX", true, `in:Archive report`},
		{`report -in:Trash`, "INBOX", true, `report -in:Trash`},
		{`a OR (b in:Sent)`, "INBOX", true, `a OR b in:Sent`},
		{`IN:inbox`, "Archive", true, `in:INBOX`},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := q.NamesMailbox(); got != tt.names {
			t.Errorf("NamesMailbox(%q) = %v, want %v", tt.in, got, tt.names)
		}
		before := q.String()
		s := Scope(q, tt.mailbox)
		if got := s.String(); got != tt.want {
			t.Errorf("Scope(%q, %q) = %q, want %q", tt.in, tt.mailbox, got, tt.want)
		}
		if q.String() != before {
			t.Errorf("Scope(%q) changed its argument to %q", tt.in, q.String())
		}
		if _, _, err := s.SQL(nil); err != nil {
			t.Errorf("SQL of Scope(%q): %v", tt.in, err)
		}
	}
	if got := Scope(nil, "Sent").String(); got != "in:Sent" {
		t.Errorf("Scope(nil, Sent) = %q", got)
	}
	if got := Scope(&Query{}, "Sent").String(); got != "in:Sent" {
		t.Errorf("Scope(zero, Sent) = %q", got)
	}
	if Scope(nil, "") != nil {
		t.Errorf("Scope(nil, \"\") is not nil")
	}
}

func TestSplitMailbox(t *testing.T) {
	tests := []struct {
		in        string
		ok        bool
		box, rest string
	}{
		{`in:inbox`, true, "INBOX", ""},
		{`report in:Archive`, true, "Archive", `report`},
		{`in:"Old mail" a b -c`, true, "Old mail", `a b -c`},
		{`(a OR b) in:Sent is:unread`, true, "Sent", `(a OR b) is:unread`},
		{`in:A in:B x`, true, "A", `in:B x`},
		{`report`, false, "", ""},
		{`-in:Trash report`, false, "", ""},
		{`in:A OR in:B`, false, "", ""},
		{`-(in:A x)`, false, "", ""},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		box, rest, ok := q.SplitMailbox()
		if ok != tt.ok || box != tt.box || rest.String() != tt.rest {
			t.Errorf("SplitMailbox(%q) = %q, %q, %v; want %q, %q, %v", tt.in, box, rest.String(), ok, tt.box, tt.rest, tt.ok)
		}
	}
}

// NamesMailbox looks at the syntax tree: an in: inside a quoted value is
// text, not a mailbox term.
func TestNamesMailbox(t *testing.T) {
	for q, want := range map[string]bool{
		"in:Sent x":                true,
		"x -in:Trash":              true,
		"(in:INBOX OR y)":          true,
		`NOT (a OR in:"Old mail")`: true,
		"inbox":                    false,
		"from:in":                  false,
		`subject:"check in:room"`:  false,
		`"in:Sent"`:                false,
		`body:"x in:y" OR z`:       false,
	} {
		pq, err := Parse(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if got := pq.NamesMailbox(); got != want {
			t.Errorf("%q: NamesMailbox() = %v, want %v", q, got, want)
		}
	}
}
