package query

// The lexer of the query language: tokens, terms and field values.

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

type qtokKind int

const (
	qtokTerm qtokKind = iota
	qtokLParen
	qtokRParen
	qtokOr
	qtokAnd
	qtokNot // "-" or "NOT"
)

type qtoken struct {
	kind qtokKind
	pos  int
	text string
	node qnode // for qtokTerm
}

// lexQuery splits s into tokens; terms are parsed into leaves on the way.
func lexQuery(s string) ([]qtoken, error) {
	var toks []qtoken
	terms := 0
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += w
		case r == '(':
			toks = append(toks, qtoken{kind: qtokLParen, pos: i, text: "("})
			i++
		case r == ')':
			toks = append(toks, qtoken{kind: qtokRParen, pos: i, text: ")"})
			i++
		case r == '-':
			if next, _ := utf8.DecodeRuneInString(s[i+1:]); i+1 == len(s) || unicode.IsSpace(next) {
				return nil, qerr(s, i, `"-" needs a term after it`)
			}
			toks = append(toks, qtoken{kind: qtokNot, pos: i, text: "-"})
			i++
		default:
			t, end, err := lexQueryTerm(s, i)
			if err != nil {
				return nil, err
			}
			if t.kind == qtokTerm {
				if terms++; terms > maxQueryTerms {
					return nil, qerr(s, i, fmt.Sprintf("too many terms (at most %d)", maxQueryTerms))
				}
			}
			toks = append(toks, t)
			i = end
		}
	}
	return toks, nil
}

// lexQueryTerm reads the keyword, word, phrase or field term at s[i:] and
// returns it with the offset just past it.
func lexQueryTerm(s string, i int) (qtoken, int, error) {
	if s[i] == '"' {
		v, end, err := lexQueryQuoted(s, i)
		if err != nil {
			return qtoken{}, 0, err
		}
		prefix := strings.HasPrefix(s[end:], "*")
		if prefix {
			end++
		}
		if v == "" {
			return qtoken{}, 0, qerr(s, i, "empty phrase")
		}
		return qtoken{kind: qtokTerm, pos: i, node: &qText{value: v, prefix: prefix}}, end, nil
	}
	end := queryWordEnd(s, i)
	word := s[i:end]
	switch word {
	case "OR":
		return qtoken{kind: qtokOr, pos: i, text: word}, end, nil
	case "AND":
		return qtoken{kind: qtokAnd, pos: i, text: word}, end, nil
	case "NOT":
		return qtoken{kind: qtokNot, pos: i, text: word}, end, nil
	}
	if k := strings.IndexByte(word, ':'); k > 0 && isFieldName(word[:k]) {
		return lexQueryField(s, i, end, k)
	}
	v := strings.TrimRight(word, "*")
	if v == "" {
		return qtoken{}, 0, qerr(s, i, `"*" needs a word before it`)
	}
	return qtoken{kind: qtokTerm, pos: i, node: &qText{value: v, prefix: len(v) < len(word)}}, end, nil
}

// lexQueryField reads the field term s[i:end]; s[i+k] is the colon.
func lexQueryField(s string, i, end, k int) (qtoken, int, error) {
	field := strings.ToLower(s[i : i+k])
	if !isQueryField(field) {
		return qtoken{}, 0, qerr(s, i, fmt.Sprintf("unknown field %q", s[i:i+k+1]))
	}
	vpos, v, quoted := i+k+1, s[i+k+1:end], false
	if v == "" {
		if !strings.HasPrefix(s[end:], `"`) {
			return qtoken{}, 0, qerr(s, i, fmt.Sprintf("%s: needs a value", field))
		}
		var err error
		if v, end, err = lexQueryQuoted(s, end); err != nil {
			return qtoken{}, 0, err
		}
		if v == "" {
			return qtoken{}, 0, qerr(s, vpos, fmt.Sprintf("%s: needs a value", field))
		}
		quoted = true
	}
	tok := qtoken{kind: qtokTerm, pos: i}
	lower := strings.ToLower(v)
	switch field {
	case "from", "to", "cc", "subject", "body":
		t := &qText{field: field, value: v}
		if quoted {
			t.prefix = strings.HasPrefix(s[end:], "*")
			if t.prefix {
				end++
			}
		} else if t.value = strings.TrimRight(v, "*"); t.value == "" {
			return qtoken{}, 0, qerr(s, vpos, `"*" needs a word before it`)
		} else {
			t.prefix = len(t.value) < len(v)
		}
		tok.node = t
	case "is":
		switch lower {
		case "unread", "read", "flagged", "unflagged", "answered", "draft", "deleted":
			tok.node = &qFlag{name: lower}
		default:
			return qtoken{}, 0, qerr(s, vpos, fmt.Sprintf("unknown is: value %q", v))
		}
	case "has":
		if lower != "attachment" {
			return qtoken{}, 0, qerr(s, vpos, fmt.Sprintf("unknown has: value %q (want attachment)", v))
		}
		tok.node = &qAttach{}
	case "before", "after", "on":
		d, err := time.Parse(time.DateOnly, v)
		if err != nil || len(v) != len(time.DateOnly) {
			return qtoken{}, 0, qerr(s, vpos, fmt.Sprintf("bad date %q (want YYYY-MM-DD)", v))
		}
		tok.node = &qDate{op: field, date: d}
	case "larger", "smaller":
		n, err := parseQuerySize(v)
		if err != nil {
			return qtoken{}, 0, qerr(s, vpos, fmt.Sprintf("bad size %q: %v", v, err))
		}
		tok.node = &qSize{op: field, bytes: n}
	case "in":
		tok.node = inMailbox(v)
	}
	return tok, end, nil
}

func isQueryField(f string) bool {
	switch f {
	case "from", "to", "cc", "subject", "body", "is", "has", "before", "after", "on", "in", "larger", "smaller":
		return true
	}
	return false
}

func isFieldName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// queryWordEnd returns the end of the bare word starting at s[i]: the next
// white space, parenthesis or double quote.
func queryWordEnd(s string, i int) int {
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' {
			break
		}
		i += w
	}
	return i
}

// lexQueryQuoted reads the quoted string starting at s[i] == '"' and returns
// its unescaped content and the offset past the closing quote.
func lexQueryQuoted(s string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return b.String(), j + 1, nil
		case c == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\'):
			b.WriteByte(s[j+1])
			j++
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, qerr(s, i, "unbalanced quote: \" is not closed")
}

// parseQuerySize parses a byte count such as 500, 10k, 2M or 1GB.
func parseQuerySize(v string) (int64, error) {
	digits := strings.TrimRightFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	unit := int64(1)
	switch strings.ToLower(v[len(digits):]) {
	case "", "b":
	case "k", "kb":
		unit = 1 << 10
	case "m", "mb":
		unit = 1 << 20
	case "g", "gb":
		unit = 1 << 30
	default:
		return 0, fmt.Errorf("unknown unit (want k, M or G)")
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 || digits[0] == '+' || digits[0] == '-' {
		return 0, fmt.Errorf("want a number of bytes")
	}
	if n > (1<<63-1)/unit {
		return 0, fmt.Errorf("too large")
	}
	return n * unit, nil
}
