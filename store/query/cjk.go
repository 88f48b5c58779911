package query

import (
	"strings"
	"unicode"
)

// Chinese, Japanese and Korean text has no spaces between words, and
// FTS5's unicode61 tokenizer makes one token of a whole run of Han,
// Hiragana, Katakana or Hangul, so 報告書 was not found in 第三四半期報告書.
// As Xapian and Lucene's CJK analyzers do, both the indexed text and the
// query are cut into overlapping bigrams:
//
//   - IndexCJK (the store, before it writes a full-text row) replaces
//     each run by its bigrams and its last character, as separate
//     tokens: 第三四半期報告書 → 第三 三四 四半 半期 期報 報告 告書 書;
//   - a query term's run becomes the phrase of its bigrams (報告書 →
//     "報告 告書"), which matches wherever the run occurs as a substring;
//     a run of one character at the end of a term is a prefix token
//     (報 → "報" *), which finds it at the start of a bigram or as the
//     last character of a run.
//
// Text without such characters is returned as it is, so other scripts
// index and search exactly as before.

// isCJK reports the characters that are cut into bigrams.
func isCJK(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case unicode.Is(unicode.Han, r), unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r),
		unicode.Is(unicode.Hangul, r):
		return true
	case r == 0x30FC || r == 0xFF70 || r == 0x3005: // ー, ｰ, 々
		return true
	}
	return false
}

// hasCJK reports whether s has a character isCJK accepts.
func hasCJK(s string) bool {
	for _, r := range s {
		if r >= 0x1100 && isCJK(r) {
			return true
		}
	}
	return false
}

// IndexCJK returns text with every CJK run replaced by its bigrams and
// its last character, space-separated, for the full-text index.
func IndexCJK(text string) string {
	if !hasCJK(text) {
		return text
	}
	return cutCJK(text, func(b *strings.Builder, run []rune) {
		for i := 0; i+1 < len(run); i++ {
			b.WriteString(string(run[i : i+2]))
			b.WriteByte(' ')
		}
		b.WriteString(string(run[len(run)-1:]))
	})
}

// queryCJK returns a query term's value with every CJK run replaced by
// its bigrams (a run of one character by itself), space-separated, and
// whether the last token is a lone character that should be a prefix.
func queryCJK(value string) (string, bool) {
	if !hasCJK(value) {
		return value, false
	}
	loneLast := false
	out := cutCJK(value, func(b *strings.Builder, run []rune) {
		loneLast = len(run) == 1
		if len(run) == 1 {
			b.WriteString(string(run))
			return
		}
		for i := 0; i+1 < len(run); i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(string(run[i : i+2]))
		}
	})
	// A lone character is a prefix only when nothing follows it.
	rs := []rune(strings.TrimRight(value, " "))
	if len(rs) == 0 || !isCJK(rs[len(rs)-1]) {
		loneLast = false
	}
	return out, loneLast
}

// cutCJK copies s, writing each CJK run through emit between spaces.
func cutCJK(s string, emit func(b *strings.Builder, run []rune)) string {
	var b strings.Builder
	b.Grow(len(s) * 2)
	var run []rune
	flush := func() {
		if len(run) == 0 {
			return
		}
		b.WriteByte(' ')
		emit(&b, run)
		b.WriteByte(' ')
		run = run[:0]
	}
	for _, r := range s {
		if isCJK(r) {
			run = append(run, r)
			continue
		}
		flush()
		b.WriteRune(r)
	}
	flush()
	return b.String()
}
