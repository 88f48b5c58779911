// Package testpeer finds the real programs that tests talk to (python3,
// swaks, mbsync, fetchmail, dovecot, tmux). A test that needs a missing
// peer is skipped with a clear message, or fails when
// LETTERBOX_REQUIRE_PEERS=1 (as .ci/run sets), so CI can never pass by
// skipping.
//
// It also has DNS, an in-memory resolver for the peer no test may reach,
// and AllocDuring, for bounding what a hostile peer makes code hold.
//
// It is for tests only. Its one letterbox import is server/tlsutil, for
// the self-signed certificate of a private Dovecot (StartDovecot).
package testpeer

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of program, or skips (fails under
// LETTERBOX_REQUIRE_PEERS=1) the test when it is not installed. pkg is
// the Debian package that provides it, for the message.
func Require(t testing.TB, program, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	Missing(t, program+" (Debian package "+pkg+") is not installed")
	return ""
}

// Missing skips the test with why, or fails it when peers are required.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("LETTERBOX_REQUIRE_PEERS") == "1" {
		t.Fatalf("peer missing and LETTERBOX_REQUIRE_PEERS=1: %s", why)
	}
	t.Skipf("skipped: %s (install it, or see .ci/run)", why)
}
