package mime

import (
	"net/mail"
	"strings"
	"time"
)

// Date header parsing: the usual RFC 5322 form with its one layout,
// then the layouts real mail uses beside it.

// mimeDateLayouts are tried after net/mail.ParseDate, on a value whose
// comments and day name were removed.
func mimeDateLayouts() []string {
	return []string{
		"2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 MST",
		"2 Jan 2006 15:04 -0700",
		"2 Jan 2006 15:04:05",
		"2 Jan 06 15:04:05 -0700",
		"2 January 2006 15:04:05 -0700",
		"2-Jan-2006 15:04:05 -0700",
		"Jan 2 15:04:05 2006",
		"Jan 2 15:04:05 -0700 2006",
		"Jan 2 2006 15:04:05 -0700",
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05",
	}
}

// mimeDateLayout recognizes the usual shape of a Date field,
// "[Ddd, ]D[D] Mon YYYY HH:MM:SS +HHMM" (RFC 5322 section 3.3) with nothing
// around it, and returns the one layout of net/mail.ParseDate that fits it.
// net/mail tries its 48 layouts in turn and each miss allocates an error,
// so parsing a mailbox spent more on the misses than on the dates; for
// these values time.Parse with that layout gives what net/mail would
// (FuzzDateLayout).
func mimeDateLayout(v string) (string, bool) {
	layout := "2 Jan 2006 15:04:05 -0700"
	if len(v) > 5 && v[3] == ',' && v[4] == ' ' && mimeLetters(v[:3]) {
		v, layout = v[5:], "Mon, "+layout
	}
	i := 0
	for i < len(v) && i < 2 && mimeDigit(v[i]) {
		i++
	}
	// v[i:] is " Jan 2006 15:04:05 -0700": 24 bytes.
	if i == 0 || len(v)-i != 24 {
		return "", false
	}
	r := v[i:]
	ok := r[0] == ' ' && mimeLetters(r[1:4]) && r[4] == ' ' && mimeDigits(r[5:9]) && r[9] == ' ' &&
		mimeDigits(r[10:12]) && r[12] == ':' && mimeDigits(r[13:15]) && r[15] == ':' && mimeDigits(r[16:18]) &&
		r[18] == ' ' && (r[19] == '+' || r[19] == '-') && mimeDigits(r[20:24])
	return layout, ok
}

func mimeDigit(c byte) bool { return c >= '0' && c <= '9' }

func mimeDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !mimeDigit(s[i]) {
			return false
		}
	}
	return true
}

func mimeLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// mimeParseDate parses a Date field (RFC 5322 section 3.3) leniently; it
// returns the zero time and false when nothing fits.
func mimeParseDate(v string) (time.Time, bool) {
	if layout, ok := mimeDateLayout(v); ok {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t, true
	}
	var b strings.Builder
	depth := 0
	for _, r := range v {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if i := strings.IndexByte(s, ','); i >= 0 && i <= 10 {
		s = strings.TrimSpace(s[i+1:])
	} else if f := strings.Fields(s); len(f) > 0 && len(f[0]) == 3 && strings.Contains("MonTueWedThuFriSatSun", f[0]) {
		s = strings.TrimSpace(s[3:])
	}
	for _, layout := range mimeDateLayouts() {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
