package compose

import (
	"reflect"
	"strings"
	"testing"
)

func TestMsgIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"<a@b>", []string{"a@b"}},
		{" <a@b> (comment)\t<c@d>", []string{"a@b", "c@d"}},
		{"<no-at> <a b@c> <ok@x> <unclosed@x", []string{"ok@x"}},
		{"<<nested@x>>", []string{"nested@x"}},
	}
	for _, tt := range tests {
		if got := msgIDs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("msgIDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReadOriginalLenient(t *testing.T) {
	raw := msg([]string{
		"From: =?utf-8?q?Evil=0D=0ABcc:_x?= <ann@example.com>",
		"To: good@example.com, broken@, also-good@example.com",
		"Cc: undisclosed-recipients:;",
		"Subject: =?x-unknown?q?abc?=",
		"Date: not a date",
		"Message-ID: no brackets@example.com",
	}, "text")
	o, err := readOriginal(strings.NewReader(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.from) != 1 || o.from[0].Name != "Evil Bcc: x" || o.from[0].Addr != "ann@example.com" {
		t.Errorf("from = %#v", o.from)
	}
	if got := addrs(o.to); !reflect.DeepEqual(got, []string{"good@example.com", "also-good@example.com"}) {
		t.Errorf("to = %q", got)
	}
	if len(o.cc) != 0 || !o.date.IsZero() || o.messageID != "" || o.text != "text" {
		t.Errorf("cc %v date %v id %q text %q", o.cc, o.date, o.messageID, o.text)
	}
	if o.subject == "" || strings.ContainsAny(o.subject, "\r\n") {
		t.Errorf("subject %q", o.subject)
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "paragraphs", in: "<p>one</p><p>two</p>", want: "one\n\ntwo"},
		{name: "inline spacing", in: "a<b>b</b> c <i>d</i>", want: "ab c d"},
		{name: "br", in: "line<br>next<br/>last", want: "line\nnext\nlast"},
		{name: "entities", in: "<p>Fish &amp; chips &lt;3</p>", want: "Fish & chips <3"},
		{name: "list", in: "<ul><li>one</li><li>two</li></ul>", want: "- one\n\n- two"},
		{name: "links", in: `<a href="https://x.example/">site</a> <a href="#top">top</a> <a href="javascript:x()">js</a>`, want: "site <https://x.example/> top js"},
		{name: "hidden parts", in: "<head><title>T</title><style>p{}</style></head><script>bad()</script>shown", want: "shown"},
		{name: "pre keeps layout", in: "<pre>a  b\n  c</pre>after", want: "a  b\n  c\n\nafter"},
		{name: "image alt", in: `<img alt="logo"> text`, want: "[logo] text"},
		{name: "deep nesting", in: strings.Repeat("<div>", 5000) + "deep" + strings.Repeat("</div>", 5000), want: "deep"},
		{name: "unclosed junk", in: "<p>a<b><i>b", want: "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlToText(tt.in); got != tt.want {
				t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAttachmentNaming(t *testing.T) {
	tests := []struct {
		name, mediaType string
		params          map[string]string
		undecoded       bool
		wantName        string
		wantType        string
	}{
		{name: "given", mediaType: "application/pdf", wantName: "given", wantType: "application/pdf"},
		{mediaType: "message/rfc822", wantName: "part-3.eml", wantType: "message/rfc822"},
		{mediaType: "x-unknown/thing", wantName: "part-3.bin", wantType: "x-unknown/thing"},
		{mediaType: "text/plain", params: map[string]string{"charset": "iso-8859-1"}, wantName: "part-3.txt", wantType: "text/plain; charset=utf-8"},
		{mediaType: "text/plain", params: map[string]string{"charset": "x-klingon"}, undecoded: true, wantName: "part-3.txt", wantType: "text/plain; charset=x-klingon"},
		{mediaType: "", wantName: "part-3.bin", wantType: "application/octet-stream"},
	}
	for _, tt := range tests {
		if name := attachmentName(tt.name, tt.mediaType, 3); name != tt.wantName {
			t.Errorf("attachmentName(%q, %q) = %q, want %q", tt.name, tt.mediaType, name, tt.wantName)
		}
		if got := attachmentType(tt.mediaType, tt.params, tt.undecoded); got != tt.wantType {
			t.Errorf("attachmentType(%q, %v, %v) = %q, want %q", tt.mediaType, tt.params, tt.undecoded, got, tt.wantType)
		}
	}
}
