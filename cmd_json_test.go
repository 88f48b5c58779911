package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The --json schemas of docs/cli.md, key by key. A key added to a shape
// must be added here and to docs/cli.md; none may be renamed or removed.
var (
	messageKeys = []string{"date", "flags", "from", "has_attachment", "id", "mailbox", "message_id", "size", "subject", "thread_id", "to", "uid"}
	accountKeys = []string{"auth", "email", "incoming", "login", "mode", "name", "smtp"}
	schemas     = map[string]struct{ required, optional []string }{
		"message":      {messageKeys, nil},
		"read":         {append(slices.Clone(messageKeys), "attachments", "from_html", "headers", "partial", "problems", "text"), nil},
		"header":       {[]string{"name", "value"}, nil},
		"attachment":   {[]string{"content_type", "filename", "inline", "part", "size"}, nil},
		"account":      {accountKeys, nil},
		"account show": {append(slices.Clone(accountKeys), "failed_changes", "folders", "pending_changes"), nil},
		"folder":       {[]string{"name", "special_use", "total", "unread"}, nil},
		"folder list":  {[]string{"name", "special_use", "subscribed", "total", "unread"}, nil},
		"change":       {[]string{"attempts", "created", "description", "id", "last_error", "op", "state"}, nil},
		"sync event":   {[]string{"account", "done", "mailbox", "phase", "t", "total", "type"}, []string{"bytes", "error", "note"}},
		"sync imap": {[]string{"account", "adopted", "bodies", "error", "expunged", "flag_changes", "mailboxes", "mode", "new", "notes",
			"ok", "outbox_error", "push_dropped", "push_failed", "pushed", "sent", "type"}, nil},
		"sync pop3": {[]string{"account", "bytes", "deleted", "downloaded", "error", "failed", "mode", "ok", "on_server", "outbox_error",
			"sent", "skipped", "type", "vanished"}, nil},
		"outbox":  {[]string{"attempts", "code", "date", "enhanced_code", "last_attempt", "last_error", "message_id", "state", "subject", "to", "uid"}, nil},
		"mailbox": {[]string{"name", "special_use", "total", "uidnext", "uidvalidity", "unread"}, nil},
		"check":   {[]string{"clean", "dropped", "duplicates", "indexed", "mailboxes", "messages", "problems", "repaired"}, nil},
		"oauth2 device": {[]string{"account", "expires_at", "flow", "type", "user_code", "verification_uri"},
			[]string{"verification_uri_complete"}},
		"oauth2 browser": {[]string{"account", "flow", "opened", "type", "url"}, nil},
		"account auth":   {[]string{"name", "token_file", "token_store"}, nil},
	}
)

// checkSchema fails unless row has the keys of the named schema.
func checkSchema(t *testing.T, name string, row map[string]any) {
	t.Helper()
	s, ok := schemas[name]
	if !ok {
		t.Fatalf("no schema %q", name)
	}
	var keys []string
	for k := range row {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range s.required {
		if _, ok := row[k]; !ok {
			t.Errorf("%s: key %q missing from %v", name, k, keys)
		}
	}
	for _, k := range keys {
		if !slices.Contains(s.required, k) && !slices.Contains(s.optional, k) {
			t.Errorf("%s: unknown key %q (add it to the schema and docs/cli.md)", name, k)
		}
	}
}

// oneLine decodes output that must be JSON Lines of exactly n objects.
func jsonLines(t *testing.T, what, out string, n int) []map[string]any {
	t.Helper()
	rows := decodeLines(t, out)
	if n >= 0 && len(rows) != n {
		t.Fatalf("%s: %d lines, want %d:\n%s", what, len(rows), n, out)
	}
	return rows
}

// TestJSONSchemas runs every --json output against a server and pins
// its keys: one object per line, snake_case, the documented set.
func TestJSONSchemas(t *testing.T) {
	srv := cliServer(t)
	dir := t.TempDir()
	run := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errs := cli(t, dir, stdin, args...)
		if code != 0 {
			t.Fatalf("letterbox %s: exit %d\n%s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	out := run("", "account", "add", "alice", "--email", "alice@example.test", "--imap", addr(srv, "imaps"), "--smtp", addr(srv, "smtps"),
		"--security", "tls", "--smtp-security", "tls", "--tls-ca", srv.CertFile, "--password-cmd", "echo alice", "--json")
	checkSchema(t, "account", jsonLines(t, "account add", out, 1)[0])
	run("", "account", "add", "bob", "--email", "bob@example.test", "--mode", "pop3", "--pop3", addr(srv, "pop3s"),
		"--smtp", addr(srv, "submission"), "--security", "tls", "--smtp-security", "starttls", "--tls-ca", srv.CertFile, "--password-cmd", "echo bob")
	for _, row := range jsonLines(t, "account list", run("", "account", "list", "--json"), 2) {
		checkSchema(t, "account", row)
	}

	for _, name := range []string{"alice", "bob"} {
		rows := jsonLines(t, "sync "+name, run("", "sync", name, "--json"), -1)
		if len(rows) < 2 {
			t.Fatalf("sync %s --json: %v", name, rows)
		}
		for _, ev := range rows[:len(rows)-1] {
			checkSchema(t, "sync event", ev)
		}
		res := rows[len(rows)-1]
		mode := map[string]string{"alice": "imap", "bob": "pop3"}[name]
		checkSchema(t, "sync "+mode, res)
		if res["type"] != "result" || res["ok"] != true || res["mode"] != mode {
			t.Fatalf("sync %s result: %v", name, res)
		}
	}
	show := jsonLines(t, "account show", run("", "account", "show", "alice", "--json"), 1)[0]
	checkSchema(t, "account show", show)
	for _, f := range show["folders"].([]any) {
		checkSchema(t, "folder", f.(map[string]any))
	}

	msgs := jsonLines(t, "list", run("", "list", "alice", "--json", "--limit", "3"), 3)
	for _, m := range msgs {
		checkSchema(t, "message", m)
	}
	for _, m := range jsonLines(t, "search", run("", "search", "alice", "--json", "--limit", "2", "-is:flagged"), 2) {
		checkSchema(t, "message", m)
	}
	id := fmt.Sprint(int64(msgs[0]["id"].(float64)))
	rd := jsonLines(t, "read", run("", "read", "alice", id, "--json"), 1)[0]
	checkSchema(t, "read", rd)
	for _, h := range rd["headers"].([]any) {
		checkSchema(t, "header", h.(map[string]any))
	}
	// A message with an attachment, for the attachments' keys.
	att := jsonLines(t, "search has:attachment", run("", "search", "alice", "--json", "--limit", "1", "has:attachment"), 1)[0]
	rd = jsonLines(t, "read", run("", "read", "alice", fmt.Sprint(int64(att["id"].(float64))), "--json"), 1)[0]
	checkSchema(t, "read", rd)
	if as := rd["attachments"].([]any); len(as) == 0 {
		t.Errorf("read --json of a message with an attachment: no attachments in %v", rd)
	} else {
		for _, a := range as {
			checkSchema(t, "attachment", a.(map[string]any))
		}
	}

	for _, row := range jsonLines(t, "folder list", run("", "folder", "list", "alice", "--json"), -1) {
		checkSchema(t, "folder list", row)
	}
	run("", "folder", "add", "alice", "JSON")
	for _, row := range jsonLines(t, "changes", run("", "changes", "alice", "--json"), -1) {
		checkSchema(t, "change", row)
	}

	run("queued\n", "send", "alice", "--to", "bob@example.test", "--subject", "json outbox", "--queue")
	for _, row := range jsonLines(t, "outbox", run("", "outbox", "alice", "--json"), 1) {
		checkSchema(t, "outbox", row)
	}

	st := filepath.Join(dir, "data", "accounts", "alice")
	for _, row := range jsonLines(t, "store ls --mailboxes", run("", "store", "ls", "--store", st, "--mailboxes", "--json"), -1) {
		checkSchema(t, "mailbox", row)
	}
	for _, row := range jsonLines(t, "store ls", run("", "store", "ls", "--store", st, "--json", "--limit", "2"), 2) {
		checkSchema(t, "message", row)
	}
	for _, row := range jsonLines(t, "store search", run("", "store", "search", "--store", st, "--json", "--limit", "2", "-is:flagged"), 2) {
		checkSchema(t, "message", row)
	}
	checkSchema(t, "check", jsonLines(t, "store check", run("", "store", "check", "--store", st, "--json"), 1)[0])
}
