package query

// The parser of the query language: precedence climbing over the tokens
// of lex.go into the syntax tree of query.go.

import "fmt"

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
