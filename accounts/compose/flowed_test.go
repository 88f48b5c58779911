package compose

import (
	"strings"
	"testing"
	"unicode/utf8"
)

const longParagraph = "The quarterly report is attached. Please read it before Thursday, " +
	"because we will go through the numbers together and I would like everyone to " +
	"have seen the third section, which changed a lot since the draft of last month."

func TestEncodeFlowed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "short", in: "Hello\nWorld", want: "Hello\r\nWorld"},
		{name: "trailing spaces trimmed", in: "Hello   \nWorld\t", want: "Hello\r\nWorld"},
		{name: "signature kept", in: "Bye\n-- \nAnn", want: "Bye\r\n-- \r\nAnn"},
		{name: "stuff From", in: "From here on", want: " From here on"},
		{name: "stuff leading space", in: "  indented", want: "   indented"},
		{name: "quoted", in: "> quoted\n>> deeper\n>", want: "> quoted\r\n>> deeper\r\n>"},
		{name: "quoted without space", in: ">tight", want: "> tight"},
		{
			name: "wrap",
			in:   strings.Repeat("word ", 20) + "end",
			want: strings.TrimSuffix(strings.Repeat("word ", 15), "") + "\r\n" + strings.Repeat("word ", 5) + "end",
		},
		{
			name: "quoted wrap keeps prefix",
			in:   "> " + strings.Repeat("word ", 20) + "end",
			want: "> " + strings.Repeat("word ", 15) + "\r\n> " + strings.Repeat("word ", 5) + "end",
		},
		{
			name: "continuation starting with > is stuffed",
			in:   strings.Repeat("x", 74) + " >not a quote",
			want: strings.Repeat("x", 74) + " \r\n >not a quote",
		},
		{
			name: "long word not split",
			in:   "see " + strings.Repeat("u", 100) + " ok",
			want: "see \r\n" + strings.Repeat("u", 100) + " \r\nok",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := encodeFlowed(tt.in); got != tt.want {
				t.Errorf("encodeFlowed(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFlowedRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "paragraph", in: longParagraph},
		{name: "paragraphs", in: longParagraph + "\n\n" + longParagraph + "\nshort line"},
		{name: "unicode", in: strings.Repeat("Grüße aus Köln, ", 12) + "Ende."},
		{name: "quoted", in: "> " + longParagraph + "\n>> " + longParagraph + "\n\nmy answer"},
		{name: "double spaces", in: strings.Repeat("a  b ", 30) + "c"},
		{name: "stuffed lines", in: "From me\n  indented " + longParagraph + "\n>quote"},
		{name: "leading empty line", in: "\nbody"},
		{name: "signature", in: longParagraph + "\n-- \nAnn Lee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := encodeFlowed(tt.in)
			for _, l := range strings.Split(enc, "\r\n") {
				if n := utf8.RuneCountInString(l); n > flowedWidth && strings.Contains(strings.TrimRight(l, " "), " ") {
					t.Errorf("line of %d characters: %q", n, l)
				}
			}
			want := quoteNormal(tt.in)
			if got := decodeFlowed(enc, false); got != want {
				t.Errorf("decodeFlowed(encodeFlowed(x)) =\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// quoteNormal writes quoted lines the way decodeFlowed returns them.
func quoteNormal(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if d := quoteDepth(l); d > 0 {
			rest := strings.TrimPrefix(l[d:], " ")
			lines[i] = l[:d]
			if rest != "" {
				lines[i] += " " + rest
			}
		}
	}
	return strings.Join(lines, "\n")
}

func TestDecodeFlowedDelSp(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		delSp bool
		want  string
	}{
		{name: "delsp no", in: "abc \r\ndef", want: "abc def"},
		{name: "delsp yes", in: "abc \r\ndef", delSp: true, want: "abcdef"},
		{name: "depth change ends paragraph", in: "> abc \r\ndef", want: "> abc \ndef"},
		{name: "signature not flowed", in: "-- \r\nsig", want: "-- \nsig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeFlowed(tt.in, tt.delSp); got != tt.want {
				t.Errorf("decodeFlowed(%q, %v) = %q, want %q", tt.in, tt.delSp, got, tt.want)
			}
		})
	}
}
