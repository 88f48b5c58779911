package compose

import (
	"errors"
	"mime"
	"strings"
	"testing"
)

func TestEncodeWords(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		phrase bool
		want   string // "" to check only the round trip and word lengths
	}{
		{name: "ascii untouched", in: "Quarterly report (final)", want: "Quarterly report (final)"},
		{name: "looks encoded", in: "=?x?", want: "=?utf-8?q?=3D=3Fx=3F?="},
		{name: "unstructured", in: "Grüße, Ann", want: "=?utf-8?q?Gr=C3=BC=C3=9Fe,_Ann?="},
		{name: "phrase is stricter", in: "Grüße, Ann", phrase: true, want: "=?utf-8?q?Gr=C3=BC=C3=9Fe=2C_Ann?="},
		{name: "long text splits between characters", in: strings.Repeat("日本語のテキスト", 8)},
		{name: "control characters", in: "tab\there bell\a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeWords(tt.in, tt.phrase)
			if tt.want != "" && got != tt.want {
				t.Errorf("encodeWords(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, w := range strings.Fields(got) {
				if len(w) > 75 {
					t.Errorf("encoded word of %d characters: %q", len(w), w)
				}
			}
			dec, err := new(mime.WordDecoder).DecodeHeader(got)
			if err != nil || dec != tt.in {
				t.Errorf("decoded back to %q, %v; want %q", dec, err, tt.in)
			}
		})
	}
}

func TestFoldField(t *testing.T) {
	long := strings.Repeat("word ", 30) + "end"
	tests := []struct {
		name, key, value string
		want             string
		unbounded        bool // no fold point exists
	}{
		{name: "short", key: "Subject", value: "hi there", want: "Subject: hi there\r\n"},
		{name: "empty", key: "X-Empty", value: "", want: "X-Empty: \r\n"},
		{name: "long word stays whole", key: "X-Id", value: strings.Repeat("x", 100), want: "X-Id: " + strings.Repeat("x", 100) + "\r\n"},
		{name: "double spaces never folded", key: "Subject", value: strings.Repeat("a  ", 40), unbounded: true},
		{name: "folds at words", key: "Subject", value: long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := foldField(tt.key, tt.value)
			if tt.want != "" && got != tt.want {
				t.Errorf("foldField = %q, want %q", got, tt.want)
			}
			lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
			for i, l := range lines {
				if len(l) > foldWidth && !tt.unbounded && strings.Contains(strings.TrimSpace(l[len(tt.key)+1:]), " ") {
					t.Errorf("line %d has %d characters: %q", i, len(l), l)
				}
				if i > 0 && (!strings.HasPrefix(l, " ") || strings.TrimSpace(l) == "") {
					t.Errorf("bad continuation line %q", l)
				}
			}
			// Unfolding (RFC 5322 section 2.2.3) gives the value back.
			if back := strings.ReplaceAll(got, "\r\n ", " "); back != tt.key+": "+tt.value+"\r\n" {
				t.Errorf("unfolded %q", back)
			}
		})
	}
}

func TestHeaderChecks(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"field key", checkFieldKey("X-Mailer"), nil},
		{"field key with space", checkFieldKey("X Mailer"), ErrInvalidDraft},
		{"field key with colon", checkFieldKey("X:"), ErrInvalidDraft},
		{"field key with newline", checkFieldKey("X\nY"), ErrHeaderInjection},
		{"reserved field key", checkFieldKey("content-type"), ErrInvalidDraft},
		{"message id", checkMsgID("abc.def@example.org"), nil},
		{"message id with space", checkMsgID("a b@example.org"), ErrInvalidDraft},
		{"message id with bracket", checkMsgID("a>@example.org"), ErrInvalidDraft},
		{"message id with CR", checkMsgID("a@example.org\r"), ErrHeaderInjection},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) || (tt.want == nil) != (tt.err == nil) {
			t.Errorf("%s: error %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}
