package smtpd

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// maxPath is the longest path RFC 5321 section 4.5.3.1.3 allows.
const maxPath = 256

// ParsePath checks a reverse or forward path as go-smtp hands it over
// (angle brackets removed) and returns the address: "" for the null path,
// else local@domain with a source route dropped. It accepts dot-atom and
// quoted local parts and domain names or address literals (RFC 5321
// section 4.1.2), and refuses control characters and anything that could
// break a header line or a file name.
func ParsePath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if len(p) > maxPath {
		return "", errors.New("path too long")
	}
	if !utf8.ValidString(p) {
		return "", errors.New("invalid UTF-8")
	}
	if i := strings.IndexByte(p, ':'); i >= 0 && strings.HasPrefix(p, "@") {
		p = p[i+1:] // source route, ignored (RFC 5321 section 4.1.2)
	}
	at := strings.LastIndexByte(p, '@')
	if at <= 0 || at == len(p)-1 {
		return "", errors.New("want local@domain")
	}
	local, domain := p[:at], p[at+1:]
	if len(local) > 64 {
		return "", errors.New("local part too long")
	}
	if err := checkLocal(local); err != nil {
		return "", err
	}
	if err := checkDomain(domain); err != nil {
		return "", err
	}
	return local + "@" + domain, nil
}

// isASCII reports whether s is all ASCII; anything else needs SMTPUTF8.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func checkLocal(l string) error {
	if strings.HasPrefix(l, `"`) {
		if len(l) < 2 || !strings.HasSuffix(l, `"`) {
			return errors.New("unterminated quoted local part")
		}
		for i := 1; i < len(l)-1; i++ {
			c := l[i]
			if c == '\\' {
				i++
				if i >= len(l)-1 || l[i] < 32 || l[i] == 127 {
					return errors.New("bad quoted pair")
				}
				continue
			}
			if c < 32 || c == 127 || c == '"' {
				return errors.New("bad character in quoted local part")
			}
		}
		return nil
	}
	if strings.HasPrefix(l, ".") || strings.HasSuffix(l, ".") || strings.Contains(l, "..") {
		return errors.New("bad dots in local part")
	}
	for _, r := range l {
		if r < 128 && !isAtext(byte(r)) && r != '.' {
			return errors.New("bad character in local part")
		}
	}
	return nil
}

func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func checkDomain(d string) error {
	if strings.HasPrefix(d, "[") {
		if !strings.HasSuffix(d, "]") || len(d) < 3 {
			return errors.New("bad address literal")
		}
		for _, c := range d[1 : len(d)-1] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' || c == 'v' || c == '6' || c == 'I' || c == 'P') {
				return errors.New("bad address literal")
			}
		}
		return nil
	}
	if len(d) > 253 {
		return errors.New("domain too long")
	}
	for _, label := range strings.Split(strings.TrimSuffix(d, "."), ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return errors.New("bad domain")
		}
		for _, r := range label {
			if r < 128 && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return errors.New("bad character in domain")
			}
		}
	}
	return nil
}
