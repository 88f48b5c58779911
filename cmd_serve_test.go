package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/server"
)

// TestMain lets a test run the real binary's main in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("LETTERBOX_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestServeSIGTERM starts `letterbox serve --dev` as a process, talks to
// it, sends SIGTERM, and expects a clean exit 0.
func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	lo := "127.0.0.1:0"
	// As bench/server.sh does: flags after the command, and an empty
	// address (--submission-addr=) disables a listener.
	cmd := exec.Command(exe, "serve", "--dev", "--data", t.TempDir(), "--smtp-addr", lo, "--submission-addr=", "--smtps-addr", lo,
		"--imap-addr", lo, "--imaps-addr", lo, "--pop3-addr", lo, "--pop3s-addr", lo)
	cmd.Env = append(os.Environ(), "LETTERBOX_TEST_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	banner := map[string]string{}
	re := regexp.MustCompile(`^\s+(SMTP \(MX|IMAPS|POP3S)\S*.*?\s(127\.0\.0\.1:\d+)$`)
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "STARTTLS + AUTH") {
			t.Errorf("--submission-addr= did not disable submission: %q", line)
		}
		if m := re.FindStringSubmatch(line); m != nil {
			banner[m[1]] = m[2]
		}
		if strings.Contains(line, "certificate:") {
			break
		}
	}
	deadline.Stop()
	if len(banner) != 3 {
		t.Fatalf("banner incomplete: %v\nstderr: %s", banner, stderr.String())
	}
	for name, addr := range banner {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("%s at %s: %v", name, addr, err)
		}
		c.Close()
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("serve exited with %v after SIGTERM\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		t.Fatalf("serve did not exit after SIGTERM\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "alice\"") || strings.Contains(stderr.String(), "password") {
		t.Errorf("log mentions a password:\n%s", stderr.String())
	}
}

// TestServeLimitFlags: the connection limits given as flags override
// server.toml's [limits]; a handshake deadline over 30 s is a usage error.
func TestServeLimitFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(*server.Config) bool
		wantErr bool
	}{
		{[]string{"--dev", "--max-connections", "123"}, func(c *server.Config) bool { return c.Limits.MaxConnections == 123 }, false},
		{[]string{"--exempt-loopback=false", "--dev"}, func(c *server.Config) bool {
			return c.Limits.ExemptLoopback != nil && !*c.Limits.ExemptLoopback
		}, false},
		{[]string{"--dev", "--handshake-timeout", "5s"}, func(c *server.Config) bool { return c.Limits.HandshakeTimeout.Duration == 5*time.Second }, false},
		{[]string{"--dev", "--handshake-timeout", "45s"}, nil, true},
	}
	for _, tc := range tests {
		e := &env{getenv: os.Getenv, dataDir: t.TempDir()}
		var f serveFlags
		cmd := newServeCmd(e, &f)
		if err := cmd.ParseFlags(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		cfg, err := serveConfig(cmd, e, f)
		if tc.wantErr {
			var u usageError
			if !errors.As(err, &u) {
				t.Errorf("%v: error %v, want a usage error", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
		} else if !tc.check(cfg) {
			t.Errorf("%v: limits %+v", tc.args, cfg.Limits)
		}
	}
}
