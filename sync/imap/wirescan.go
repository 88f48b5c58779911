package imapsync

import (
	"bytes"
	"fmt"
	"strings"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// wireScan follows one direction of the IMAP byte stream without
// decoding it: where each response (or command) starts and ends, and
// which octets are literal data. RFC 9051 section 4.3: a literal is
// announced by "{N}" at the end of a line ("{N+}" from a client, RFC
// 7888; "~{N}" for literal8, RFC 3516), and its N octets follow the CRLF;
// the response (or command) goes on after them, so one response ends at
// the first line end that announces no literal. Like go-imap's decoder it
// accepts a bare LF and one space before the line end.
//
// It is the guard's view of the wire (guard.go): the octets of a
// response outside its literals are counted against a bound, literal
// announcements are checked against another, and the first octets of
// each response (its head: tag, and response or command name) are handed
// to the owner.
type wireScan struct {
	// lit is the number of literal octets still to come.
	lit int64
	// line counts the current response's octets outside literals.
	line int64
	// head is the start of the current response, up to headMax octets;
	// headDone is set once onHead has seen it.
	head     []byte
	headDone bool
	// tail is the end of the current line, enough to find a literal
	// announcement; tailFull records that older octets were dropped.
	tail     []byte
	tailFull bool

	// maxLine bounds line, the response's octets outside literals (0:
	// no bound); bigLine, when set, returns a larger bound for responses
	// that legitimately carry long lists (SEARCH results).
	maxLine int64
	bigLine func(head []byte) int64
	// maxLiteral bounds each announced literal (0: no bound).
	maxLiteral int64
	// onHead is called with the head of each response once it is known
	// (headMax octets, or the end of its first line); onEnd at its end,
	// with its octets outside literals: an error it returns is feed's.
	onHead func(head []byte)
	onEnd  func(octets int64) error
	// limit is the bound in force for the current response.
	limit int64
}

const (
	headMax = 64
	tailMax = 64
)

// errTooLong and the like are the guard's Protocol errors; their text is
// what the user reads after "imap OP:".
type wireError struct{ msg string }

func (e *wireError) Error() string { return e.msg }

// Is makes errors.Is(err, lbsync.ErrProtocol) hold.
func (e *wireError) Is(target error) bool { return lbsync.Protocol.Matches(target) }

// feed follows p. It returns an error, and then must not be called again,
// when p breaks a bound.
func (s *wireScan) feed(p []byte) error {
	for len(p) > 0 {
		if s.lit > 0 {
			n := int64(len(p))
			if n > s.lit {
				n = s.lit
			}
			s.lit -= n
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i+1]
		}
		p = p[len(seg):]
		if err := s.take(seg); err != nil {
			return err
		}
		if i >= 0 {
			if err := s.lineEnd(); err != nil {
				return err
			}
		}
	}
	return nil
}

// take counts octets of a line (a segment ending with LF or not).
func (s *wireScan) take(seg []byte) error {
	if s.limit == 0 {
		s.limit = s.maxLine
	}
	s.line += int64(len(seg))
	if !s.headDone {
		room := headMax - len(s.head)
		s.head = append(s.head, seg[:min(room, len(seg))]...)
		if len(s.head) == headMax {
			s.headSeen()
		}
	}
	if s.limit > 0 && s.line > s.limit {
		return &wireError{fmt.Sprintf("server line longer than %s: hostile or broken server", size(s.limit))}
	}
	if len(seg) >= tailMax {
		s.tail = append(s.tail[:0], seg[len(seg)-tailMax:]...)
		s.tailFull = true
	} else {
		if over := len(s.tail) + len(seg) - tailMax; over > 0 {
			s.tail = append(s.tail[:0], s.tail[over:]...)
			s.tailFull = true
		}
		s.tail = append(s.tail, seg...)
	}
	return nil
}

// headSeen hands the head to the owner and picks the response's bound.
func (s *wireScan) headSeen() {
	s.headDone = true
	if s.bigLine != nil {
		if b := s.bigLine(s.head); b > s.limit {
			s.limit = b
		}
	}
	if s.onHead != nil {
		s.onHead(s.head)
	}
}

// lineEnd handles the LF that ends the tail: a literal follows, or the
// response ends.
func (s *wireScan) lineEnd() error {
	n, ok, err := literalAnnounced(s.tail, s.tailFull)
	s.tail, s.tailFull = s.tail[:0], false
	if !s.headDone {
		s.headSeen()
	}
	if err != nil {
		return err
	}
	if ok {
		if s.maxLiteral > 0 && n > s.maxLiteral {
			return &wireError{fmt.Sprintf("server literal of %d bytes exceeds the limit of %s: hostile or broken server", n, size(s.maxLiteral))}
		}
		s.lit = n
		return nil
	}
	if s.onEnd != nil {
		if err := s.onEnd(s.line); err != nil {
			return err
		}
	}
	s.line, s.limit = 0, 0
	s.head, s.headDone = s.head[:0], false
	return nil
}

// literalAnnounced reports whether line (the end of a line, LF included)
// ends with a literal announcement, "{N}" or "{N+}", and returns N.
// full says older octets of the line were dropped: an announcement whose
// digits fill the whole tail is an error, as its count cannot be read.
func literalAnnounced(line []byte, full bool) (int64, bool, error) {
	l := bytes.TrimSuffix(line, []byte("\n"))
	l = bytes.TrimSuffix(l, []byte("\r"))
	l = bytes.TrimSuffix(l, []byte(" "))
	if !bytes.HasSuffix(l, []byte("}")) {
		return 0, false, nil
	}
	l = l[:len(l)-1]
	l = bytes.TrimSuffix(l, []byte("+"))
	j := len(l)
	for j > 0 && l[j-1] >= '0' && l[j-1] <= '9' {
		j--
	}
	digits := l[j:]
	switch {
	case len(digits) == 0:
		return 0, false, nil
	case j == 0:
		if full {
			return 0, false, &wireError{"server literal count too long: hostile or broken server"}
		}
		return 0, false, nil
	case l[j-1] != '{':
		return 0, false, nil
	}
	digits = bytes.TrimLeft(digits, "0")
	if len(digits) > 18 {
		return 0, false, &wireError{fmt.Sprintf("server literal count %s… too large: hostile or broken server", digits[:18])}
	}
	var n int64
	for _, d := range digits {
		n = n*10 + int64(d-'0')
	}
	return n, true, nil
}

// headTokens splits a head into its first words: tag ("*", "+" or a
// command tag) and the next two, upper case. sp reports whether the tag
// was followed by a space (a client line with none is a continuation
// answer, such as "DONE" or a SASL response).
func headTokens(head []byte) (tag string, words [2]string, sp bool) {
	h := string(head)
	if i := strings.IndexAny(h, "\r\n"); i >= 0 {
		h = h[:i]
	}
	tag, rest, sp := strings.Cut(h, " ")
	for k := range words {
		var w string
		w, rest, _ = strings.Cut(rest, " ")
		words[k] = strings.ToUpper(strings.TrimRight(w, "("))
	}
	return tag, words, sp
}

// size formats a byte bound: "1 MiB", "100 MiB", "512 KiB", "300 bytes".
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
