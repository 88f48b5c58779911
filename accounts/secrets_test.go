package accounts

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKeyring is an in-memory Keyring; err, when set, fails every call
// as an unavailable keyring does; block makes every call hang.
type fakeKeyring struct {
	mu      sync.Mutex
	entries map[string]string
	err     error
	block   chan struct{}
}

func (k *fakeKeyring) call(f func()) error {
	if k.block != nil {
		<-k.block
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return k.err
	}
	if k.entries == nil {
		k.entries = map[string]string{}
	}
	f()
	return nil
}

func (k *fakeKeyring) Get(service, user string) (pw string, err error) {
	if cerr := k.call(func() {
		var ok bool
		if pw, ok = k.entries[service+"/"+user]; !ok {
			err = ErrNotInKeyring
		}
	}); cerr != nil {
		return "", cerr
	}
	return pw, err
}

func (k *fakeKeyring) Set(service, user, password string) error {
	return k.call(func() { k.entries[service+"/"+user] = password })
}

func (k *fakeKeyring) Delete(service, user string) (err error) {
	if cerr := k.call(func() {
		if _, ok := k.entries[service+"/"+user]; !ok {
			err = ErrNotInKeyring
		}
		delete(k.entries, service+"/"+user)
	}); cerr != nil {
		return cerr
	}
	return err
}

var errNoDBus = errors.New("The name org.freedesktop.secrets was not provided by any .service files")

func TestSecretsPassword(t *testing.T) {
	cmdOK := func(_ context.Context, cmd string) (string, error) { return "from-cmd:" + cmd, nil }
	cmdFails := func(context.Context, string) (string, error) {
		return "", errors.New("exit status 2: gpg: decryption failed")
	}
	tests := []struct {
		name    string
		keyring *fakeKeyring
		cmd     string
		run     func(context.Context, string) (string, error)
		want    string
		wantErr []string
	}{
		{name: "keyring", keyring: &fakeKeyring{entries: map[string]string{"letterbox/work": "s3cret"}},
			cmd: "pass show mail/work", run: cmdOK, want: "s3cret"},
		{name: "command when the keyring has none", keyring: &fakeKeyring{},
			cmd: "pass show mail/work", run: cmdOK, want: "from-cmd:pass show mail/work"},
		{name: "command when there is no keyring", keyring: &fakeKeyring{err: errNoDBus},
			cmd: "pass show mail/work", run: cmdOK, want: "from-cmd:pass show mail/work"},
		{name: "empty keyring entry", keyring: &fakeKeyring{entries: map[string]string{"letterbox/work": ""}},
			cmd: "x", run: cmdOK, want: "from-cmd:x"},
		{name: "neither", keyring: &fakeKeyring{}, wantErr: []string{
			`no password for account "work"`, "the OS keyring has none and no password_cmd is set",
			`letterbox account add work --password-stdin`, `password_cmd = "pass show mail/work"`}},
		{name: "no keyring and no command", keyring: &fakeKeyring{err: errNoDBus}, wantErr: []string{
			"the OS keyring has none (" + errNoDBus.Error() + ")", "--password-stdin", "password_cmd ="}},
		{name: "command fails", keyring: &fakeKeyring{}, cmd: "pass show mail/work", run: cmdFails, wantErr: []string{
			`password_cmd "pass show mail/work" failed`, "gpg: decryption failed"}},
		{name: "command prints nothing", keyring: &fakeKeyring{}, cmd: "true",
			run:     func(context.Context, string) (string, error) { return "", nil },
			wantErr: []string{"printed nothing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Secrets{Keyring: tt.keyring, RunCmd: tt.run}
			got, err := s.Password(context.Background(), AccountConfig{Name: "work", PasswordCmd: tt.cmd})
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Password = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrNoPassword) {
				t.Fatalf("error %v is not ErrNoPassword", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSecretsStoreForget(t *testing.T) {
	ctx := context.Background()
	acct := AccountConfig{Name: "work"}
	k := &fakeKeyring{}
	s := &Secrets{Keyring: k}
	if err := s.Store(ctx, acct, "pw1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Store(ctx, acct, "pw2"); err != nil { // replaces
		t.Fatal(err)
	}
	if got, err := s.Password(ctx, acct); got != "pw2" || err != nil {
		t.Errorf("Password after Store = %q, %v", got, err)
	}
	if err := s.Store(ctx, acct, ""); err == nil {
		t.Error("stored an empty password")
	}
	if err := s.Forget(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(ctx, acct); err != nil {
		t.Errorf("Forget of a missing password: %v", err)
	}
	if _, err := s.Password(ctx, acct); !errors.Is(err, ErrNoPassword) {
		t.Errorf("Password after Forget: %v", err)
	}

	broken := &Secrets{Keyring: &fakeKeyring{err: errNoDBus}}
	err := broken.Store(ctx, acct, "pw")
	if !errors.Is(err, ErrNoKeyring) || !errors.Is(err, errNoDBus) {
		t.Errorf("Store without keyring: %v, want ErrNoKeyring wrapping the cause", err)
	}
	for _, w := range []string{`account "work"`, "password_cmd", "pass show mail/work"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Store error %q lacks %q", err, w)
		}
	}
	if err := broken.Forget(ctx, acct); !errors.Is(err, errNoDBus) {
		t.Errorf("Forget without keyring: %v", err)
	}
}

func TestSecretsKeyringTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s := &Secrets{Keyring: &fakeKeyring{block: block}, Timeout: 50 * time.Millisecond,
		RunCmd: func(context.Context, string) (string, error) { return "cmd", nil }}
	acct := AccountConfig{Name: "work", PasswordCmd: "x"}
	if got, err := s.Password(context.Background(), acct); got != "cmd" || err != nil {
		t.Errorf("Password with a hung keyring = %q, %v; want the command's", got, err)
	}
	err := s.Store(context.Background(), acct, "pw")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("Store with a hung keyring: %v", err)
	}
}

func TestRunPasswordCmd(t *testing.T) {
	tests := []struct {
		cmd     string
		want    string
		wantErr []string
	}{
		{cmd: "echo hunter2", want: "hunter2"},
		{cmd: "printf 'no newline'", want: "no newline"},
		{cmd: `printf 'crlf\r\n'`, want: "crlf"},
		{cmd: `printf 'first\nsecond\n'`, want: "first"},
		{cmd: `printf ' spaces kept \n'`, want: " spaces kept "},
		{cmd: "echo 'gpg: decryption failed: No secret key' >&2; exit 2",
			wantErr: []string{"exit status 2", "gpg: decryption failed: No secret key"}},
		{cmd: "exit 1", wantErr: []string{"exit status 1"}},
	}
	for _, tt := range tests {
		got, err := RunPasswordCmd(context.Background(), tt.cmd)
		if tt.wantErr == nil {
			if err != nil || got != tt.want {
				t.Errorf("RunPasswordCmd(%q) = %q, %v; want %q", tt.cmd, got, err, tt.want)
			}
			continue
		}
		for _, w := range tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("RunPasswordCmd(%q) error %v lacks %q", tt.cmd, err, w)
			}
		}
	}
}

func TestRunPasswordCmdTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := RunPasswordCmd(ctx, "sleep 10")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want a deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the command was not killed", d)
	}
}
