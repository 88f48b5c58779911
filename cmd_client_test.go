package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/store"
)

// cliServer starts letterbox serve in-process on loopback with the demo
// users (alice/alice, bob/bob) and their sample mail.
func cliServer(t *testing.T) *server.Server {
	t.Helper()
	lo := "127.0.0.1:0"
	cfg := &server.Config{Dev: true, Hostname: "mx.example.test", Domains: []string{"example.test"}, Data: t.TempDir(),
		Listen: server.Listen{SMTP: lo, Submission: lo, SMTPS: lo, IMAP: lo, IMAPS: lo, POP3: lo, POP3S: lo}}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SeedDev(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// cli runs the command line with a hermetic config and data directory.
func cli(t *testing.T, dir string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"--config", filepath.Join(dir, "config.toml"), "--data", filepath.Join(dir, "data")}, args...)
	code := run(context.Background(), all, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func addr(s *server.Server, name string) string { return s.Addr(name).String() }

// TestClientCLI drives the headless client against our server: an IMAP
// account and a POP3 account are added (servers given, login tested),
// synced, read, changed and used to send; the changes reach the server.
func TestClientCLI(t *testing.T) {
	srv := cliServer(t)
	dir := t.TempDir()
	ca := srv.CertFile

	// Wrong password: refused, nothing saved.
	code, _, errs := cli(t, dir, "", "account", "add", "bad", "--email", "alice@example.test",
		"--imap", addr(srv, "imaps"), "--smtp", addr(srv, "smtps"), "--security", "tls", "--smtp-security", "tls",
		"--tls-ca", ca, "--password-cmd", "echo wrong")
	if code != exitFailure || !strings.Contains(errs, "login refused") {
		t.Fatalf("wrong password: code %d, stderr %s", code, errs)
	}
	if code, out, _ := cli(t, dir, "", "account", "list", "--json"); code != 0 || strings.TrimSpace(out) != "" {
		t.Fatalf("after a refused add, accounts = %s", out)
	}
	// No password source and stdin is not a terminal: a usage error, no
	// prompt.
	if code, _, errs := cli(t, dir, "", "account", "add", "x", "--email", "alice@example.test", "--imap", addr(srv, "imaps")); code != exitUsage || !strings.Contains(errs, "--password-stdin") {
		t.Fatalf("no password: code %d, %s", code, errs)
	}

	code, out, errs := cli(t, dir, "", "account", "add", "alice", "--email", "alice@example.test",
		"--imap", addr(srv, "imaps"), "--smtp", addr(srv, "smtps"), "--security", "tls", "--smtp-security", "tls",
		"--tls-ca", ca, "--password-cmd", "echo alice", "--json")
	if code != 0 {
		t.Fatalf("account add alice: %d\n%s", code, errs)
	}
	var added map[string]any
	if err := json.Unmarshal([]byte(out), &added); err != nil || added["mode"] != "imap" {
		t.Fatalf("account add --json: %s (%v)", out, err)
	}
	code, _, errs = cli(t, dir, "", "account", "add", "bob", "--email", "bob@example.test", "--mode", "pop3",
		"--pop3", addr(srv, "pop3s"), "--smtp", addr(srv, "submission"), "--security", "tls", "--smtp-security", "starttls",
		"--tls-ca", ca, "--password-cmd", "echo bob")
	if code != 0 {
		t.Fatalf("account add bob: %d\n%s", code, errs)
	}

	for _, name := range []string{"alice", "bob"} {
		if code, out, errs := cli(t, dir, "", "sync", name); code != 0 {
			t.Fatalf("sync %s: %d\n%s\n%s", name, code, out, errs)
		}
	}
	code, out, _ = cli(t, dir, "", "list", "alice", "--json", "--limit", "500")
	msgs := decodeLines(t, out)
	if code != 0 || len(msgs) == 0 {
		t.Fatalf("list alice: %d, %d messages", code, len(msgs))
	}
	serverCount := func(user, mailbox string) int {
		st, err := srv.Backend.Store(context.Background(), user)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := st.Mailbox(context.Background(), mailbox)
		if err != nil {
			t.Fatal(err)
		}
		return mb.Total
	}
	if want := serverCount("alice@example.test", store.Inbox); len(msgs) != want {
		t.Fatalf("alice has %d messages locally, %d on the server", len(msgs), want)
	}
	id := fmt.Sprint(int64(msgs[0]["id"].(float64)))

	if code, out, _ := cli(t, dir, "", "read", "alice", id); code != 0 || !strings.Contains(out, "Subject:") {
		t.Fatalf("read: %d\n%s", code, out)
	}
	if code, _, errs := cli(t, dir, "", "flag", "alice", id, "+flagged", "-seen"); code != 0 {
		t.Fatalf("flag: %d %s", code, errs)
	}
	if code, _, errs := cli(t, dir, "", "move", "alice", id, "Archive"); code != 0 {
		t.Fatalf("move: %d %s", code, errs)
	}
	if code, _, errs := cli(t, dir, "", "read", "alice", "999999"); code != exitNotFound {
		t.Fatalf("read of a missing id: %d %s", code, errs)
	}
	if code, _, errs := cli(t, dir, "Hello Bob,\nlunch?\n", "send", "alice", "--to", "bob@example.test", "--subject", "lunch from the CLI"); code != 0 {
		t.Fatalf("send: %d %s", code, errs)
	}
	if code, out, errs := cli(t, dir, "", "sync", "alice", "--json"); code != 0 {
		t.Fatalf("sync alice after changes: %d\n%s\n%s", code, out, errs)
	}
	// The move reached the server, with the flags.
	st, _ := srv.Backend.Store(context.Background(), "alice@example.test")
	arch, err := st.List(context.Background(), store.ListOptions{Mailbox: "Archive"})
	if err != nil || len(arch) != 1 || !arch[0].HasFlag(store.FlagFlagged) || arch[0].HasFlag(store.FlagSeen) {
		t.Fatalf("server Archive after sync: %+v %v", arch, err)
	}
	// The sent message is in the server's Sent and in bob's INBOX.
	waitFor(t, "sent copy on the server", func() bool { return serverCount("alice@example.test", "Sent") == 1 })
	waitFor(t, "delivery to bob", func() bool {
		bst, _ := srv.Backend.Store(context.Background(), "bob@example.test")
		n, _ := bst.Count(context.Background(), `subject:"lunch from the CLI"`, store.SearchOptions{})
		return n == 1
	})
	// Bob downloads it over POP3 and finds it.
	if code, out, errs := cli(t, dir, "", "sync", "bob"); code != 0 {
		t.Fatalf("sync bob: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = cli(t, dir, "", "search", "bob", "--json", `subject:"lunch from the CLI"`)
	if found := decodeLines(t, out); code != 0 || len(found) != 1 {
		t.Fatalf("bob's search: %d %s", code, out)
	}
	// Delete goes to Trash locally.
	if code, _, errs := cli(t, dir, "", "delete", "bob", fmt.Sprint(int64(decodeLines(t, out)[0]["id"].(float64)))); code != 0 {
		t.Fatalf("delete: %d %s", code, errs)
	}
	if code, out, _ := cli(t, dir, "", "list", "bob", "--folder", "Trash", "--json"); code != 0 || len(decodeLines(t, out)) != 1 {
		t.Fatalf("bob's Trash: %s", out)
	}
}

// TestSendOffline queues mail while the SMTP server is unreachable; the
// next sync sends it.
func TestSendOffline(t *testing.T) {
	srv := cliServer(t)
	dir := t.TempDir()
	ca := srv.CertFile
	// A port nothing listens on: closed after being picked by the OS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	if code, _, errs := cli(t, dir, "", "account", "add", "alice", "--email", "alice@example.test",
		"--imap", addr(srv, "imaps"), "--smtp", addr(srv, "smtps"), "--security", "tls", "--smtp-security", "tls",
		"--tls-ca", ca, "--password-cmd", "echo alice"); code != 0 {
		t.Fatalf("account add: %s", errs)
	}
	// Point SMTP at the dead port by editing the saved config.
	cfgPath := filepath.Join(dir, "config.toml")
	rewriteSMTPPort(t, cfgPath, dead)
	code, _, errs := cli(t, dir, "offline body\n", "send", "alice", "--to", "bob@example.test", "--subject", "written offline")
	if code != 0 || !strings.Contains(errs, "queued in the Outbox") {
		t.Fatalf("offline send: %d %s", code, errs)
	}
	code, out, _ := cli(t, dir, "", "outbox", "alice", "--json")
	if q := decodeLines(t, out); code != 0 || len(q) != 1 || q[0]["state"] != "waiting" {
		t.Fatalf("outbox: %d %s", code, out)
	}
	rewriteSMTPPort(t, cfgPath, addr(srv, "smtps"))
	if code, out, errs := cli(t, dir, "", "sync", "alice"); code != 0 {
		t.Fatalf("sync: %d %s %s", code, out, errs)
	}
	if code, out, _ := cli(t, dir, "", "outbox", "alice", "--json"); code != 0 || strings.TrimSpace(out) != "" {
		t.Fatalf("outbox after sync: %s", out)
	}
	waitFor(t, "delivery to bob", func() bool {
		bst, _ := srv.Backend.Store(context.Background(), "bob@example.test")
		n, _ := bst.Count(context.Background(), `subject:"written offline"`, store.SearchOptions{})
		return n == 1
	})
}

func rewriteSMTPPort(t *testing.T, path, hostport string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(hostport)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := string(raw)
	var outLines []string
	inSMTP := false
	for _, l := range strings.Split(b, "\n") {
		trim := strings.TrimSpace(l)
		if strings.HasPrefix(trim, "[") {
			inSMTP = strings.Contains(trim, "smtp")
		}
		if inSMTP && strings.HasPrefix(trim, "port") {
			l = "port = " + port
		}
		if inSMTP && strings.HasPrefix(trim, "host") {
			l = fmt.Sprintf("host = %q", host)
		}
		outLines = append(outLines, l)
	}
	if err := os.WriteFile(path, []byte(strings.Join(outLines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !pollUntil(15*time.Second, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// pollUntil polls cond every 50 ms until it holds (true) or within has
// passed (false), so callers can say what they saw when it never held.
func pollUntil(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSyncWatch: sync --watch IDLEs; mail delivered on the server shows
// up without another command, and Ctrl-C (ctx) ends it with exit 0.
func TestSyncWatch(t *testing.T) {
	srv := cliServer(t)
	dir := t.TempDir()
	if code, _, errs := cli(t, dir, "", "account", "add", "alice", "--email", "alice@example.test",
		"--imap", addr(srv, "imaps"), "--smtp", addr(srv, "smtps"), "--security", "tls", "--smtp-security", "tls",
		"--tls-ca", srv.CertFile, "--password-cmd", "echo alice"); code != 0 {
		t.Fatalf("account add: %s", errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		all := []string{"--config", filepath.Join(dir, "config.toml"), "--data", filepath.Join(dir, "data"),
			"sync", "--watch", "--json", "--interval", "1h", "alice"}
		done <- run(ctx, all, strings.NewReader(""), &out, io.Discard)
	}()
	// The first full sync (its "done" event), then news by IDLE. (A count
	// of INBOX events stood for the end of the first sync; with smaller
	// fetch chunks the first sync reports more of them.)
	waitFor(t, "the first sync", func() bool {
		return strings.Contains(out.String(), `"phase":"done"`)
	})
	st, err := srv.Backend.Store(context.Background(), "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	before := strings.Count(out.String(), "\n")
	msg := "From: bob@example.test\r\nTo: alice@example.test\r\nSubject: while watching\r\nMessage-ID: <watch@x>\r\n\r\nhi\r\n"
	if _, err := st.Append(context.Background(), store.Inbox, strings.NewReader(msg), store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new message's sync", func() bool {
		lines := strings.Split(out.String(), "\n")
		for _, l := range lines[min(before, len(lines)):] {
			if strings.Contains(l, `"mailbox":"INBOX"`) && strings.Contains(l, `"phase":"headers"`) {
				return true
			}
		}
		return false
	})
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("sync --watch exited %d", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("sync --watch did not stop")
	}
	code, lst, _ := cli(t, dir, "", "search", "alice", "--json", `subject:"while watching"`)
	if code != 0 || len(decodeLines(t, lst)) != 1 {
		t.Fatalf("after watch: %d %s", code, lst)
	}
}
