package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/store"
)

// The tests of this file pin the command line's one rule for exit codes
// and messages (README, "Exit codes"): each case is a bullet of issue 14.

// offlineConfig writes a config with an IMAP account alice and a POP3
// account bob whose servers are a port nothing listens on, so commands
// that work on the local store run without a server and a sync fails at
// once.
func offlineConfig(t *testing.T, dir string) {
	t.Helper()
	const cfg = `[[account]]
name = "alice"
email = "alice@example.test"
mode = "imap"
password_cmd = "echo alice"
[account.imap]
host = "127.0.0.1"
port = 1
security = "tls"
[account.smtp]
host = "127.0.0.1"
port = 1
security = "tls"

[[account]]
name = "bob"
email = "bob@example.test"
mode = "pop3"
password_cmd = "echo bob"
[account.pop3]
host = "127.0.0.1"
port = 1
security = "tls"
[account.smtp]
host = "127.0.0.1"
port = 1
security = "tls"
`
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// appendLocal puts a message into an account's local store, as a sync
// would have, and returns its id.
func appendLocal(t *testing.T, dir, account, mailbox, subject string) int64 {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "data", "accounts", account), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateMailbox(ctx, mailbox, ""); err != nil && !strings.Contains(err.Error(), "exists") {
		t.Fatal(err)
	}
	msg := "From: carol@example.test\r\nTo: " + account + "@example.test\r\nSubject: " + subject + "\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@x>\r\n\r\nbody\r\n"
	res, err := st.Append(ctx, mailbox, strings.NewReader(msg), store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

// TestUnknownFlagIsUsage: an unknown flag is exit 2 and named, on every
// kind of command (before, `sync --bogus` looked for an account
// "--bogus" and exited 3).
func TestUnknownFlagIsUsage(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	for _, args := range [][]string{
		{"sync", "--bogus"},
		{"sync", "alice", "--bogus"},
		{"list", "alice", "--bogus"},
		{"search", "alice", "--bogus", "x"},
		{"read", "alice", "1", "--bogus"},
		{"flag", "alice", "1", "+seen", "--bogus"},
		{"account", "list", "--bogus"},
		{"store", "ls", "--bogus"},
		{"serve", "--bogus"},
		{"serve", "user", "list", "--bogus"},
		{"--bogus", "version"},
	} {
		code, _, errs := cli(t, dir, "", args...)
		if code != exitUsage || !strings.Contains(errs, "--bogus") || strings.Contains(errs, "no such account") {
			t.Errorf("letterbox %s: exit %d, stderr %q; want %d naming the flag", strings.Join(args, " "), code, errs, exitUsage)
		}
	}
}

// TestBadLimitSaidOnce: a --limit that is not a number is one message,
// not the message, the usage and the message again.
func TestBadLimitSaidOnce(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	code, out, errs := cli(t, dir, "", "list", "alice", "--limit", "abc")
	if code != exitUsage || strings.Count(out+errs, "abc") != 1 {
		t.Fatalf("--limit abc: exit %d, output %q %q; want exit 2 and the error once", code, out, errs)
	}
}

// TestLimitMustBePositive: --limit 0 or below is a usage error, not an
// empty or unlimited list.
func TestLimitMustBePositive(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	for _, n := range []string{"0", "-3"} {
		for _, args := range [][]string{
			{"list", "alice", "--limit", n},
			{"search", "alice", "--limit", n, "x"},
			{"store", "ls", "--limit", n},
			{"store", "search", "--limit", n, "x"},
		} {
			code, _, errs := cli(t, dir, "", args...)
			if code != exitUsage || !strings.Contains(errs, "--limit") {
				t.Errorf("letterbox %s: exit %d, stderr %q; want %d about --limit", strings.Join(args, " "), code, errs, exitUsage)
			}
		}
	}
}

// TestNotFoundSaidOnce: a missing message or change is named once, exit
// 3 (not "drop change 99999: drop change 99999: not found").
func TestNotFoundSaidOnce(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	for _, args := range [][]string{
		{"read", "alice", "99999"},
		{"flag", "alice", "99999", "+seen"},
		{"move", "alice", "99999", "INBOX"},
		{"delete", "bob", "99999"},
		{"changes", "alice", "--retry", "99999"},
		{"changes", "alice", "--drop", "99999"},
		{"changes", "bob", "--retry", "99999"},
		{"send", "alice", "--reply-to-id", "99999"},
		{"send", "alice", "--draft", "99999"},
		{"send", "alice", "--draft", "99999", "--edit"},
	} {
		code, _, errs := cli(t, dir, "", args...)
		if code != exitNotFound || strings.Count(errs, "99999") != 1 {
			t.Errorf("letterbox %s: exit %d, stderr %q; want %d naming the message once", strings.Join(args, " "), code, errs, exitNotFound)
		}
	}
}

// TestOutboxRetryFailureFails: `outbox --retry` that could not send
// exits 1, like `send`.
func TestOutboxRetryFailureFails(t *testing.T) {
	srv := cliServer(t)
	dir := t.TempDir()
	if code, _, errs := cli(t, dir, "", "account", "add", "alice", "--email", "alice@example.test",
		"--imap", addr(srv, "imaps"), "--smtp", addr(srv, "smtps"), "--security", "tls", "--smtp-security", "tls",
		"--tls-ca", srv.CertFile, "--password-cmd", "echo alice"); code != 0 {
		t.Fatalf("account add: %s", errs)
	}
	// The submission server refuses a sender that is not the login.
	raw := "From: mallory@example.test\r\nTo: bob@example.test\r\nSubject: forged\r\nMessage-ID: <forged@x>\r\n\r\nhi\r\n"
	if code, _, errs := cli(t, dir, raw, "send", "alice", "--raw"); code != exitFailure {
		t.Fatalf("send of a forged sender: exit %d %s; want a refusal", code, errs)
	}
	code, _, errs := cli(t, dir, "", "outbox", "alice", "--retry")
	if code != exitFailure || !strings.Contains(errs, "1 failed") {
		t.Fatalf("outbox --retry refused again: exit %d, stderr %q; want %d", code, errs, exitFailure)
	}
}

// TestSyncFailureOnSummaryLine: a failed sync says why on its summary
// line, for POP3 as for IMAP, and not as counts of nothing, naming the
// account once ("bob: sync failed: pop3 sync: account bob: ..." before).
func TestSyncFailureOnSummaryLine(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	for _, name := range []string{"bob", "alice"} {
		code, out, errs := cli(t, dir, "", "sync", name)
		var summary string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, name+": sync failed") {
				summary = l
			}
		}
		if code != exitFailure || !strings.Contains(summary, "connection refused") || strings.Contains(summary, "0 downloaded") ||
			strings.Count(summary, name) != 1 {
			t.Errorf("sync %s: exit %d, summary %q (stdout %q, stderr %q); want the reason on it", name, code, summary, out, errs)
		}
		// The same in JSON: the result line of the documented shape, not ok, with the reason.
		code, out, errs = cli(t, dir, "", "sync", name, "--json")
		rows := decodeLines(t, out)
		if code != exitFailure || len(rows) == 0 {
			t.Fatalf("sync %s --json: exit %d, stdout %q, stderr %q", name, code, out, errs)
		}
		res := rows[len(rows)-1]
		checkSchema(t, "sync "+map[string]string{"alice": "imap", "bob": "pop3"}[name], res)
		if res["type"] != "result" || res["ok"] != false || !strings.Contains(res["error"].(string), "connection refused") {
			t.Errorf("sync %s --json result: %v", name, res)
		}
	}
}

// TestPasswordStdinEmpty: --password-stdin with nothing on stdin says so.
func TestPasswordStdinEmpty(t *testing.T) {
	dir := t.TempDir()
	for _, stdin := range []string{"", "\n"} {
		code, _, errs := cli(t, dir, stdin, "serve", "user", "add", "--data", filepath.Join(dir, "srv"), "ann@example.test", "--password-stdin")
		if code != exitUsage || !strings.Contains(errs, "stdin was empty") {
			t.Errorf("stdin %q: exit %d, stderr %q; want %d saying stdin was empty", stdin, code, errs, exitUsage)
		}
	}
}

// TestAttachMissingFile: --attach of a file that does not exist is "not
// found", exit 3, before anything is queued.
func TestAttachMissingFile(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	missing := filepath.Join(dir, "no-such-file.pdf")
	code, _, errs := cli(t, dir, "body\n", "send", "alice", "--to", "bob@example.test", "--attach", missing)
	if code != exitNotFound || !strings.Contains(errs, missing) {
		t.Fatalf("--attach missing: exit %d, stderr %q; want %d naming the file", code, errs, exitNotFound)
	}
	if code, out, _ := cli(t, dir, "", "outbox", "alice"); code != 0 || !strings.Contains(out, "empty") {
		t.Fatalf("the Outbox after a refused --attach: %q", out)
	}
}

// TestEventLineSpacing: an event of no folder reads "alice: connect",
// not "alice : connect".
func TestEventLineSpacing(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	_, out, errs := cli(t, dir, "", "sync", "alice")
	if strings.Contains(out+errs, "alice :") || !strings.Contains(out+errs, "alice: connect") {
		t.Fatalf("sync alice printed %q %q", out, errs)
	}
}

// TestConfigErrorLine: an unclosed [[account] on line 1 is reported on
// line 1.
func TestConfigErrorLine(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte("[[account]\nname = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := cli(t, dir, "", "account", "list")
	if code != exitFailure || !strings.Contains(errs, "line 1") {
		t.Fatalf("unclosed [[account]: exit %d, stderr %q; want line 1", code, errs)
	}
}

// TestHelpEverywhere: --help works on every node of the command tree
// and exits 0 (before, `letterbox account --help` was exit 2).
func TestHelpEverywhere(t *testing.T) {
	dir := t.TempDir()
	for _, path := range helpPaths(t) {
		args := append(strings.Fields(path), "--help")
		code, out, errs := cli(t, dir, "", args...)
		if code != exitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("letterbox %s --help: exit %d, stdout %q, stderr %q", path, code, out, errs)
		}
	}
}

// TestFlagNames: standard flags by name, keywords with $ or --keyword,
// and a typo is a usage error with a suggestion instead of a new keyword.
func TestFlagNames(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	id := appendLocal(t, dir, "bob", store.Inbox, "flag names")
	sid := itoa(id)
	code, _, errs := cli(t, dir, "", "flag", "bob", sid, "+flaged")
	if code != exitUsage || !strings.Contains(errs, "did you mean flagged?") {
		t.Fatalf("+flaged: exit %d, stderr %q; want %d with a suggestion", code, errs, exitUsage)
	}
	if code, _, errs := cli(t, dir, "", "flag", "bob", sid, "+Project"); code != exitUsage || !strings.Contains(errs, "--keyword") {
		t.Fatalf("+Project: exit %d, stderr %q; want %d pointing at $ or --keyword", code, errs, exitUsage)
	}
	for _, args := range [][]string{
		{"flag", "bob", sid, "+flagged", "-seen", "+answered", "+draft"},
		{"flag", "bob", sid, "+$Label1"},
		{"flag", "bob", sid, "--keyword", "+Project"},
	} {
		if code, _, errs := cli(t, dir, "", args...); code != 0 {
			t.Fatalf("letterbox %s: exit %d %s", strings.Join(args, " "), code, errs)
		}
	}
	code, out, _ := cli(t, dir, "", "list", "bob", "--json")
	rows := decodeLines(t, out)
	if code != 0 || len(rows) != 1 {
		t.Fatalf("list bob: %d %q", code, out)
	}
	got := map[string]bool{}
	for _, f := range rows[0]["flags"].([]any) {
		got[f.(string)] = true
	}
	for _, f := range []string{`\Flagged`, `\Answered`, `\Draft`, "$Label1", "Project"} {
		if !got[f] {
			t.Errorf("flags %v lack %s", got, f)
		}
	}
	if got[`\Seen`] || got["flaged"] {
		t.Errorf("flags %v", got)
	}
}

// TestDeleteFromTrashAsks: deleting what is in Trash already deletes it
// for good, so it needs --yes (or a yes at a terminal prompt).
func TestDeleteFromTrashAsks(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	id := itoa(appendLocal(t, dir, "bob", store.Inbox, "to trash"))
	if code, _, errs := cli(t, dir, "", "delete", "bob", id); code != 0 {
		t.Fatalf("delete to Trash: %d %s", code, errs)
	}
	code, _, errs := cli(t, dir, "", "delete", "bob", id)
	if code != exitUsage || !strings.Contains(errs, "--yes") {
		t.Fatalf("delete from Trash without a terminal: exit %d, stderr %q; want %d asking for --yes", code, errs, exitUsage)
	}
	if code, out, _ := cli(t, dir, "", "list", "bob", "--folder", "Trash", "--json"); code != 0 || len(decodeLines(t, out)) != 1 {
		t.Fatalf("Trash after a refused delete: %q", out)
	}
	if code, _, errs := cli(t, dir, "", "delete", "bob", id, "--yes"); code != 0 {
		t.Fatalf("delete --yes: %d %s", code, errs)
	}
	if code, out, _ := cli(t, dir, "", "list", "bob", "--folder", "Trash", "--json"); code != 0 || len(decodeLines(t, out)) != 0 {
		t.Fatalf("Trash after delete --yes: %q", out)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// helpPaths are the nodes of the command tree, walked from the root
// (so a command added later is checked too), and at least the ones
// listed in wantPaths.
func helpPaths(t *testing.T) []string {
	t.Helper()
	var paths []string
	var walk func(c *cobra.Command, prefix []string)
	walk = func(c *cobra.Command, prefix []string) {
		paths = append(paths, strings.Join(prefix, " "))
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(prefix), sub.Name()))
		}
	}
	root := newRootCmd(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
	root.InitDefaultHelpCmd() // as Execute does
	walk(root, nil)
	for _, w := range wantPaths {
		if !slices.Contains(paths, w) {
			t.Errorf("the command tree has no %q", w)
		}
	}
	return paths
}

// wantPaths are commands the tree must have (a walk alone would not
// notice one that went missing).
var wantPaths = []string{"", "account", "account add", "account list", "account show", "account test", "account remove",
	"account password", "account auth", "sync", "list", "search", "read", "flag", "move", "delete", "send", "outbox",
	"folder", "folder list", "folder add", "folder rm", "folder rename", "folder subscribe", "folder unsubscribe",
	"changes", "ui", "demo", "version",
	"serve", "serve user", "serve user add", "serve user passwd", "serve user del", "serve user list",
	"serve queue", "serve queue list", "serve queue retry", "serve queue drop", "serve dkim", "serve dkim keygen",
	"store", "store import", "store ls", "store search", "store show", "store check", "store export", "store demo",
	"completion", "completion bash", "completion zsh", "completion fish", "man", "help"}

// TestServeHelpDefaults: the listener flags show their real defaults,
// not the "\x00" the old flag parser used as "not given" (issue 12 item
// 10).
func TestServeHelpDefaults(t *testing.T) {
	code, out, _ := cli(t, t.TempDir(), "", "serve", "--help")
	if code != 0 || strings.Contains(out, `\x00`) || strings.Contains(out, "\x00") || !strings.Contains(out, "default :25, 127.0.0.1:2525 with --dev") {
		t.Fatalf("serve --help: exit %d\n%s", code, out)
	}
}

// TestGlobalFlagsAnywhere: --config and --data work before and after the
// command, and for serve's subcommands.
func TestGlobalFlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	cfg, data := filepath.Join(dir, "config.toml"), filepath.Join(dir, "data")
	for _, args := range [][]string{
		{"--config", cfg, "--data", data, "account", "list"},
		{"account", "list", "--config", cfg, "--data", data},
		{"account", "--config", cfg, "list", "--data=" + data},
	} {
		var out, errb strings.Builder
		code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
		if code != 0 || !strings.Contains(out.String(), "alice") || !strings.Contains(out.String(), "bob") {
			t.Errorf("letterbox %s: exit %d, %q %q", strings.Join(args, " "), code, out.String(), errb.String())
		}
	}
	srv := filepath.Join(dir, "srv")
	for _, args := range [][]string{
		{"serve", "user", "add", "--data", srv, "ann@example.test", "--password-stdin"},
		{"--data", srv, "serve", "user", "passwd", "ann@example.test", "--password-stdin"},
	} {
		var out, errb strings.Builder
		if code := run(context.Background(), args, strings.NewReader("secret\n"), &out, &errb); code != 0 {
			t.Fatalf("letterbox %s: exit %d %s", strings.Join(args, " "), code, errb.String())
		}
	}
	var out strings.Builder
	if code := run(context.Background(), []string{"serve", "user", "list", "--data", srv}, strings.NewReader(""), &out, io.Discard); code != 0 || strings.TrimSpace(out.String()) != "ann@example.test" {
		t.Fatalf("serve user list: %d %q", code, out.String())
	}
	if code := run(context.Background(), []string{"serve", "user", "del", "--data", srv, "nobody@example.test"}, strings.NewReader(""), io.Discard, io.Discard); code != exitNotFound {
		t.Fatalf("serve user del of a missing user: exit %d", code)
	}
}
