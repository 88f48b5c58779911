package accounts

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
	"github.com/zalando/go-keyring"
)

// keyringChildEnv marks the test binary re-executed inside a private
// D-Bus session with its own gnome-keyring.
const keyringChildEnv = "LETTERBOX_KEYRING_CHILD"

// TestSystemKeyringReal stores, reads and deletes a password through
// go-keyring against a real gnome-keyring-daemon (Secret Service over
// D-Bus). The parent starts a private session bus with dbus-run-session,
// an unlocked keyring in a temporary HOME, and re-runs this test binary
// inside it, so the user's own keyring is never touched.
func TestSystemKeyringReal(t *testing.T) {
	if os.Getenv(keyringChildEnv) == "1" {
		realKeyringChild(t)
		return
	}
	dbusRun := testpeer.Require(t, "dbus-run-session", "dbus")
	testpeer.Require(t, "gnome-keyring-daemon", "gnome-keyring")

	home := t.TempDir()
	env := map[string]string{"HOME": home}
	for _, v := range []string{"XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"} {
		dir := filepath.Join(home, strings.ToLower(v))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		env[v] = dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const script = `printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; ` +
		keyringChildEnv + `=1 exec "$0" -test.run='^TestSystemKeyringReal$' -test.v -test.count=1`
	cmd := exec.CommandContext(ctx, dbusRun, "--", "sh", "-c", script, os.Args[0])
	cmd.Env = childEnv(os.Environ(), env)
	cmd.Dir = home
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child in a private keyring session: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestSystemKeyringReal") {
		t.Fatalf("the child did not pass:\n%s", out)
	}
}

// childEnv returns environ without any D-Bus address or keyring child
// marker, with set added.
func childEnv(environ []string, set map[string]string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if _, replaced := set[name]; replaced || name == "DBUS_SESSION_BUS_ADDRESS" || name == keyringChildEnv {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

func realKeyringChild(t *testing.T) {
	if !strings.HasPrefix(os.Getenv("HOME"), os.TempDir()) || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatalf("not in a private session (HOME=%s, DBUS_SESSION_BUS_ADDRESS=%q)",
			os.Getenv("HOME"), os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	}
	ctx := context.Background()
	var k SystemKeyring
	const user = "letterbox-test"

	if _, err := k.Get(KeyringService, user); !errors.Is(err, ErrNotInKeyring) || !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get before Set: %v, want ErrNotInKeyring", err)
	}
	if err := k.Set(KeyringService, user, "first pässword"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := k.Get(KeyringService, user); err != nil || got != "first pässword" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := k.Set(KeyringService, user, "second"); err != nil {
		t.Fatalf("Set again: %v", err)
	}
	if got, err := k.Get(KeyringService, user); err != nil || got != "second" {
		t.Fatalf("Get after replacing = %q, %v", got, err)
	}

	s := &Secrets{RunCmd: func(context.Context, string) (string, error) {
		return "", errors.New("password_cmd must not run while the keyring has the password")
	}}
	acct := AccountConfig{Name: user, PasswordCmd: "false"}
	if got, err := s.Password(ctx, acct); err != nil || got != "second" {
		t.Fatalf("Secrets.Password = %q, %v", got, err)
	}
	if err := s.Store(ctx, acct, "stored by Secrets"); err != nil {
		t.Fatalf("Secrets.Store: %v", err)
	}
	if got, err := s.Password(ctx, acct); err != nil || got != "stored by Secrets" {
		t.Fatalf("Secrets.Password after Store = %q, %v", got, err)
	}
	if err := s.Forget(ctx, acct); err != nil {
		t.Fatalf("Secrets.Forget: %v", err)
	}
	if err := s.Forget(ctx, acct); err != nil {
		t.Fatalf("Secrets.Forget twice: %v", err)
	}
	if _, err := s.Password(ctx, AccountConfig{Name: user}); !errors.Is(err, ErrNoPassword) {
		t.Fatalf("Password after Forget: %v, want ErrNoPassword", err)
	}
	if err := k.Delete(KeyringService, user); !errors.Is(err, ErrNotInKeyring) {
		t.Fatalf("Delete of a missing entry: %v, want ErrNotInKeyring", err)
	}
}
