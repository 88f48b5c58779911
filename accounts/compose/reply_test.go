package compose

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
)

// msg joins header lines and a body into a raw CRLF message.
func msg(header []string, body string) string {
	return strings.Join(header, "\r\n") + "\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n")
}

var me = Address{Name: "Me Myself", Addr: "me@example.org"}

var plainOriginal = msg([]string{
	"From: =?utf-8?q?Ann_L=C3=A9e?= <ann@example.com>",
	"To: Me Myself <ME@Example.org>, bob@example.net",
	"Cc: carl@example.com, Bob <BOB@example.net>",
	"Subject: RE: Aw: Re: budget",
	"Date: Tue, 03 Mar 2026 14:05:00 +0100",
	"Message-ID: <orig@example.com>",
	"References: <first@example.com> <second@example.com>",
	"Content-Type: text/plain; charset=iso-8859-1",
	"Content-Transfer-Encoding: quoted-printable",
}, "Caf=E9 at ten?\n> earlier words\n\n--=20\nAnn\n")

func addrs(list []Address) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Addr
	}
	return out
}

func TestReply(t *testing.T) {
	tests := []struct {
		name    string
		orig    string
		all     bool
		to, cc  []string
		subject string
		refs    []string
		body    string
	}{
		{
			name:    "reply",
			orig:    plainOriginal,
			to:      []string{"ann@example.com"},
			cc:      []string{},
			subject: "Re: budget",
			refs:    []string{"first@example.com", "second@example.com", "orig@example.com"},
			body:    "On Tue, 3 Mar 2026 at 14:05, Ann Lée wrote:\n> Café at ten?\n>> earlier words\n",
		},
		{
			name:    "reply all without me and duplicates",
			orig:    plainOriginal,
			all:     true,
			to:      []string{"ann@example.com"},
			cc:      []string{"bob@example.net", "carl@example.com"},
			subject: "Re: budget",
			refs:    []string{"first@example.com", "second@example.com", "orig@example.com"},
			body:    "On Tue, 3 Mar 2026 at 14:05, Ann Lée wrote:\n> Café at ten?\n>> earlier words\n",
		},
		{
			name: "reply-to wins, in-reply-to starts references",
			orig: msg([]string{
				"From: list member <m@example.com>",
				"Reply-To: list@lists.example.com",
				"To: list@lists.example.com",
				"Subject: [list] question",
				"Message-ID: <q@example.com>",
				"In-Reply-To: <parent@example.com>",
			}, "Anyone?"),
			all:     true,
			to:      []string{"list@lists.example.com"},
			cc:      []string{},
			subject: "Re: [list] question",
			refs:    []string{"parent@example.com", "q@example.com"},
			body:    "list member wrote:\n> Anyone?\n",
		},
		{
			name: "reply to my own message goes to its recipients",
			orig: msg([]string{
				"From: Me <me@example.org>",
				"To: ann@example.com",
				"Cc: bob@example.net",
				"Subject: Sv: plan",
			}, "my text"),
			all:     true,
			to:      []string{"ann@example.com"},
			cc:      []string{"bob@example.net"},
			subject: "Re: plan",
			body:    "Me wrote:\n> my text\n",
		},
		{
			name: "html only",
			orig: msg([]string{
				"From: shop@example.com",
				"Subject: Your order",
				"Content-Type: text/html; charset=utf-8",
			}, "<html><head><style>p{}</style></head><body><p>Thanks for <b>your</b> order.</p><p>See <a href=\"https://x.example/o/1\">details</a><br>Bye</p><script>x()</script></body></html>"),
			to:      []string{"shop@example.com"},
			cc:      []string{},
			subject: "Re: Your order",
			body:    "shop@example.com wrote:\n> Thanks for your order.\n>\n> See details <https://x.example/o/1>\n> Bye\n",
		},
		{
			name: "flowed original is unwrapped before quoting",
			orig: msg([]string{
				"From: ann@example.com",
				"Subject: long",
				"Content-Type: text/plain; charset=utf-8; format=flowed",
			}, "one two \nthree\n> quoted \n> more\n"),
			to:      []string{"ann@example.com"},
			cc:      []string{},
			subject: "Re: long",
			body:    "ann@example.com wrote:\n> one two three\n>> quoted more\n",
		},
		{
			name: "multipart alternative prefers plain",
			orig: msg([]string{
				"From: ann@example.com",
				"Subject: alt",
				`Content-Type: multipart/alternative; boundary="b"`,
			}, "--b\nContent-Type: text/html\n\n<p>html</p>\n--b\nContent-Type: text/plain\n\nplain\n--b--\n"),
			to:      []string{"ann@example.com"},
			cc:      []string{},
			subject: "Re: alt",
			body:    "ann@example.com wrote:\n> plain\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Reply(strings.NewReader(tt.orig), me, tt.all)
			if err != nil {
				t.Fatal(err)
			}
			if got := addrs(d.To); !reflect.DeepEqual(got, tt.to) {
				t.Errorf("To = %q, want %q", got, tt.to)
			}
			if got := addrs(d.Cc); !reflect.DeepEqual(got, tt.cc) {
				t.Errorf("Cc = %q, want %q", got, tt.cc)
			}
			if d.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", d.Subject, tt.subject)
			}
			if !reflect.DeepEqual(d.References, tt.refs) {
				t.Errorf("References = %q, want %q", d.References, tt.refs)
			}
			if n := len(tt.refs); n > 0 && d.InReplyTo != tt.refs[n-1] {
				t.Errorf("In-Reply-To = %q", d.InReplyTo)
			}
			if d.Body != tt.body {
				t.Errorf("Body =\n%q\nwant\n%q", d.Body, tt.body)
			}
			if d.From != me {
				t.Errorf("From = %v", d.From)
			}
			var b bytes.Buffer
			if err := Build(d, &b); err != nil {
				t.Fatalf("Build(reply): %v", err)
			}
		})
	}
}

func TestStripPrefixes(t *testing.T) {
	tests := []struct{ in, reply, forward string }{
		{"hello", "hello", "hello"},
		{"Re: hello", "hello", "Re: hello"},
		{"RE: Re: AW: hello", "hello", "RE: Re: AW: hello"},
		{"Re[2]: hello", "hello", "Re[2]: hello"},
		{"Fwd: FW: hello", "Fwd: FW: hello", "hello"},
		{"Re: Fwd: hello", "Fwd: hello", "Re: Fwd: hello"},
		{"Ticket: 42", "Ticket: 42", "Ticket: 42"},
		{"  re :  spaced", "spaced", "re :  spaced"},
	}
	for _, tt := range tests {
		if got := stripPrefixes(tt.in, isReplyPrefix); got != tt.reply {
			t.Errorf("reply strip %q = %q, want %q", tt.in, got, tt.reply)
		}
		if got := stripPrefixes(tt.in, isForwardPrefix); got != tt.forward {
			t.Errorf("forward strip %q = %q, want %q", tt.in, got, tt.forward)
		}
	}
}

func TestForward(t *testing.T) {
	pdf := []byte("%PDF-1.4 \x00\x01\x02\xff binary")
	orig := msg([]string{
		"From: Ann <ann@example.com>",
		"To: me@example.org",
		"Date: Tue, 03 Mar 2026 14:05:00 +0100",
		"Subject: Fwd: the report",
		"Message-ID: <r@example.com>",
		`Content-Type: multipart/mixed; boundary="outer"`,
	}, "--outer\n"+
		`Content-Type: multipart/alternative; boundary="inner"`+"\n\n"+
		"--inner\nContent-Type: text/plain; charset=utf-8\n\nHere it is.\n"+
		"--inner\nContent-Type: text/html\n\n<p>Here it is.</p>\n--inner--\n"+
		"--outer\nContent-Type: application/pdf; name=\"r.pdf\"\nContent-Disposition: attachment; filename*=utf-8''r%C3%A9port.pdf\nContent-Transfer-Encoding: base64\n\n"+
		"JVBERi0xLjQgAAEC/yBiaW5hcnk=\n"+
		"--outer\nContent-Type: text/plain; charset=iso-8859-1\nContent-Disposition: attachment; filename=notes.txt\n\ncaf\xe9\n"+
		"--outer\nContent-Type: image/png\n\nPNGDATA\n"+
		"--outer--\n")
	d, err := Forward(strings.NewReader(orig), me)
	if err != nil {
		t.Fatal(err)
	}
	if d.Subject != "Fwd: the report" {
		t.Errorf("Subject = %q", d.Subject)
	}
	if len(d.To) != 0 || d.InReplyTo != "" {
		t.Errorf("To = %v, In-Reply-To = %q", d.To, d.InReplyTo)
	}
	wantBody := forwardMarker + "\nFrom: Ann <ann@example.com>\nDate: Tue, 03 Mar 2026 14:05:00 +0100\n" +
		"Subject: Fwd: the report\nTo: me@example.org\n\nHere it is.\n"
	if d.Body != wantBody {
		t.Errorf("Body =\n%q\nwant\n%q", d.Body, wantBody)
	}
	d.To = []Address{{Addr: "bob@example.net"}}
	var b bytes.Buffer
	if err := Build(d, &b); err != nil {
		t.Fatal(err)
	}
	p := parseBuilt(t, b.Bytes())
	want := map[string]string{"réport.pdf": string(pdf), "notes.txt": "café", "part-3.png": "PNGDATA"}
	if len(p.attachments) != len(want) {
		t.Errorf("attachments %v, want %d", keys(p.attachments), len(want))
	}
	for name, data := range want {
		if got, ok := p.attachments[name]; !ok || string(got) != data {
			t.Errorf("attachment %q = %q (present %v), want %q", name, got, ok, data)
		}
	}
	if p.types["notes.txt"] != "text/plain" {
		t.Errorf("notes.txt type %q", p.types["notes.txt"])
	}
}

// FuzzReply feeds arbitrary bytes as the original message to Reply and
// Forward. They must not panic, and a draft they return must build.
func FuzzReply(f *testing.F) {
	seeds := []string{
		plainOriginal,
		"",
		"From: a@b\r\n\r\n",
		"Subject: =?utf-8?q?x=0D=0ABcc:_evil@x?=\r\nFrom: =?utf-8?b?QQ0KQg==?= <a@b.c>\r\nMessage-ID: <a\r\n b@c>\r\n\r\nx",
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x--",
		"Content-Type: text/html\r\n\r\n" + strings.Repeat("<div>", 1000) + "deep",
		"Content-Type: text/plain; format=flowed; delsp=yes\r\n\r\n>>> a \r\n b\r\n-- \r\nsig",
		"From: \"x\" <\"quoted local\"@example.com>\r\nReply-To: undisclosed-recipients:;\r\nTo: g: a@b.c, d@e.f;\r\n\r\n",
		"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!",
		"Content-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfe",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, all := range []bool{false, true} {
			d, err := Reply(bytes.NewReader(data), me, all)
			if err != nil {
				continue
			}
			if err := Build(d, io.Discard); err != nil {
				t.Fatalf("Build(Reply(all=%v)): %v", all, err)
			}
		}
		d, err := Forward(bytes.NewReader(data), me)
		if err != nil {
			return
		}
		if err := Build(d, io.Discard); err != nil {
			t.Fatalf("Build(Forward): %v", err)
		}
	})
}
