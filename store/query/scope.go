package query

// Scoping a query to a mailbox, on the syntax tree.

import (
	"slices"
	"strings"
)

// NamesMailbox reports whether q has an in: term anywhere, negated or not:
// such a query says itself which mailboxes it searches ("in:Archive
// report", "report -in:Trash"). A word or phrase that merely contains
// "in:" (subject:"check in:room") is not an in: term.
func (q *Query) NamesMailbox() bool {
	if q == nil {
		return false
	}
	var walk func(n qnode) bool
	walk = func(n qnode) bool {
		switch n := n.(type) {
		case *qMailbox:
			return true
		case *qAnd:
			return slices.ContainsFunc(n.kids, walk)
		case *qOr:
			return slices.ContainsFunc(n.kids, walk)
		case *qNot:
			return walk(n.kid)
		}
		return false
	}
	return walk(q.root)
}

// Scope confines q to one mailbox. It is the one rule by which a search
// or a count run in a mailbox is scoped: a query that names a mailbox
// itself (NamesMailbox) is returned unchanged, and so is any query when
// mailbox is ""; otherwise the result is q AND in:mailbox (q nil or zero
// gives in:mailbox alone). q itself is not changed. "INBOX" in any case is
// INBOX, as for in:. The String form of the result may be one term or one
// level of parentheses past what Parse accepts.
func Scope(q *Query, mailbox string) *Query {
	if mailbox == "" || q.NamesMailbox() {
		return q
	}
	in := inMailbox(mailbox)
	if q == nil || q.root == nil {
		return &Query{root: in}
	}
	return &Query{root: joinQuery([]qnode{q.root, in}, true)}
}

// SplitMailbox takes off a top-level in: term: one that is the whole query
// or is ANDed with the rest of it. It returns that term's mailbox and the
// rest of the query (nil when q is only in:NAME), so the caller can run
// the rest in one mailbox. ok is false when q has no such term; a negated
// in: term, or one inside an OR, does not count. With several, the first
// is taken and the others stay in rest.
func (q *Query) SplitMailbox() (mailbox string, rest *Query, ok bool) {
	if q == nil {
		return "", nil, false
	}
	switch n := q.root.(type) {
	case *qMailbox:
		return n.name, nil, true
	case *qAnd:
		for i, k := range n.kids {
			m, isIn := k.(*qMailbox)
			if !isIn {
				continue
			}
			kids := make([]qnode, 0, len(n.kids)-1)
			kids = append(append(kids, n.kids[:i]...), n.kids[i+1:]...)
			return m.name, &Query{root: joinQuery(kids, true)}, true
		}
	}
	return "", nil, false
}

// inMailbox is the leaf in:name.
func inMailbox(name string) *qMailbox {
	if strings.EqualFold(name, "INBOX") {
		name = "INBOX"
	}
	return &qMailbox{name: name}
}
