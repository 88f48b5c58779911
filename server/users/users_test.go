package users

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := db.Add("Alice@Example.TEST", "s3cret"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ addr, pw string }{{"alice@example.test", "x"}, {"noat", "x"}, {"a:b@c", "x"}, {"a@b\nc", "x"}, {"b@example.test", ""}} {
		if err := db.Add(bad.addr, bad.pw); err == nil {
			t.Errorf("Add(%q, %q) accepted", bad.addr, bad.pw)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "passwd")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("passwd file: %v %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "passwd"))
	if strings.Contains(string(data), "s3cret") || !strings.Contains(string(data), "alice@example.test:$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("passwd file = %q", data)
	}
	tests := []struct {
		addr, pw string
		ok       bool
	}{
		{"alice@example.test", "s3cret", true},
		{"ALICE@example.test ", "s3cret", true},
		{"alice@example.test", "S3cret", false},
		{"alice@example.test", "", false},
		{"bob@example.test", "s3cret", false},
		{"garbage", "s3cret", false},
	}
	for _, tt := range tests {
		for range 2 { // the second round may hit the cache
			got, err := db.Authenticate(ctx, tt.addr, tt.pw)
			if (err == nil) != tt.ok || (!tt.ok && !errors.Is(err, ErrAuthFailed)) || (tt.ok && got != "alice@example.test") {
				t.Errorf("Authenticate(%q, %q) = %q, %v; want ok=%v", tt.addr, tt.pw, got, err, tt.ok)
			}
		}
	}
	// A password change ends cached logins at once.
	if err := db.SetPassword("alice@example.test", "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "alice@example.test", "s3cret"); err == nil {
		t.Error("old password still accepted after passwd")
	}
	// Another process (the CLI) changes the file: seen without restart.
	other, _ := Open(dir)
	time.Sleep(10 * time.Millisecond)
	if err := other.Add("bob@example.test", "pw"); err != nil {
		t.Fatal(err)
	}
	if !db.Exists("bob@example.test") {
		t.Error("user added by another process not seen")
	}
	if err := other.Delete("alice@example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "alice@example.test", "new"); err == nil {
		t.Error("deleted user can still log in")
	}
	if err := db.Delete("nobody@example.test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of a missing user: %v", err)
	}
	list, _ := db.List()
	if len(list) != 1 || list[0] != "bob@example.test" {
		t.Errorf("list = %v", list)
	}
}

func TestVerify(t *testing.T) {
	h, err := Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		hash, pw string
		ok       bool
	}{
		{h, "pw", true}, {h, "pW", false}, {"", "pw", false}, {"$argon2id$v=19$m=0,t=1,p=1$AA$AA", "pw", false},
		{"$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "pw", false}, {"$bcrypt$x", "pw", false},
		{strings.Replace(h, "$v=19$", "$v=16$", 1), "pw", false},
	} {
		if Verify(tt.hash, tt.pw) != tt.ok {
			t.Errorf("Verify(%q, %q) != %v", tt.hash, tt.pw, tt.ok)
		}
	}
}

// An unknown user, an invalid name and a wrong password all run one
// argon2 verification, of a hash with the same parameters: timing does not
// tell whether an address exists.
func TestUnknownUserHashes(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice@example.test", "s3cret"); err != nil {
		t.Fatal(err)
	}
	var verified []string
	db.verify = func(hash, password string) bool {
		verified = append(verified, hash)
		return Verify(hash, password)
	}
	ctx := context.Background()
	shape := func(h string) string { // the PHC string without salt and key, and their lengths
		p := strings.Split(h, "$")
		if len(p) != 6 {
			t.Fatalf("hash %q", h)
		}
		return strings.Join(p[:4], "$") + "$" + strings.Repeat("s", len(p[4])) + "$" + strings.Repeat("k", len(p[5]))
	}
	real, err := Hash("x")
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"alice@example.test", "nobody@example.test", "not an address"} {
		verified = nil
		if _, err := db.Authenticate(ctx, addr, "wrong"); !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("%s: %v", addr, err)
		}
		if len(verified) != 1 || shape(verified[0]) != shape(real) {
			t.Fatalf("%s: verified %q, want one hash shaped like %q", addr, verified, real)
		}
	}
}
