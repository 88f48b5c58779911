package query

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every *Error: the query is malformed.
var ErrInvalid = errors.New("invalid query")

// Limits of the query language. They keep the compiled SQL and the FTS5
// expression well inside SQLite's expression depth and FTS5's parser stack.
const (
	maxQueryTerms = 256
	maxQueryDepth = 10
)

// Query is a parsed search query; see Parse for the language. The zero
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

// Error reports a malformed query. Pos is the byte offset of the
// problem in Query, counting from 0; Error reports it counting from 1, as
// editors count columns. It wraps ErrInvalid.
type Error struct {
	Pos   int
	Msg   string
	Query string
}

// Error formats the error as `query: MSG at position N`.
func (e *Error) Error() string {
	return fmt.Sprintf("query: %s at position %d", e.Msg, e.Pos+1)
}

// Unwrap returns ErrInvalid, so errors.Is(err, ErrInvalid) holds.
func (e *Error) Unwrap() error { return ErrInvalid }

// Caret renders the query and, on a second line, a caret under the byte at
// Pos, for showing the error in a terminal. Control characters are shown as
// spaces; every other rune is assumed to take one column.
func (e *Error) Caret() string {
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

// Parse parses a search query. The language:
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
// rejected. Errors are *Error and wrap ErrInvalid.
func Parse(s string) (*Query, error) {
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

func qerr(q string, pos int, msg string) *Error {
	return &Error{Pos: pos, Msg: msg, Query: q}
}
