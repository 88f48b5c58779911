package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/store"
)

// addAlice adds the IMAP account alice of srv to the CLI's config in dir.
func addAlice(t *testing.T, srv *server.Server, dir string) {
	t.Helper()
	if code, _, errs := cli(t, dir, "", "account", "add", "alice", "--email", "alice@example.test",
		"--imap", addr(srv, "imaps"), "--smtp", addr(srv, "smtps"), "--security", "tls", "--smtp-security", "tls",
		"--tls-ca", srv.CertFile, "--password-cmd", "echo alice"); code != 0 {
		t.Fatalf("account add: %s", errs)
	}
}

// serverFolders lists alice's folders on srv.
func serverFolders(t *testing.T, srv *server.Server) []string {
	t.Helper()
	st, err := srv.Backend.Store(context.Background(), "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	mbs, err := st.Mailboxes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range mbs {
		out = append(out, m.Name)
	}
	return out
}

// TestFolderCLI: folder add, rename, rm, unsubscribe and list, made
// before a sync, reach the server with it; refusals have their exit
// codes; a POP3 account says its folders are local.
func TestFolderCLI(t *testing.T) {
	srv := cliServer(t)
	dir := t.TempDir()
	addAlice(t, srv, dir)
	ok := func(stdin string, args ...string) (string, string) {
		t.Helper()
		code, out, errs := cli(t, dir, stdin, args...)
		if code != 0 {
			t.Fatalf("letterbox %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out, errs
	}
	ok("", "folder", "add", "alice", "Projects")
	ok("", "folder", "add", "alice", "Projects/2026")
	ok("", "folder", "add", "alice", "Old")
	ok("", "folder", "rename", "alice", "Projects", "Work")
	ok("", "folder", "unsubscribe", "alice", "Work/2026")
	ok("", "folder", "rm", "alice", "Old")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"folder", "rm", "alice", "INBOX"}, exitUsage},
		{[]string{"folder", "rm", "alice", "Work"}, exitUsage}, // a folder below it
		{[]string{"folder", "rm", "alice", "Nope"}, exitNotFound},
		{[]string{"folder", "add", "alice", "a//b"}, exitUsage},
		{[]string{"folder", "add", "alice", "Work"}, exitFailure}, // exists
		{[]string{"folder", "rename", "alice", "Outbox", "X"}, exitUsage},
		{[]string{"folder", "add", "nobody", "X"}, exitNotFound},
	} {
		if code, _, errs := cli(t, dir, "", tc.args...); code != tc.code {
			t.Errorf("letterbox %s: exit %d, want %d (%s)", strings.Join(tc.args, " "), code, tc.code, errs)
		}
	}
	out, _ := ok("", "changes", "alice")
	for _, want := range []string{"create folder Projects", "rename folder Projects to Work", "unsubscribe from Work/2026", "delete folder Old"} {
		if !strings.Contains(out, want) {
			t.Errorf("changes lack %q:\n%s", want, out)
		}
	}
	ok("", "sync", "alice")
	got := serverFolders(t, srv)
	for _, want := range []string{"Work", "Work/2026"} {
		if !slices.Contains(got, want) {
			t.Errorf("server folders %v lack %s", got, want)
		}
	}
	for _, gone := range []string{"Projects", "Old"} {
		if slices.Contains(got, gone) {
			t.Errorf("server folders %v still have %s", got, gone)
		}
	}
	if out, _ := ok("", "changes", "alice"); !strings.Contains(out, "no changes wait") {
		t.Errorf("changes after sync:\n%s", out)
	}
	rows := decodeLines(t, func() string { o, _ := ok("", "folder", "list", "alice", "--json"); return o }())
	var names []string
	for _, r := range rows {
		checkSchema(t, "folder list", r)
		names = append(names, r["name"].(string))
		if r["name"] == "Work/2026" && r["subscribed"] != false {
			t.Errorf("Work/2026: %v", r)
		}
	}
	if !slices.Contains(names, "Work") || slices.Contains(names, "Old") {
		t.Errorf("folder list: %v", names)
	}

	// A full folder goes only with --yes (no terminal here).
	st, _ := srv.Backend.Store(context.Background(), "alice@example.test")
	if _, err := st.Append(context.Background(), "Work", strings.NewReader("Subject: x\r\nMessage-ID: <f1@x>\r\n\r\nx\r\n"), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	ok("", "sync", "alice")
	if code, _, errs := cli(t, dir, "", "folder", "rm", "alice", "Work/2026"); code != 0 {
		t.Fatalf("rm Work/2026: %s", errs)
	}
	if code, _, errs := cli(t, dir, "", "folder", "rm", "alice", "Work"); code != exitUsage || !strings.Contains(errs, "--yes") {
		t.Errorf("rm of a full folder without --yes: exit %d: %s", code, errs)
	}
	ok("", "folder", "rm", "alice", "Work", "--yes")
	ok("", "sync", "alice")
	if got := serverFolders(t, srv); slices.Contains(got, "Work") {
		t.Errorf("server still has Work: %v", got)
	}

	// POP3: local only, and said so.
	if code, _, errs := cli(t, dir, "", "account", "add", "bob", "--email", "bob@example.test", "--mode", "pop3", "--pop3", addr(srv, "pop3s"),
		"--smtp", addr(srv, "submission"), "--security", "tls", "--smtp-security", "starttls", "--tls-ca", srv.CertFile, "--password-cmd", "echo bob"); code != 0 {
		t.Fatal(errs)
	}
	if _, errs := ok("", "folder", "add", "bob", "Kept"); !strings.Contains(errs, "only on this computer") {
		t.Errorf("POP3 folder add: %q", errs)
	}
}

// TestSendWrongSMTPPassword: a refused SMTP login keeps the message in
// the Outbox and says so, with the way to send it; once the password is
// right, outbox --flush sends it once.
func TestSendWrongSMTPPassword(t *testing.T) {
	srv := cliServer(t)
	dir := t.TempDir()
	addAlice(t, srv, dir)
	setPasswordCmd(t, dir, "echo wrong")
	code, _, errs := cli(t, dir, "body\n", "send", "alice", "--to", "bob@example.test", "--subject", "wrong password")
	if code != exitFailure {
		t.Fatalf("send: exit %d: %s", code, errs)
	}
	for _, want := range []string{"queued in the Outbox", "refused the login (535", "password_cmd", "letterbox outbox alice --flush"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	code, out, _ := cli(t, dir, "", "outbox", "alice", "--json")
	if q := decodeLines(t, out); code != 0 || len(q) != 1 || q[0]["state"] != "waiting" {
		t.Fatalf("outbox: %d %s", code, out)
	}
	setPasswordCmd(t, dir, "echo alice")
	if code, _, errs := cli(t, dir, "", "outbox", "alice", "--flush"); code != 0 {
		t.Fatalf("outbox --flush: %s", errs)
	}
	waitFor(t, "one delivery to bob", func() bool {
		bst, _ := srv.Backend.Store(context.Background(), "bob@example.test")
		n, _ := bst.Count(context.Background(), `subject:"wrong password"`, store.SearchOptions{})
		return n == 1
	})
}

// setPasswordCmd rewrites the password_cmd of every account in dir.
func setPasswordCmd(t *testing.T, dir, cmd string) {
	t.Helper()
	path := dir + "/config.toml"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "password_cmd") {
			l = fmt.Sprintf("password_cmd = %q", cmd)
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}
