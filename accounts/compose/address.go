package compose

import (
	"fmt"
	"mime"
	"net/mail"
	"strings"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

// Address is one mailbox: an optional display name and an addr-spec
// ("ann@example.org"). Name is plain Unicode text; Build encodes it
// (RFC 2047) when it is not ASCII.
type Address struct {
	Name string
	Addr string
}

// String formats the address for display, "Ann <ann@example.org>" or
// "ann@example.org". It is not header syntax: Build does the quoting and
// encoding.
func (a Address) String() string {
	if a.Name == "" {
		return a.Addr
	}
	return a.Name + " <" + a.Addr + ">"
}

// Same reports whether a and b name the same mailbox, comparing the
// addr-specs case-insensitively (local parts are case-insensitive at every
// provider that matters; the domain always is).
func (a Address) Same(b Address) bool {
	return strings.EqualFold(strings.TrimSpace(a.Addr), strings.TrimSpace(b.Addr))
}

// header formats the address as RFC 5322 header text, the display name
// quoted or RFC 2047 encoded as needed, after checking that it survives a
// round trip through the parser.
func (a Address) header() (string, error) {
	if err := checkHeaderText(a.Name); err != nil {
		return "", fmt.Errorf("display name %q: %w", a.Name, err)
	}
	if err := checkHeaderText(a.Addr); err != nil {
		return "", fmt.Errorf("address %q: %w", a.Addr, err)
	}
	s := (&mail.Address{Name: a.Name, Address: a.Addr}).String()
	if needsEncoding(a.Name) {
		s = encodeWords(a.Name, true) + " " + (&mail.Address{Address: a.Addr}).String()
	}
	back, err := gomail.ParseAddress(s)
	if err != nil || back.Address != a.Addr {
		return "", fmt.Errorf("address %q: not a valid mailbox: %w", a.Addr, ErrInvalidAddress)
	}
	return s, nil
}

// valid reports whether the address would be accepted by Build.
func (a Address) valid() bool {
	_, err := a.header()
	return err == nil
}

// ParseAddressList parses a list of addresses as a user types it:
// "Ann <ann@x.org>, bob@y.org; "Smith, Carl" <carl@z.org>". Items are
// separated by commas or semicolons outside quotes, angle brackets and
// comments; empty items are skipped. Encoded words (RFC 2047) in names are
// decoded. An error names the first item that is not a valid address and
// wraps ErrInvalidAddress.
func ParseAddressList(s string) ([]Address, error) {
	var out []Address
	for i, item := range splitAddressList(s) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		a, err := gomail.ParseAddress(item)
		if err != nil {
			return nil, fmt.Errorf("address %d %q: %v: %w", i+1, item, err, ErrInvalidAddress)
		}
		out = append(out, Address{Name: a.Name, Addr: a.Address})
	}
	return out, nil
}

// splitAddressList splits s at commas and semicolons that are not inside a
// quoted string, an angle-bracketed address or a comment.
func splitAddressList(s string) []string {
	var items []string
	var quoted, escaped bool
	angle, paren, start := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (quoted || paren > 0):
			escaped = true
		case quoted:
			quoted = c != '"'
		case c == '"':
			quoted = true
		case c == '(':
			paren++
		case c == ')' && paren > 0:
			paren--
		case paren > 0:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case (c == ',' || c == ';') && angle == 0:
			items = append(items, s[start:i])
			start = i + 1
		}
	}
	return append(items, s[start:])
}

// parseHeaderAddresses reads an address header field of a received
// message leniently: items that do not parse, or that Build would refuse,
// are skipped rather than failing the whole list. Control characters in
// display names are replaced by spaces.
func parseHeaderAddresses(raw string) []Address {
	var out []Address
	if list, err := gomail.ParseAddressList(raw); err == nil {
		for _, a := range list {
			out = appendValid(out, Address{Name: cleanText(a.Name), Addr: a.Address})
		}
		return out
	}
	for _, item := range splitAddressList(raw) {
		if a, err := gomail.ParseAddress(strings.TrimSpace(item)); err == nil {
			out = appendValid(out, Address{Name: cleanText(a.Name), Addr: a.Address})
			continue
		}
		// A name that does not parse (or decodes to something odd) must
		// not lose the address: take the <addr-spec> alone.
		open, end := strings.LastIndexByte(item, '<'), strings.LastIndexByte(item, '>')
		if open < 0 || end < open {
			continue
		}
		a, err := gomail.ParseAddress(item[open : end+1])
		if err != nil {
			continue
		}
		dec := mime.WordDecoder{CharsetReader: message.CharsetReader}
		name, err := dec.DecodeHeader(strings.Trim(strings.TrimSpace(item[:open]), `"`))
		if err != nil {
			name = item[:open]
		}
		out = appendValid(out, Address{Name: cleanText(name), Addr: a.Address})
	}
	return out
}

func appendValid(list []Address, a Address) []Address {
	if a.valid() {
		list = append(list, a)
	}
	return list
}

// dedupAddresses returns list without later duplicates and without any
// address that is the same as one in exclude.
func dedupAddresses(list []Address, exclude ...Address) []Address {
	seen := make(map[string]bool, len(list)+len(exclude))
	for _, a := range exclude {
		seen[strings.ToLower(strings.TrimSpace(a.Addr))] = true
	}
	var out []Address
	for _, a := range list {
		k := strings.ToLower(strings.TrimSpace(a.Addr))
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, a)
	}
	return out
}
