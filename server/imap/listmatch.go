package imapd

import (
	"strings"

	"github.com/letterbox-mail/letterbox/store"
)

// LIST pattern matching (RFC 9051 section 6.3.9): "*" matches any
// characters, "%" any but the hierarchy separator. imapserver.MatchList
// backtracks, and takes time exponential in the number of wildcards
// ("*a*a*a*a*a*a*a*a*b" against a long name of a's runs for hours); this
// matcher runs the pattern as a set of states, one bit per pattern
// position, so a match costs O(len(name) * len(pattern) / 64).

// listPattern is a compiled pattern.
type listPattern struct {
	n     int               // positions; bit n is "whole pattern matched"
	star  []uint64          // positions holding "*"
	pct   []uint64          // positions holding "%"
	lit   map[byte][]uint64 // positions holding that byte
	never bool              // matches no name a store can hold
}

// compileListPattern compiles a pattern. Runs of wildcards are collapsed
// ("*%" is "*", "%%" is "%"), so the epsilon closure is one step.
func compileListPattern(pattern string) *listPattern {
	var b strings.Builder
	literal := 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '*' && c != '%' {
			b.WriteByte(c)
			literal++
			continue
		}
		j := i
		for j < len(pattern) && (pattern[j] == '*' || pattern[j] == '%') {
			if pattern[j] == '*' {
				c = '*'
			}
			j++
		}
		b.WriteByte(c)
		i = j - 1
	}
	p := b.String()
	words := (len(p) + 1 + 63) / 64
	lp := &listPattern{n: len(p), star: make([]uint64, words), pct: make([]uint64, words), lit: map[byte][]uint64{}}
	if literal > store.MaxNameBytes {
		lp.never = true
		return lp
	}
	for i := 0; i < len(p); i++ {
		var m []uint64
		switch p[i] {
		case '*':
			m = lp.star
		case '%':
			m = lp.pct
		default:
			m = lp.lit[p[i]]
			if m == nil {
				m = make([]uint64, words)
				lp.lit[p[i]] = m
			}
		}
		m[i/64] |= 1 << (i % 64)
	}
	return lp
}

// match reports whether the pattern matches the whole of name.
func (lp *listPattern) match(name string) bool {
	if lp.never {
		return false
	}
	words := len(lp.star)
	cur := make([]uint64, words)
	next := make([]uint64, words)
	cur[0] = 1
	lp.closure(cur)
	for i := 0; i < len(name); i++ {
		c := name[i]
		lit := lp.lit[c]
		clear(next)
		any := false
		for w := 0; w < words; w++ {
			if lit != nil {
				adv := cur[w] & lit[w]
				next[w] |= adv << 1
				if w+1 < words {
					next[w+1] |= adv >> 63
				}
			}
			next[w] |= cur[w] & lp.star[w]
			if c != byte(delim) {
				next[w] |= cur[w] & lp.pct[w]
			}
		}
		lp.closure(next)
		for _, v := range next {
			if v != 0 {
				any = true
				break
			}
		}
		if !any {
			return false
		}
		cur, next = next, cur
	}
	return cur[lp.n/64]&(1<<(lp.n%64)) != 0
}

// closure adds, for every active wildcard, the position after it (a
// wildcard may match nothing).
func (lp *listPattern) closure(set []uint64) {
	var carry uint64
	for w := range set {
		wild := set[w] & (lp.star[w] | lp.pct[w])
		set[w] |= wild<<1 | carry
		carry = wild >> 63
	}
}

// listMatcher matches mailbox names against a LIST command's reference
// and patterns, as imapserver.MatchList does: a pattern starting with the
// separator ignores the reference; otherwise the reference, with a
// separator appended, is a literal prefix of the name.
type listMatcher struct {
	ref      string
	patterns []string
	compiled []*listPattern
}

func newListMatcher(ref string, patterns []string) *listMatcher {
	m := &listMatcher{ref: ref, patterns: patterns}
	for _, p := range patterns {
		m.compiled = append(m.compiled, compileListPattern(strings.TrimPrefix(p, string(delim))))
	}
	return m
}

// match reports whether name matches one of the patterns. INBOX matches
// case-insensitively (RFC 9051 section 5.1).
func (m *listMatcher) match(name string) bool {
	for i, p := range m.patterns {
		if matchOne(name, m.ref, p, m.compiled[i]) {
			return true
		}
		if name == store.Inbox && matchOne(name, strings.ToUpper(m.ref), strings.ToUpper(p), nil) {
			return true
		}
	}
	return false
}

func matchOne(name, ref, pattern string, lp *listPattern) bool {
	if strings.HasPrefix(pattern, string(delim)) {
		ref = ""
		pattern = pattern[1:]
	}
	if ref != "" {
		if !strings.HasSuffix(ref, string(delim)) {
			ref += string(delim)
		}
		if !strings.HasPrefix(name, ref) {
			return false
		}
		name = name[len(ref):]
	}
	if lp == nil {
		lp = compileListPattern(pattern)
	}
	return lp.match(name)
}
