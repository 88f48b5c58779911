package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// TestDemoConfig checks the demo's accounts against a real server: they
// validate, and both log in.
func TestDemoConfig(t *testing.T) {
	srv := cliServer(t)
	cfg, err := demoConfig(srv)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[string]accounts.Mode{"alice": accounts.ModeIMAP, "bob": accounts.ModePOP3}
	for _, a := range cfg.Accounts {
		if a.Mode != want[a.Name] {
			t.Fatalf("%s: mode %s", a.Name, a.Mode)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		pw, _ := accounts.RunPasswordCmd(ctx, a.PasswordCmd)
		if err := accounts.TestLogin(ctx, a, pw, nil); err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		cancel()
	}
}

// TestUINeedsTerminal: without a terminal the interface explains itself
// instead of drawing into a pipe.
func TestUINeedsTerminal(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	e := &env{configFile: filepath.Join(dir, "config.toml"), dataDir: filepath.Join(dir, "data"),
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: os.Getenv}
	err := runUI(context.Background(), e, false)
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "needs a terminal") {
		t.Fatalf("runUI without a terminal: %v", err)
	}
	// Through the command line: ui, and no command at all.
	for _, args := range [][]string{{"ui"}, {}} {
		code, _, errs := cli(t, dir, "", args...)
		if code != exitUsage || !strings.Contains(errs, "terminal") {
			t.Errorf("letterbox %v without a terminal: exit %d, %q", args, code, errs)
		}
	}
}

// tmuxSession runs a command in a detached tmux session on a private
// socket, with a fixed size, and reads its screen.
type tmuxSession struct {
	t      *testing.T
	tmux   string
	socket string
}

func (s *tmuxSession) cmd(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.tmux, append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.cmd("capture-pane", "-p", "-t", "demo") }

// keys sends tmux key names ("Enter", "C-s", "j") or literal text (-l).
func (s *tmuxSession) keys(keys ...string) {
	for _, k := range keys {
		s.cmd("send-keys", "-t", "demo", k)
		time.Sleep(80 * time.Millisecond)
	}
}

func (s *tmuxSession) text(txt string) {
	s.cmd("send-keys", "-t", "demo", "-l", txt)
	time.Sleep(150 * time.Millisecond)
}

// waitFor polls the screen until it shows every one of subs.
func (s *tmuxSession) waitFor(what string, subs ...string) string {
	s.t.Helper()
	var scr string
	if pollUntil(60*time.Second, func() bool {
		scr = s.screen()
		for _, sub := range subs {
			if !strings.Contains(scr, sub) {
				return false
			}
		}
		return true
	}) {
		return scr
	}
	s.t.Fatalf("%s: the screen never showed %q:\n%s", what, subs, scr)
	return ""
}

// TestDemoTmux runs the real binary's demo in tmux and uses it as a
// person would: open a message, reply to bob, send, sync bob, find the
// reply in bob's INBOX, search for it and delete it.
func TestDemoTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the demo")
	}
	// A demo command that is gone fails here, not as a skip.
	if c, _, err := newRootCmd(&env{getenv: os.Getenv}).Find([]string{"demo"}); err != nil || c.Name() != "demo" {
		t.Fatalf("letterbox demo is not a command (%v)", err)
	}
	tmux := testpeer.Require(t, "tmux", "tmux")
	dir := t.TempDir()
	bin := filepath.Join(dir, "letterbox")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s := &tmuxSession{t: t, tmux: tmux, socket: fmt.Sprintf("letterbox-test-%d", os.Getpid())}
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	script := fmt.Sprintf("env HOME=%s XDG_STATE_HOME=%s/state XDG_CONFIG_HOME=%s/config XDG_DATA_HOME=%s/data TMPDIR=%s %s demo; echo DEMO-EXIT $?; sleep 600",
		home, home, home, home, dir, bin)
	s.cmd("new-session", "-d", "-s", "demo", "-x", "120", "-y", "40", script)
	t.Cleanup(func() { exec.Command(tmux, "-L", s.socket, "kill-server").Run() })

	scr := s.waitFor("first sync", "alice ●", "bob ●", "alice › INBOX")
	if !strings.HasPrefix(scr, "letterbox alice") {
		t.Fatalf("something printed over the screen:\n%s", scr)
	}
	// Keys typed faster than the terminal is read arrive as one read
	// ("jjjj"); each must still move the cursor (issue 15 item 1).
	pos := regexp.MustCompile(`\b1/(\d+)\b`).FindStringSubmatch(s.waitFor("list position", "1/"))
	if pos == nil {
		t.Fatalf("no list position on screen:\n%s", s.screen())
	}
	if total, _ := strconv.Atoi(pos[1]); total < 5 {
		t.Fatalf("demo INBOX has %d messages, the fast-typing check needs 5", total)
	}
	at := func(n int) string { return fmt.Sprintf("· %d/%s", n, pos[1]) }
	s.text("jjjj")
	s.waitFor("four j in one write", at(5))
	s.text("kkkk")
	s.waitFor("four k in one write", at(1))
	if total, _ := strconv.Atoi(pos[1]); total > 21 {
		s.text(strings.Repeat("j", 20))
		s.waitFor("twenty j in one write", at(21))
		s.text(strings.Repeat("k", 20))
		s.waitFor("twenty k in one write", at(1))
	}
	// Folder switches typed fast: three } go three folders on, three {
	// come back.
	s.text("}}}")
	s.waitFor("three } in one write", "alice › Archive")
	s.text("{{{")
	s.waitFor("three { in one write", "alice › INBOX", at(1))
	// The mouse, as the terminal reports it (SGR): a click on the third
	// row selects it, one on the first goes back (issue 15 item 10).
	s.text("\x1b[<0;60;4M\x1b[<0;60;4m")
	s.waitFor("click on the third row", at(3))
	s.text("\x1b[<0;60;2M\x1b[<0;60;2m")
	s.waitFor("click on the first row", at(1))
	// The help overlay in a real terminal: whole sections.
	s.keys("?")
	s.waitFor("help", "Move (list, reader)", "Reader", "Composer", "fold/unfold thread")
	s.keys("q")
	// An Esc typed just before a key comes as that key with Alt (one
	// read; tmux within its escape-time): back to the list, then down.
	s.keys("Enter")
	s.waitFor("open a message", "Subject:", "From:")
	s.text("\x1bj")
	s.waitFor("esc j in one write", at(2))
	s.keys("k")
	s.waitFor("back up", at(1))
	s.keys("Enter")
	s.waitFor("open a message", "Subject:", "From:")
	s.keys("r")
	s.waitFor("reply", "compose", "Re: ")
	s.text("Lunch on Friday works for me.")
	// Up to Subject, then To: address the reply to bob with a unique
	// subject.
	subject := fmt.Sprintf("tmux check %d", time.Now().UnixNano()%100000)
	s.keys("BTab", "C-u")
	s.text(subject)
	s.keys("BTab", "BTab", "BTab", "C-u")
	s.text("bob@example.test")
	s.keys("C-s")
	s.waitFor("send", "alice: 1 sent")

	s.keys("q", "]")
	s.waitFor("switch account", "bob › INBOX")
	s.keys("s")
	s.waitFor("bob's sync", subject)
	s.keys("/")
	s.text("tmux check")
	s.waitFor("search", `search "tmux check": 1`, subject)
	s.keys("Enter", "Enter")
	s.waitFor("read the reply", "Lunch on Friday works for me.", "From:    Alice Example <alice@example.test>")
	s.keys("d")
	s.waitFor("delete", "deleted message", "U undoes", `search "tmux check": 0`)
	// Undo brings it back (issue 15 item 8), then it goes again.
	s.keys("U")
	s.waitFor("undo", "undone: deleted message", `search "tmux check": 1`)
	s.keys("d")
	s.waitFor("delete again", "deleted message", `search "tmux check": 0`)
	// It is in bob's Trash now.
	s.keys("Escape", "Tab", "G", "Enter")
	s.waitFor("Trash", "bob › Trash", subject)
	// In Trash a delete is for good: it asks (issue 15 item 7).
	s.keys("d")
	s.waitFor("delete in Trash", "for good? (no undo) [y/N]")
	s.keys("n")
	s.waitFor("not deleted", "cancelled", subject)
	s.keys("Q")
	s.waitFor("quit", "DEMO-EXIT 0")
	noDemoDirs(t, dir, "after Q")

	// The terminal going away (a closed window, a dropped SSH session:
	// SIGHUP) ends the demo as Q does, and it removes its directory.
	s.cmd("new-session", "-d", "-s", "hup", "-x", "120", "-y", "40", strings.TrimSuffix(script, "; echo DEMO-EXIT $?; sleep 600"))
	if !pollUntil(60*time.Second, func() bool { return strings.Contains(s.cmd("capture-pane", "-p", "-t", "hup"), "alice › INBOX") }) {
		t.Fatalf("the second demo never showed its list:\n%s", s.cmd("capture-pane", "-p", "-t", "hup"))
	}
	s.cmd("kill-session", "-t", "hup")
	noDemoDirs(t, dir, "after a hangup")
}

// noDemoDirs waits until no letterbox-demo-* directory is left in dir
// (the demo's TMPDIR).
func noDemoDirs(t *testing.T, dir, when string) {
	t.Helper()
	var left []string
	if !pollUntil(30*time.Second, func() bool {
		left, _ = filepath.Glob(filepath.Join(dir, "letterbox-demo-*"))
		return len(left) == 0
	}) {
		t.Fatalf("%s: the demo left %v", when, left)
	}
}
