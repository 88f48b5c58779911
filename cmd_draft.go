package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// The $EDITOR form of a draft for send --draft ID --edit: the header
// lines a person edits (To, Cc, Bcc, Subject), a blank line, the text.
// From, attachments and threading stay as they were.

// draftForm writes d as the editor form.
func draftForm(d *compose.Draft) string {
	var b strings.Builder
	for _, l := range []struct {
		key  string
		list []compose.Address
	}{{"To", d.To}, {"Cc", d.Cc}, {"Bcc", d.Bcc}} {
		parts := make([]string, len(l.list))
		for i, a := range l.list {
			parts[i] = a.String()
		}
		fmt.Fprintf(&b, "%s: %s\n", l.key, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "Subject: %s\n\n%s", d.Subject, d.Body)
	return b.String()
}

// parseDraftForm reads the editor form back into d.
func parseDraftForm(text string, d *compose.Draft) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	d.To, d.Cc, d.Bcc = nil, nil, nil
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			break
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return usagef("send --draft --edit: %q is not a header line (To, Cc, Bcc or Subject, then a blank line, then the text)", line)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "subject":
			d.Subject = value
		case "to", "cc", "bcc":
			if value == "" {
				continue
			}
			addrs, err := compose.ParseAddressList(value)
			if err != nil {
				return usagef("send --draft --edit: %s: %w", key, err)
			}
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "to":
				d.To = addrs
			case "cc":
				d.Cc = addrs
			default:
				d.Bcc = addrs
			}
		default:
			return usagef("send --draft --edit: unknown header %q (To, Cc, Bcc, Subject)", key)
		}
	}
	var body strings.Builder
	for sc.Scan() {
		body.WriteString(sc.Text() + "\n")
	}
	d.Body = body.String()
	return sc.Err()
}

// editDraft runs $VISUAL, $EDITOR or vi on d's editor form, on the
// command's terminal, and reads the result back into d.
func editDraft(e *env, d *compose.Draft) error {
	f, err := os.CreateTemp("", "letterbox-draft-*.txt")
	if err != nil {
		return fmt.Errorf("send --draft --edit: %w", err)
	}
	path := f.Name()
	defer os.Remove(path)
	_, err = f.WriteString(draftForm(d))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("send --draft --edit: %w", err)
	}
	ed := e.getenv("VISUAL")
	if ed == "" {
		ed = e.getenv("EDITOR")
	}
	if ed == "" {
		ed = "vi"
	}
	cmd := exec.Command("sh", "-c", ed+` "$1"`, "editor", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stderr, e.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("send --draft --edit: %s: %w (the draft is unchanged)", ed, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("send --draft --edit: %w", err)
	}
	return parseDraftForm(string(b), d)
}
