package accounts

import (
	"fmt"
	"strings"
)

// maxProbeLines bounds a multi-line answer (capabilities, EHLO).
const maxProbeLines = 100

// greeting reads the server's greeting and checks that it is proto's:
// "* OK"/"* PREAUTH" (RFC 9051 §7.1), "+OK" (RFC 1939 §4) or "220"
// (RFC 5321 §4.2, continuation lines "220-" first).
func (pc *probeConn) greeting(proto Protocol) (string, error) {
	l, err := pc.line()
	if err != nil {
		return "", &stageError{"greeting", err}
	}
	up := strings.ToUpper(l)
	switch proto {
	case IMAP:
		if strings.HasPrefix(up, "* OK") || strings.HasPrefix(up, "* PREAUTH") {
			return l, nil
		}
		if strings.HasPrefix(up, "* BYE") {
			return "", fmt.Errorf("server refused the connection: %q", clip(l))
		}
	case POP3:
		if strings.HasPrefix(up, "+OK") {
			return l, nil
		}
		if strings.HasPrefix(up, "-ERR") {
			return "", fmt.Errorf("server refused the connection: %q", clip(l))
		}
	case SMTP:
		for n := 0; strings.HasPrefix(l, "220-") && n < maxProbeLines; n++ {
			if l, err = pc.line(); err != nil {
				return "", &stageError{"greeting", err}
			}
		}
		if l == "220" || strings.HasPrefix(l, "220 ") {
			return l, nil
		}
		if strings.HasPrefix(l, "554") || strings.HasPrefix(l, "421") {
			return "", fmt.Errorf("server refused the connection: %q", clip(l))
		}
	}
	looks := ""
	if other := identify(up); other != "" && other != proto {
		looks = fmt.Sprintf(" (it looks like %s)", strings.ToUpper(string(other)))
	}
	return "", fmt.Errorf("greeting was not %s%s: %q: %w",
		strings.ToUpper(string(proto)), looks, clip(l), ErrWrongProtocol)
}

// identify guesses the protocol of an upper-cased greeting line.
func identify(up string) Protocol {
	switch {
	case strings.HasPrefix(up, "* OK"), strings.HasPrefix(up, "* PREAUTH"), strings.HasPrefix(up, "* BYE"):
		return IMAP
	case strings.HasPrefix(up, "+OK"):
		return POP3
	case strings.HasPrefix(up, "220 "), strings.HasPrefix(up, "220-"):
		return SMTP
	case strings.HasPrefix(up, "SSH-"):
		return "ssh"
	}
	return ""
}

// startTLS finds out whether the server offers the TLS upgrade and, if
// so, asks for it. true means the next bytes belong to the handshake.
func (pc *probeConn) startTLS(proto Protocol, greeting string) (bool, error) {
	switch proto {
	case IMAP:
		return pc.imapStartTLS(greeting)
	case POP3:
		return pc.pop3STLS()
	}
	return pc.smtpStartTLS()
}

// imapStartTLS reads the capabilities from the greeting's CAPABILITY
// response code or a CAPABILITY command, then sends STARTTLS.
func (pc *probeConn) imapStartTLS(greeting string) (bool, error) {
	caps := strings.ToUpper(greeting)
	if !strings.Contains(caps, "[CAPABILITY ") {
		lines, ok, err := pc.imapCommand("C1", "CAPABILITY")
		if err != nil || !ok {
			return false, err
		}
		caps = strings.ToUpper(strings.Join(lines, " "))
	}
	if !hasWord(caps, "STARTTLS") {
		return false, nil
	}
	_, ok, err := pc.imapCommand("C2", "STARTTLS")
	if err == nil && !ok {
		err = fmt.Errorf("STARTTLS was advertised but refused")
	}
	return err == nil, err
}

// imapCommand sends a tagged command and returns the untagged lines and
// whether the tagged answer was OK.
func (pc *probeConn) imapCommand(tag, cmd string) ([]string, bool, error) {
	if err := pc.send(tag + " " + cmd); err != nil {
		return nil, false, err
	}
	var untagged []string
	for range maxProbeLines {
		l, err := pc.line()
		if err != nil {
			return nil, false, err
		}
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			return untagged, strings.HasPrefix(strings.ToUpper(rest), "OK"), nil
		}
		untagged = append(untagged, l)
	}
	return nil, false, fmt.Errorf("no answer to %s after %d lines", cmd, maxProbeLines)
}

// pop3STLS reads CAPA (RFC 2449 §5) and sends STLS when it is listed.
func (pc *probeConn) pop3STLS() (bool, error) {
	if err := pc.send("CAPA"); err != nil {
		return false, err
	}
	l, err := pc.line()
	if err != nil || !strings.HasPrefix(l, "+OK") {
		return false, err // no CAPA: STLS cannot be advertised
	}
	stls := false
	for n := 0; ; n++ {
		if n == maxProbeLines {
			return false, fmt.Errorf("CAPA answer longer than %d lines", maxProbeLines)
		}
		l, err := pc.line()
		if err != nil {
			return false, err
		}
		if l == "." {
			break
		}
		stls = stls || strings.EqualFold(strings.TrimSpace(l), "STLS")
	}
	if !stls {
		return false, nil
	}
	if err := pc.send("STLS"); err != nil {
		return false, err
	}
	if l, err = pc.line(); err != nil {
		return false, err
	}
	if !strings.HasPrefix(l, "+OK") {
		return false, fmt.Errorf("STLS was advertised but refused: %q", clip(l))
	}
	return true, nil
}

// smtpStartTLS sends EHLO (RFC 5321 §4.1.1.1) and, when the STARTTLS
// extension is listed, STARTTLS (RFC 3207 §4).
func (pc *probeConn) smtpStartTLS() (bool, error) {
	if err := pc.send("EHLO localhost"); err != nil {
		return false, err
	}
	lines, err := pc.smtpReply()
	if err != nil || !strings.HasPrefix(lines[0], "250") {
		return false, err
	}
	offered := false
	for _, l := range lines[1:] {
		if len(l) < 4 {
			continue
		}
		keyword, _, _ := strings.Cut(strings.TrimSpace(l[4:]), " ")
		offered = offered || strings.EqualFold(keyword, "STARTTLS")
	}
	if !offered {
		return false, nil
	}
	if err := pc.send("STARTTLS"); err != nil {
		return false, err
	}
	if lines, err = pc.smtpReply(); err != nil {
		return false, err
	}
	if !strings.HasPrefix(lines[0], "220") {
		return false, fmt.Errorf("STARTTLS was advertised but refused: %q", clip(lines[0]))
	}
	return true, nil
}

// smtpReply reads one reply, all of its "NNN-" lines and the last one.
func (pc *probeConn) smtpReply() ([]string, error) {
	var lines []string
	for range maxProbeLines {
		l, err := pc.line()
		if err != nil {
			return nil, err
		}
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			return lines, nil
		}
	}
	return nil, fmt.Errorf("reply longer than %d lines", maxProbeLines)
}

// hasWord reports whether the space-separated list s has word, ignoring
// the brackets of a response code.
func hasWord(s, word string) bool {
	for _, w := range strings.Fields(s) {
		if strings.Trim(w, "[]") == word {
			return true
		}
	}
	return false
}

// clip shortens a line quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
