package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of the query language. They keep the compiled SQL and the FTS5
// expression well inside SQLite's expression depth and FTS5's parser stack.
const (
	maxQueryTerms = 256
	maxQueryDepth = 10
)

// Query is a parsed search query; see ParseQuery for the language. The zero
// Query is not valid. A Query is immutable and safe for concurrent use.
type Query struct {
	root qnode
}

// qnode is one node of the syntax tree: *qAnd, *qOr, *qNot or a leaf.
type qnode interface {
	// prec is the binding strength: OR 1, AND 2, NOT 3, leaves 4.
	prec() int
}

type (
	qAnd struct{ kids []qnode }
	qOr  struct{ kids []qnode }
	qNot struct{ kid qnode }
	// qleaf is embedded by the leaf node types.
	qleaf struct{}
	// qText is a full-text term; field is "" (all columns), "from",
	// "to", "cc", "subject" or "body".
	qText struct {
		qleaf
		field, value string
		prefix       bool
	}
	// qFlag is is:NAME, name one of the documented values, lowercase.
	qFlag struct {
		qleaf
		name string
	}
	qAttach struct{ qleaf }
	// qDate is before:, after: or on: a calendar day.
	qDate struct {
		qleaf
		op   string
		date time.Time // midnight UTC of the day; only Y-M-D is used
	}
	// qSize is larger: or smaller: a number of bytes.
	qSize struct {
		qleaf
		op    string
		bytes int64
	}
	// qMailbox is in:NAME; "INBOX" is stored uppercase.
	qMailbox struct {
		qleaf
		name string
	}
)

func (*qOr) prec() int  { return 1 }
func (*qAnd) prec() int { return 2 }
func (*qNot) prec() int { return 3 }
func (qleaf) prec() int { return 4 }

// QueryError reports a malformed query. Pos is the byte offset of the
// problem in Query, counting from 0; Error reports it counting from 1, as
// editors count columns. It wraps ErrInvalid.
type QueryError struct {
	Pos   int
	Msg   string
	Query string
}

// Error formats the error as `query: MSG at position N`.
func (e *QueryError) Error() string {
	return fmt.Sprintf("query: %s at position %d", e.Msg, e.Pos+1)
}

// Unwrap returns ErrInvalid, so errors.Is(err, ErrInvalid) holds.
func (e *QueryError) Unwrap() error { return ErrInvalid }

// Caret renders the query and, on a second line, a caret under the byte at
// Pos, for showing the error in a terminal. Control characters are shown as
// spaces; every other rune is assumed to take one column.
func (e *QueryError) Caret() string {
	var line, mark strings.Builder
	for i, r := range e.Query {
		if r != '\t' && (unicode.IsControl(r) || unicode.IsSpace(r)) {
			r = ' '
		}
		line.WriteRune(r)
		if i < e.Pos {
			if r == '\t' {
				mark.WriteByte('\t')
			} else {
				mark.WriteByte(' ')
			}
		}
	}
	return line.String() + "\n" + mark.String() + "^"
}

// ParseQuery parses a search query. The language:
//
//	word           messages whose From, To, Cc, Subject or body contain the
//	               word; case and diacritics are ignored (café finds CAFE)
//	word*          any word starting with "word"
//	"two words"    the words next to each other, in that order; "two words"*
//	               makes the last one a prefix
//	from:ann       the word in one field: from:, to:, cc:, subject:, body:.
//	               The value may be quoted (subject:"q3 report") and may end
//	               in * (subject:rep*, subject:"q3 rep"*); a value with
//	               punctuation, such as from:ann@example.com, is matched as
//	               the phrase "ann example com"
//	has:attachment messages with an attachment
//	is:unread      also is:read, is:flagged, is:unflagged, is:answered,
//	               is:draft, is:deleted
//	after:D        dated on day D or later (D is YYYY-MM-DD)
//	before:D       dated before day D (day D excluded), so after:D and
//	               before:D together cover every date exactly once
//	on:D           dated on day D
//	in:NAME        in the mailbox of exactly that name, quoted if it has
//	               spaces (in:"Old mail"); INBOX in any case is INBOX
//	larger:N       more than N bytes; N may end in k, M or G (times 1024,
//	               1024², 1024³; any case, a trailing B is allowed): larger:10k
//	smaller:N      less than N bytes
//
// Terms combine:
//
//	a b            both (AND is implicit; the keyword AND may be written)
//	a OR b         either
//	-a   NOT a     not a; applies to a term or a group: -(a OR b)
//	( ... )        grouping
//
// NOT binds tighter than AND, AND tighter than OR: "a b OR c" means
// "(a b) OR c" and "-a b" means "(-a) b".
//
// Lexical rules: terms are separated by white space and parentheses. A
// double-quoted string is one word or phrase; inside it, \" is a quote and
// \\ a backslash. OR, AND and NOT are keywords only in uppercase and
// unquoted ("or" is a word). A term NAME:VALUE whose NAME is letters is a
// field: field names and the values of is: and has: are case-insensitive, any
// value may be quoted, and an unknown name is an error (quote the term to
// search for it: "http://example.com"). A - negates only written directly
// before a term, so e-mail is one word. Words without letters or digits
// match nothing.
//
// Days are calendar days in the location passed when the query is run (UTC
// when none). A query has at most 256 terms and at most 10 levels of
// parentheses and negations; control characters and invalid UTF-8 are
// rejected. Errors are *QueryError and wrap ErrInvalid.
func ParseQuery(s string) (*Query, error) {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return nil, qerr(s, i, "invalid UTF-8")
		case unicode.IsControl(r) && !unicode.IsSpace(r):
			return nil, qerr(s, i, fmt.Sprintf("control character %U", r))
		}
	}
	toks, err := lexQuery(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, qerr(s, 0, "empty query")
	}
	p := &queryParser{q: s, toks: toks}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t != nil { // only a ')' stops parseOr early
		return nil, qerr(s, t.pos, "unbalanced parenthesis: ) without (")
	}
	return &Query{root: root}, nil
}

func qerr(q string, pos int, msg string) *QueryError {
	return &QueryError{Pos: pos, Msg: msg, Query: q}
}

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
		if strings.EqualFold(v, "INBOX") {
			v = "INBOX"
		}
		tok.node = &qMailbox{name: v}
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

type queryParser struct {
	q     string
	toks  []qtoken
	i     int
	depth int
}

func (p *queryParser) peek() *qtoken {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *queryParser) at(k qtokKind) bool { t := p.peek(); return t != nil && t.kind == k }

// startsTerm reports whether the next token can begin an operand.
func (p *queryParser) startsTerm() bool {
	return p.at(qtokTerm) || p.at(qtokLParen) || p.at(qtokNot)
}

func (p *queryParser) needTermAfter(t *qtoken) error {
	if p.startsTerm() {
		return nil
	}
	return qerr(p.q, t.pos, fmt.Sprintf("%q needs a term after it", t.text))
}

// parseOr parses: and { "OR" and }.
func (p *queryParser) parseOr() (qnode, error) {
	var kids []qnode
	for {
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
		if !p.at(qtokOr) {
			return joinQuery(kids, false), nil
		}
		t := p.peek()
		p.i++
		if err := p.needTermAfter(t); err != nil {
			return nil, err
		}
	}
}

// parseAnd parses: unary { ["AND"] unary }.
func (p *queryParser) parseAnd() (qnode, error) {
	var kids []qnode
	for {
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
		if t := p.peek(); t != nil && t.kind == qtokAnd {
			p.i++
			if err := p.needTermAfter(t); err != nil {
				return nil, err
			}
		} else if !p.startsTerm() {
			return joinQuery(kids, true), nil
		}
	}
}

// parseUnary parses: ("-" | "NOT") unary | "(" or ")" | term.
func (p *queryParser) parseUnary() (qnode, error) {
	t := p.peek()
	if t == nil {
		return nil, qerr(p.q, len(p.q), "unexpected end of query")
	}
	p.i++
	switch t.kind {
	case qtokTerm:
		return t.node, nil
	case qtokOr, qtokAnd:
		return nil, qerr(p.q, t.pos, fmt.Sprintf("%q needs a term before it", t.text))
	case qtokRParen:
		return nil, qerr(p.q, t.pos, "unbalanced parenthesis: ) without (")
	}
	if p.depth++; p.depth > maxQueryDepth {
		return nil, qerr(p.q, t.pos, fmt.Sprintf("nested too deeply (at most %d levels)", maxQueryDepth))
	}
	defer func() { p.depth-- }()
	if t.kind == qtokNot {
		if err := p.needTermAfter(t); err != nil {
			return nil, err
		}
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &qNot{kid: n}, nil
	}
	if p.at(qtokRParen) { // tokLParen
		return nil, qerr(p.q, t.pos, "empty group ()")
	}
	if p.peek() == nil {
		return nil, qerr(p.q, t.pos, "unbalanced parenthesis: ( is not closed")
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if !p.at(qtokRParen) {
		return nil, qerr(p.q, t.pos, "unbalanced parenthesis: ( is not closed")
	}
	p.i++
	return n, nil
}

// joinQuery makes an AND or OR node of kids, flattening nested nodes of the
// same kind; a single kid is returned as it is.
func joinQuery(kids []qnode, and bool) qnode {
	if len(kids) == 1 {
		return kids[0]
	}
	var flat []qnode
	for _, k := range kids {
		switch k := k.(type) {
		case *qAnd:
			if and {
				flat = append(flat, k.kids...)
				continue
			}
		case *qOr:
			if !and {
				flat = append(flat, k.kids...)
				continue
			}
		}
		flat = append(flat, k)
	}
	if and {
		return &qAnd{kids: flat}
	}
	return &qOr{kids: flat}
}
