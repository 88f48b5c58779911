package compose

import (
	"fmt"
	"io"
	"strings"
)

// forwardMarker opens the block that introduces a forwarded message.
const forwardMarker = "---------- Forwarded message ----------"

// Reply makes a draft answering the raw RFC 5322 message orig, from me.
//
// The subject gets one "Re: " (existing Re:, RE:, Aw:, Sv:... prefixes are
// not repeated). The reply goes to the Reply-To addresses, or else to From;
// when the original is from me, it goes to the original's To instead.
// With all, the original's To and Cc are added as Cc, without me (addresses
// compared case-insensitively) and without duplicates. In-Reply-To is the
// original's Message-ID and References its References (or its single
// In-Reply-To) followed by that Message-ID. The body is an attribution line
// "On <date>, <name> wrote:" and the original text quoted with "> "
// (its signature left out; HTML-only originals are rendered as text).
func Reply(orig io.Reader, me Address, all bool) (*Draft, error) {
	o, err := readOriginal(orig, false)
	if err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	d := &Draft{From: me, Subject: "Re: " + stripPrefixes(o.subject, isReplyPrefix)}
	fromMe := len(o.from) > 0 && o.from[0].Same(me)
	switch {
	case len(o.replyTo) > 0:
		d.To = o.replyTo
	case fromMe:
		d.To = o.to
	default:
		d.To = o.from
	}
	d.To = dedupAddresses(d.To)
	if all {
		cc := append(append([]Address{}, o.to...), o.cc...)
		if fromMe && len(o.replyTo) == 0 {
			cc = o.cc
		}
		d.Cc = dedupAddresses(cc, append([]Address{me}, d.To...)...)
	}
	if len(d.To) == 0 && len(d.Cc) > 0 {
		d.To, d.Cc = d.Cc[:1], d.Cc[1:]
	}
	if o.messageID != "" {
		d.InReplyTo = o.messageID
		d.References = append(append([]string{}, o.references...), o.messageID)
	}
	d.Body = attribution(o) + "\n" + quote(stripSignature(o.text)) + "\n"
	return d, nil
}

// Forward makes a draft forwarding the raw RFC 5322 message orig, from me,
// to recipients still to be chosen. The subject gets one "Fwd: "; the body
// is a "---------- Forwarded message ----------" block naming the
// original's From, Date, Subject, To and Cc, then the original text; the
// original's attachments are attached again, decoded.
func Forward(orig io.Reader, me Address) (*Draft, error) {
	o, err := readOriginal(orig, true)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	d := &Draft{From: me, Subject: "Fwd: " + stripPrefixes(o.subject, isForwardPrefix)}
	var b strings.Builder
	b.WriteString(forwardMarker + "\n")
	line := func(k, v string) {
		if v != "" {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	line("From", joinAddresses(o.from))
	line("Date", o.dateRaw)
	line("Subject", o.subject)
	line("To", joinAddresses(o.to))
	line("Cc", joinAddresses(o.cc))
	b.WriteString("\n")
	b.WriteString(strings.TrimRight(o.text, "\n"))
	b.WriteString("\n")
	d.Body = b.String()
	d.Attachments = o.attachments
	return d, nil
}

// isReplyPrefix reports reply prefixes in common languages ("Re", German
// "Aw", Scandinavian "Sv", Dutch "Antw", Finnish "Vs", Polish "Odp").
func isReplyPrefix(p string) bool {
	switch p {
	case "re", "aw", "sv", "antw", "vs", "odp":
		return true
	}
	return false
}

// isForwardPrefix reports forward prefixes ("Fwd", "Fw", German "Wg",
// French "Tr", Spanish "Rv").
func isForwardPrefix(p string) bool {
	switch p {
	case "fwd", "fw", "wg", "tr", "rv":
		return true
	}
	return false
}

// stripPrefixes removes leading "Re:"-like prefixes (those known reports,
// in any case, optionally with a "[2]" or "(2)" counter) from a subject.
func stripPrefixes(subject string, known func(string) bool) string {
	s := strings.TrimSpace(subject)
	for {
		colon := strings.IndexByte(s, ':')
		if colon < 0 || colon > 12 {
			return s
		}
		p := strings.ToLower(strings.TrimSpace(s[:colon]))
		if i := strings.IndexAny(p, "[("); i > 0 && strings.ContainsAny(p[len(p)-1:], "])") {
			p = strings.TrimSpace(p[:i])
		}
		if !known(p) {
			return s
		}
		s = strings.TrimSpace(s[colon+1:])
	}
}

// attribution is the line that introduces the quoted text.
func attribution(o *original) string {
	who := "someone"
	if len(o.from) > 0 {
		who = o.from[0].Name
		if who == "" {
			who = o.from[0].Addr
		}
	}
	if o.date.IsZero() {
		return who + " wrote:"
	}
	return "On " + o.date.Format("Mon, 2 Jan 2006 at 15:04") + ", " + who + " wrote:"
}

// quote prefixes every line of text for a reply: "> " before text, ">"
// before an already quoted line or an empty one, so that the quote depth
// reads as in RFC 3676 section 4.5.
func quote(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		switch {
		case l == "" || strings.HasPrefix(l, ">"):
			lines[i] = ">" + l
		default:
			lines[i] = "> " + l
		}
	}
	return strings.Join(lines, "\n")
}

// stripSignature cuts text at its last signature separator line "-- ".
func stripSignature(text string) string {
	if strings.HasPrefix(text, sigSeparator+"\n") {
		return ""
	}
	if i := strings.LastIndex(text, "\n"+sigSeparator+"\n"); i >= 0 {
		return text[:i]
	}
	return strings.TrimSuffix(text, "\n"+sigSeparator)
}

func joinAddresses(list []Address) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}
