package pop3d

import (
	"bufio"
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// errLineTooLong is a command line longer than Options.MaxLineLength.
var errLineTooLong = errors.New("pop3: input line too long")

// errBadLine is a command line with a NUL or bare CR, or a keyword that is
// not 3 or 4 letters.
var errBadLine = errors.New("pop3: malformed command line")

// readLine reads one line of at most max octets, its line end included,
// and returns it without CRLF (a bare LF is accepted too). A line without
// end before EOF is dropped. Past max it returns errLineTooLong as soon as
// the octets received show the line is too long, without waiting for its
// end.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				return nil, err
			}
		}
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			if len(line)+i+1 > max {
				return nil, errLineTooLong
			}
			line = append(line, buf[:i+1]...)
			br.Discard(i + 1)
			break
		}
		if len(line)+len(buf) >= max { // the LF still to come is one too many
			return nil, errLineTooLong
		}
		line = append(line, buf...)
		br.Discard(len(buf))
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// command is one parsed command line (RFC 1939 section 3): a keyword,
// case-insensitive, and what follows the first space.
type command struct {
	// Name is the keyword in upper case.
	Name string
	// Arg is the rest of the line after the single space that ends the
	// keyword, verbatim: PASS takes it whole, spaces included.
	Arg string
}

// parseCommand splits a command line. Keywords are three or four ASCII
// letters (RFC 1939 section 3; RFC 2449 keeps that for the commands
// served here); NUL and CR are refused anywhere.
func parseCommand(line []byte) (command, error) {
	for _, c := range line {
		if c == 0 || c == '\r' || c == '\n' {
			return command{}, errBadLine
		}
	}
	name, arg, _ := strings.Cut(string(line), " ")
	if len(name) < 3 || len(name) > 4 {
		return command{}, errBadLine
	}
	for i := 0; i < len(name); i++ {
		c := name[i] | 0x20
		if c < 'a' || c > 'z' {
			return command{}, errBadLine
		}
	}
	return command{Name: strings.ToUpper(name), Arg: arg}, nil
}

// args splits an argument string at spaces (tolerating repeated ones).
func args(arg string) []string { return strings.Fields(arg) }

// parseNumber parses a non-negative decimal number of at most 9 digits
// (message numbers and TOP line counts, RFC 1939 section 3).
func parseNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// sanitize makes client text safe to echo in a reply or log: printable
// ASCII only, at most 40 characters.
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 40; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		b.WriteByte(c)
	}
	return b.String()
}
