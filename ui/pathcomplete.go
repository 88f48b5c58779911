package ui

import (
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// Tab in the attach prompt completes a file path, as a shell does: the
// one match in full (a directory gets its "/"), or the longest prefix
// several matches share. The directory is read in a Cmd, never in Update.

// pathCompletedMsg carries a completion; it applies only if the prompt
// still holds from.
type pathCompletedMsg struct{ from, to string }

// completePathCmd completes v off the Update goroutine.
func completePathCmd(v string) tea.Cmd {
	return func() tea.Msg { return pathCompletedMsg{from: v, to: completePath(v)} }
}

// completePath returns v extended as far as its matches agree. "~/" is
// read as the home directory but kept as typed.
func completePath(v string) string {
	expanded := v
	if strings.HasPrefix(v, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			expanded = filepath.Join(home, v[2:])
			if strings.HasSuffix(v, "/") {
				expanded += "/"
			}
		}
	}
	dir, base := filepath.Split(expanded)
	entries, err := os.ReadDir(dirOrDot(dir))
	if err != nil {
		return v
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, base) || (strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		if e.IsDir() {
			n += "/"
		} else if e.Type()&os.ModeSymlink != 0 {
			if fi, err := os.Stat(filepath.Join(dirOrDot(dir), n)); err == nil && fi.IsDir() {
				n += "/"
			}
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return v
	}
	common := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, common) {
			common = common[:len(common)-1]
		}
	}
	if len(names) > 1 {
		common = strings.TrimSuffix(common, "/")
	}
	return v + strings.TrimPrefix(common, base)
}

func dirOrDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}
