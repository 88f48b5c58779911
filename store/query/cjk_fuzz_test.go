package query

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzIndexCJK: IndexCJK, which every message's text goes through on its
// way to the full-text index, returns text without CJK as it is; keeps
// every other character in order; and emits every pair of adjacent
// CJK characters of the input as a token, and each run's last
// character, so any substring of two or more matches (issue 15 item 2).
func FuzzIndexCJK(f *testing.F) {
	for _, s := range []string{"", "plain text", "第三四半期報告書", "Q3報告 budget", "보고서를 첨부합니다.",
		"プロジェクトの議事録を送ります。", "a報b", "報", "ー々ｰ", "\xff報告\xfe", "x\u3000y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := IndexCJK(s)
		if !hasCJK(s) {
			if out != s {
				t.Fatalf("IndexCJK(%q) = %q, want it unchanged", s, out)
			}
			return
		}
		if !utf8.ValidString(s) {
			// Each invalid byte becomes U+FFFD; the rest holds as below.
			s = string([]rune(s))
		}
		others := func(x string) string {
			return strings.Map(func(r rune) rune {
				if isCJK(r) || r == ' ' {
					return -1
				}
				return r
			}, x)
		}
		if a, b := others(s), others(out); a != b {
			t.Fatalf("IndexCJK(%q) = %q: the other characters %q became %q", s, out, a, b)
		}
		tokens := map[string]bool{}
		for _, tok := range strings.Fields(out) {
			tokens[tok] = true
		}
		rs := []rune(s)
		for i, r := range rs {
			if !isCJK(r) {
				continue
			}
			last := i+1 == len(rs) || !isCJK(rs[i+1])
			if want := string(rs[i : i+1]); last && !tokens[want] {
				t.Fatalf("IndexCJK(%q) = %q: the run's last character %q is no token", s, out, want)
			}
			if !last {
				if want := string(rs[i : i+2]); !tokens[want] {
					t.Fatalf("IndexCJK(%q) = %q: the bigram %q is no token", s, out, want)
				}
			}
		}
	})
}
