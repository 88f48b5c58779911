package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mattn/go-runewidth"
	"golang.org/x/sys/unix"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/store"
)

// Everything the commands print goes through this file: terminal
// detection, the one progress line, tables of messages, JSON Lines. The
// JSON shapes themselves are in jsonschema.go.

// isTerminal reports whether r (a reader or writer) is a terminal.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// drawsProgress reports whether progress may be drawn on w: a terminal
// that is not TERM=dumb.
func (e *env) drawsProgress(w io.Writer) bool {
	return isTerminal(w) && e.getenv("TERM") != "dumb"
}

// writeJSONLine prints v as one line of JSON (JSON Lines).
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// progressLine redraws one line of a terminal in place. Each line is
// about one thing (key); a new key keeps the finished line and starts
// another. Redraws of the same key are kept to ten a second. Safe for
// concurrent use.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer
	key   string
	drawn time.Time
}

// show draws text for key; final draws even within the throttle.
func (p *progressLine) show(key, text string, final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if key == p.key && !final && now.Sub(p.drawn) < 100*time.Millisecond {
		return
	}
	if key != p.key && p.key != "" {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", text)
	p.key, p.drawn = key, now
}

// end finishes the line: kept (newline) or cleared.
func (p *progressLine) end(clear bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key == "" {
		return
	}
	if clear {
		fmt.Fprint(p.w, "\r\x1b[K")
	} else {
		fmt.Fprintln(p.w)
	}
	p.key = ""
}

// bar draws a progress bar of width cells with the count after it.
func bar(done, total, width int) string {
	if total <= 0 {
		return ""
	}
	n := min(max(done, 0)*width/total, width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + fmt.Sprintf("] %d/%d", done, total)
}

// eventLine is one sync event as a line of text: "alice INBOX: headers
// 10/20", "alice: connect" for an event of no folder.
func eventLine(ev accounts.SyncEvent) string {
	s := eventLabel(ev)
	if ev.Total > 0 {
		s += fmt.Sprintf(" %d/%d", ev.Done, ev.Total)
	} else if ev.Done > 0 {
		s += fmt.Sprintf(" %d", ev.Done)
	}
	if ev.Note != "" {
		s += " (" + ev.Note + ")"
	}
	if ev.Err != nil {
		s += ": " + ev.Err.Error()
	}
	return s
}

// eventLabel is what an event is about: "alice INBOX: headers".
func eventLabel(ev accounts.SyncEvent) string {
	s := ev.Account
	if ev.Mailbox != "" {
		s += " " + ev.Mailbox
	}
	return s + ": " + string(ev.Phase)
}

// printMessages prints a list of messages: JSON Lines, or a table with
// the id, date, marks (N new, ! flagged, @ attachment), sender and
// subject, indented by thread depth.
func printMessages(w io.Writer, msgs []store.Message, asJSON bool) error {
	if asJSON {
		for _, m := range msgs {
			if err := writeJSONLine(w, toJSON(m)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, m := range msgs {
		mark := []byte("   ")
		if !m.HasFlag(store.FlagSeen) {
			mark[0] = 'N'
		}
		if m.HasFlag(store.FlagFlagged) {
			mark[1] = '!'
		}
		if m.HasAttachment {
			mark[2] = '@'
		}
		from := ""
		if len(m.From) > 0 {
			from = m.From[0].Name
			if from == "" {
				from = m.From[0].Addr
			}
		}
		indent := strings.Repeat("  ", min(m.Depth, 8))
		fmt.Fprintf(w, "%7d %s %s %s %s%s\n", m.ID, m.Date.Local().Format("2006-01-02 15:04"), mark, pad(clip(from, 22), 22), indent, clip(m.Subject, 70))
	}
	return nil
}

// printRendered prints a decoded message: headers, text, attachments;
// decoding problems go to stderr as warnings.
func printRendered(stdout, stderr io.Writer, r *store.Rendered) {
	for _, h := range r.Headers {
		fmt.Fprintf(stdout, "%s: %s\n", h.Key, h.Value)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, strings.TrimRight(r.Text, "\n"))
	if len(r.Attachments) > 0 {
		fmt.Fprintln(stdout, "\nAttachments:")
		for _, a := range r.Attachments {
			fmt.Fprintf(stdout, "  [%s] %s (%s, %s)\n", a.Part, a.Filename, a.ContentType, humanSize(a.Size))
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintln(stderr, "warning:", p)
	}
	if r.Partial {
		fmt.Fprintln(stderr, "warning: only the header is downloaded yet; the next sync brings the text")
	}
}

// clip shortens s to n terminal cells (wide CJK runes take two), ending
// in "…" when cut. Control characters are shown as spaces.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if runewidth.StringWidth(s) <= n {
		return s
	}
	return runewidth.Truncate(s, n, "…")
}

// pad fills s with spaces to n terminal cells.
func pad(s string, n int) string {
	return runewidth.FillRight(s, n)
}

// humanSize is a byte count for people: 12 B, 34 KB, 5.6 MB.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
