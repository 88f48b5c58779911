package main

// Commands given what can never work (a bad flag value, source, name or
// file, a refused login under --watch) say so once, in words, with the
// exit code docs/cli.md gives (issue 14).

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWatchStopsOnRefusedLogin: `sync --watch` whose password the server
// refuses stops by itself with exit 1 and says why once (before, the
// outbox ticker of the IMAP watch kept it running until Ctrl-C, and the
// reason was printed twice).
func TestWatchStopsOnRefusedLogin(t *testing.T) {
	srv := cliServer(t)
	dir := t.TempDir()
	imapHost, imapPort, _ := net.SplitHostPort(addr(srv, "imaps"))
	smtpHost, smtpPort, _ := net.SplitHostPort(addr(srv, "smtps"))
	cfg := fmt.Sprintf(`[[account]]
name = "alice"
email = "alice@example.test"
mode = "imap"
password_cmd = "echo wrong"
tls_ca = %q
[account.imap]
host = %q
port = %s
security = "tls"
[account.smtp]
host = %q
port = %s
security = "tls"
`, srv.CertFile, imapHost, imapPort, smtpHost, smtpPort)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		all := []string{"--config", filepath.Join(dir, "config.toml"), "--data", filepath.Join(dir, "data"),
			"sync", "--watch", "--interval", "1h", "alice"}
		code := run(ctx, all, strings.NewReader(""), &out, &errb)
		done <- result{code, out.String(), errb.String()}
	}()
	select {
	case r := <-done:
		if r.code != exitFailure || strings.Count(r.err, "AUTHENTICATIONFAILED") != 1 {
			t.Fatalf("sync --watch with a refused password: exit %d, stderr %q; want %d and the reason once", r.code, r.err, exitFailure)
		}
	case <-time.After(60 * time.Second):
		cancel()
		r := <-done
		t.Fatalf("sync --watch with a refused password still ran after 60s (stopped by cancel: exit %d, stderr %q)", r.code, r.err)
	}
}

// TestFlagValueErrors: a bad value of any flag is exit 2 in words, like
// --limit's, not Go's parser errors ("strconv.ParseInt: parsing ...").
func TestFlagValueErrors(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"changes", "alice", "--drop", "abc"}, "want a whole number"},
		{[]string{"changes", "alice", "--retry", "99999999999999999999"}, "want a whole number"},
		{[]string{"send", "alice", "--reply-to-id", "x", "--to", "bob@example.test"}, "want a whole number"},
		{[]string{"store", "ls", "--offset", "x"}, "want a whole number"},
		{[]string{"sync", "--watch", "--interval", "soon"}, "want a duration"},
		{[]string{"list", "alice", "--json=maybe"}, "want true or false"},
		{[]string{"search", "alice", "--limit", "x", "budget"}, "want a whole number"},
		{[]string{"store", "search", "--all", "--limit", "2", "budget"}, "exclude each other"},
	} {
		code, _, errs := cli(t, dir, "", c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) || strings.Contains(errs, "strconv.") || strings.Contains(errs, "time: ") {
			t.Errorf("letterbox %s: exit %d, stderr %q; want %d saying %q", strings.Join(c.args, " "), code, errs, exitUsage, c.want)
		}
	}
}

// TestStoreMissing: the store commands that read a store say so when
// there is none at --store, exit 3, and do not create one there.
func TestStoreMissing(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-store")
	for _, args := range [][]string{
		{"store", "ls", "--store", missing},
		{"store", "ls", "--store", missing, "--mailboxes"},
		{"store", "search", "--store", missing, "budget"},
		{"store", "show", "--store", missing, "1"},
		{"store", "check", "--store", missing},
		{"store", "export", "--store", missing, filepath.Join(dir, "out.mbox")},
	} {
		code, _, errs := cli(t, dir, "", args...)
		if code != exitNotFound || !strings.Contains(errs, missing) {
			t.Errorf("letterbox %s: exit %d, stderr %q; want %d naming the store", strings.Join(args, " "), code, errs, exitNotFound)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("letterbox %s created %s", strings.Join(args, " "), missing)
		}
	}
}

// TestAccountAddChecksFlagsFirst: a setting of account add that can never
// work is a usage error before the password is asked for and before
// any server is looked for (before, --mode imapx asked for the password,
// then searched the servers, then refused; a bad --pop3-policy got as
// far as the network).
func TestAccountAddChecksFlagsFirst(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"z", "--email", "z@example.test", "--mode", "imapx"}, "imapx"},
		{[]string{"z", "--email", "z@example.test", "--security", "foo"}, "foo"},
		{[]string{"z", "--email", "z@example.test", "--smtp-security", "bar"}, "bar"},
		{[]string{"z", "--email", "z@example.test", "--mode", "pop3", "--pop3-policy", "keep-days:x"}, "keep-days:x"},
		{[]string{"z", "--email", "z@example.test", "--imap", "host:badport"}, "badport"},
		{[]string{"z", "--email", "z@example.test", "--smtp", "host:0"}, "host:0"},
		{[]string{"z", "--email", "notanaddress"}, "notanaddress"},
		{[]string{"a b", "--email", "z@example.test"}, `"a b"`},
	} {
		args := append([]string{"account", "add"}, c.args...)
		args = append(args, "--password-stdin")
		code, out, errs := cli(t, dir, "", args...)
		if code != exitUsage || !strings.Contains(errs, c.want) || strings.Contains(errs, "stdin was empty") || strings.Contains(out+errs, "finding the servers") {
			t.Errorf("letterbox %s: exit %d, stdout %q, stderr %q; want %d about %s before the password and the servers",
				strings.Join(args, " "), code, out, errs, exitUsage, c.want)
		}
	}
}

// TestBadSourcesAndNames: a store import source that is no mail source,
// and a DKIM domain or selector that is no DNS name, are usage errors
// that write nothing (before, keygen wrote "DATA/dkim/bad domain.x.pem"
// and "../x" reached outside DATA/dkim; import said "after 0 messages"
// and exit 1).
func TestBadSourcesAndNames(t *testing.T) {
	dir := t.TempDir()
	notMail := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notMail, []byte("just some text\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := cli(t, dir, "", "store", "import", "--store", filepath.Join(dir, "st"), notMail)
	if code != exitUsage || !strings.Contains(errs, notMail) || strings.Contains(errs, "after 0 messages") {
		t.Errorf("store import of a text file: exit %d, stderr %q; want %d naming it", code, errs, exitUsage)
	}
	srv := filepath.Join(dir, "srv")
	for _, args := range [][]string{
		{"bad domain"},
		{"../evil"},
		{"-x.example.org"},
		{"example..org"},
		{"example.org", "--selector", "a b"},
		{"example.org", "--selector", "../s"},
	} {
		all := append([]string{"serve", "dkim", "keygen", "--data", srv}, args...)
		code, _, errs := cli(t, dir, "", all...)
		if code != exitUsage {
			t.Errorf("letterbox %s: exit %d, stderr %q; want %d", strings.Join(all, " "), code, errs, exitUsage)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(srv, "dkim")); len(ents) > 0 {
		t.Errorf("refused keygens wrote %v", ents)
	}
	if _, err := os.Stat(filepath.Join(dir, "evil.letterbox.pem")); err == nil {
		t.Errorf("keygen ../evil wrote outside DATA/dkim")
	}
	code, out, errs := cli(t, dir, "", "serve", "dkim", "keygen", "--data", srv, "Mail.Example.org", "--selector", "s2026")
	if code != 0 || !strings.Contains(out, "s2026._domainkey.mail.example.org.") {
		t.Fatalf("keygen of a good domain: exit %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(srv, "dkim", "mail.example.org.s2026.pem")); err != nil {
		t.Fatal(err)
	}
}

// TestFolderExistsSaidOnce: creating or renaming onto a folder that
// exists names it once ("create folder Archive: create mailbox
// "Archive": already exists" before), exit 1.
func TestFolderExistsSaidOnce(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	for _, acct := range []string{"alice", "bob"} {
		appendLocal(t, dir, acct, "Taken", "taken")
		appendLocal(t, dir, acct, "Other", "other")
	}
	for _, args := range [][]string{
		{"folder", "add", "bob", "Taken"},
		{"folder", "rename", "bob", "Other", "Taken"},
		{"folder", "add", "alice", "Taken"},
		{"folder", "rename", "alice", "Other", "Taken"},
	} {
		code, _, errs := cli(t, dir, "", args...)
		if code != exitFailure || strings.Count(errs, "Taken") != 1 || strings.Count(errs, "Other") > 1 || !strings.Contains(errs, "already exists") {
			t.Errorf("letterbox %s: exit %d, stderr %q; want %d naming Taken once", strings.Join(args, " "), code, errs, exitFailure)
		}
	}
}

// TestSyncInterrupted: Ctrl-C (the context ending) stops a sync of
// several accounts: the next one is not started, and the closing line
// says it was interrupted (exit 1: the sync did not complete).
func TestSyncInterrupted(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"--config", filepath.Join(dir, "config.toml"), "--data", filepath.Join(dir, "data"), "sync", "alice", "bob"},
		strings.NewReader(""), &out, &errb)
	if code != exitFailure || strings.Contains(out.String(), "bob") || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("sync alice bob after Ctrl-C: exit %d, stdout %q, stderr %q; want %d, bob not started, \"interrupted\"", code, out.String(), errb.String(), exitFailure)
	}
}

// TestServeMissingFiles: serve with a --config, --tls-cert or --tls-key
// that does not exist is "not found", exit 3, naming the file.
func TestServeMissingFiles(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	off := []string{"--smtp-addr", "127.0.0.1:0", "--submission-addr", "", "--smtps-addr", "", "--imap-addr", "", "--imaps-addr", "",
		"--pop3-addr", "", "--pop3s-addr", ""}
	for _, args := range [][]string{
		{"serve", "--dev", "--config", missing + ".toml"},
		append([]string{"serve", "--domains", "example.org", "--tls-cert", missing + ".pem", "--tls-key", missing + ".key"}, off...),
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append(args, "--data", filepath.Join(dir, "srv")), strings.NewReader(""), &out, &errb)
		if code != exitNotFound || !strings.Contains(errb.String(), missing) {
			t.Errorf("letterbox %s: exit %d, stderr %q; want %d naming the file", strings.Join(args, " "), code, errb.String(), exitNotFound)
		}
	}
}

// TestErrorContinuationLines: an error of several lines (both servers of
// account test failing, a query with its caret) begins with "letterbox:"
// and indents the lines after the first, so that each line of stderr is
// either an error or visibly part of the one above; the caret stays
// under the fault.
func TestErrorContinuationLines(t *testing.T) {
	dir := t.TempDir()
	offlineConfig(t, dir)
	code, _, errs := cli(t, dir, "", "account", "test", "alice")
	lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
	if code != exitFailure || len(lines) < 2 || !strings.HasPrefix(lines[0], "letterbox: ") {
		t.Fatalf("account test alice: exit %d, stderr %q", code, errs)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("account test alice: line %q is neither an error nor indented under one (stderr %q)", l, errs)
		}
	}
	code, _, errs = cli(t, dir, "", "search", "bob", "from:ann (budget")
	lines = strings.Split(errs, "\n")
	if code != exitUsage || len(lines) < 3 || lines[1] != "  from:ann (budget" || lines[2] != "  "+strings.Repeat(" ", 9)+"^" {
		t.Fatalf("search with an open parenthesis: exit %d, stderr %q", code, errs)
	}
}
