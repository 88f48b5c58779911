package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// Links and the browser: the reader numbers the links of the text
// ("https://example.test/ [1]") and opens one by its number (l), or the
// message's HTML part (v), in $BROWSER or with xdg-open. The program is
// started, not waited for, with its output discarded so it never draws
// over the screen, and no shell runs: a link is one argument.

// linkRe finds web and mail links in text.
var linkRe = regexp.MustCompile(`(?i)\b(?:https?://|mailto:)[^\s<>"'` + "`" + `]+`)

// numberLinks appends " [n]" after every link of text (the same link
// keeps its number) and returns the links in order.
func numberLinks(text string) (string, []string) {
	var links []string
	num := map[string]int{}
	out := linkRe.ReplaceAllStringFunc(text, func(m string) string {
		link := trimLink(m)
		rest := m[len(link):]
		n, ok := num[link]
		if !ok {
			links = append(links, link)
			n = len(links)
			num[link] = n
		}
		return fmt.Sprintf("%s [%d]%s", link, n, rest)
	})
	return out, links
}

// trimLink drops the punctuation that ends a sentence around a link,
// and a closing bracket without its opening one.
func trimLink(s string) string {
	for len(s) > 0 {
		c := s[len(s)-1]
		switch {
		case strings.IndexByte(".,;:!?'*", c) >= 0:
		case c == ')' && strings.Count(s, "(") < strings.Count(s, ")"):
		case c == ']' && strings.Count(s, "[") < strings.Count(s, "]"):
		case c == '>':
		default:
			return s
		}
		s = s[:len(s)-1]
	}
	return s
}

// browserDoneMsg reports a page handed to the browser.
type browserDoneMsg struct {
	what string
	err  error
}

// browserCommand returns the program and arguments that open target:
// the first entry of $BROWSER (a colon-separated list; "%s" stands for
// the target, else it is appended) that exists, else xdg-open.
func browserCommand(target string) (string, []string, error) {
	for _, entry := range strings.Split(os.Getenv("BROWSER"), ":") {
		f := strings.Fields(entry)
		if len(f) == 0 {
			continue
		}
		prog, err := exec.LookPath(f[0])
		if err != nil {
			continue
		}
		args, placed := f[1:], false
		for i, a := range args {
			if strings.Contains(a, "%s") {
				args[i], placed = strings.ReplaceAll(a, "%s", target), true
			}
		}
		if !placed {
			args = append(args, target)
		}
		return prog, args, nil
	}
	prog, err := exec.LookPath("xdg-open")
	if err != nil {
		return "", nil, errors.New("no browser: set $BROWSER or install xdg-open")
	}
	return prog, []string{target}, nil
}

// startBrowser starts the browser on target and does not wait for it.
func startBrowser(target string) error {
	prog, args, err := browserCommand(target)
	if err != nil {
		return err
	}
	cmd := exec.Command(prog, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", filepath.Base(prog), err)
	}
	go cmd.Wait()
	return nil
}

// openLinkCmd opens a link of the message in the browser.
func openLinkCmd(link string) tea.Cmd {
	return func() tea.Msg {
		if err := startBrowser(link); err != nil {
			return browserDoneMsg{err: fmt.Errorf("open link: %w", err)}
		}
		return browserDoneMsg{what: "opened " + link}
	}
}

// openHTMLCmd writes the HTML part of message id to a private
// temporary file (a new directory under tmp, the interface's private
// directory) and opens it in the browser.
func openHTMLCmd(ctx context.Context, b Backend, id int64, tmp string) tea.Cmd {
	return func() tea.Msg {
		html, err := b.HTML(ctx, id)
		if err != nil {
			return browserDoneMsg{err: fmt.Errorf("open HTML: %w", err)}
		}
		dir, err := os.MkdirTemp(tmp, "letterbox-html-")
		if err != nil {
			return browserDoneMsg{err: fmt.Errorf("open HTML: %w", err)}
		}
		path := filepath.Join(dir, "message.html")
		if err := os.WriteFile(path, []byte("<meta charset=\"utf-8\">\n"+html), 0o600); err != nil {
			return browserDoneMsg{err: fmt.Errorf("open HTML: %w", err)}
		}
		if err := startBrowser("file://" + path); err != nil {
			return browserDoneMsg{err: fmt.Errorf("open HTML: %w (saved as %s)", err, path)}
		}
		return browserDoneMsg{what: "opened the HTML part in the browser"}
	}
}
