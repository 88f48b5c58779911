package queue

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDir(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := d.Enqueue(ctx, "a@x.test", []string{"b@y.test", "c@y.test"}, strings.NewReader("Subject: q\r\n\r\nbody\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Enqueue(ctx, "a@x.test", nil, strings.NewReader("x")); err == nil {
		t.Error("enqueue without recipients accepted")
	}
	it, err := d.Get(id)
	if err != nil || it.From != "a@x.test" || len(it.Pending()) != 2 || it.Size != 20 {
		t.Fatalf("item = %+v, %v", it, err)
	}
	if b, _ := os.ReadFile(d.MessagePath(id)); string(b) != "Subject: q\r\n\r\nbody\r\n" {
		t.Fatalf("message = %q", b)
	}
	it.NextAttempt = time.Now().Add(time.Hour)
	d.save(it)
	if err := d.Retry(id); err != nil {
		t.Fatal(err)
	}
	if it, _ := d.Get(id); time.Until(it.NextAttempt) > time.Second {
		t.Errorf("retry left next attempt at %v", it.NextAttempt)
	}
	// A crash between the message and its state leaves an orphan, which
	// the next open removes; a half-written temporary file too.
	os.WriteFile(filepath.Join(dir, "orphan.eml"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "half.json.tmp"), []byte("{"), 0o600)
	d2, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "orphan.eml")); !os.IsNotExist(err) {
		t.Error("orphan message kept")
	}
	items, _ := d2.List()
	if len(items) != 1 || items[0].ID != id {
		t.Fatalf("list = %+v", items)
	}
	if err := d2.Drop(id); err != nil {
		t.Fatal(err)
	}
	if err := d2.Drop(id); !errors.Is(err, ErrNotFound) {
		t.Errorf("second drop: %v", err)
	}
	for _, bad := range []string{"", "../x", "a/b"} {
		if _, err := d2.Get(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v", bad, err)
		}
	}
}

type fakeResolver struct {
	mx    map[string][]*net.MX
	mxErr error
	hosts map[string][]string
}

func (r fakeResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if r.mxErr != nil {
		return nil, r.mxErr
	}
	if mx, ok := r.mx[name]; ok {
		return mx, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r fakeResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	if h, ok := r.hosts[host]; ok {
		return h, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestMXHosts(t *testing.T) {
	res := fakeResolver{
		mx: map[string][]*net.MX{
			"multi.test": {{Host: "b.multi.test.", Pref: 20}, {Host: "a.multi.test.", Pref: 10}},
			"null.test":  {{Host: ".", Pref: 0}},
		},
		hosts: map[string][]string{"nomx.test": {"127.0.0.1"}},
	}
	tests := []struct {
		domain string
		want   string
		perm   bool
		fail   bool
	}{
		{"multi.test", "a.multi.test,b.multi.test", false, false},
		{"nomx.test", "nomx.test", false, false}, // implicit MX
		{"null.test", "", true, true},            // RFC 7505
		{"nothing.test", "", true, true},         // no MX, no address
	}
	for _, tt := range tests {
		q, _ := Open(t.TempDir(), Options{Resolver: res})
		hosts, err := q.mxHosts(context.Background(), tt.domain)
		var pe *permError
		if (err != nil) != tt.fail || errors.As(err, &pe) != tt.perm || strings.Join(hosts, ",") != tt.want {
			t.Errorf("mxHosts(%s) = %v, %v", tt.domain, hosts, err)
		}
	}
	q, _ := Open(t.TempDir(), Options{Resolver: fakeResolver{mxErr: &net.DNSError{Err: "timeout", Name: "x", IsTimeout: true}}})
	if _, err := q.mxHosts(context.Background(), "x.test"); err == nil || errors.As(err, new(*permError)) {
		t.Errorf("a DNS timeout must be temporary: %v", err)
	}
}

func TestDSN(t *testing.T) {
	q, err := Open(t.TempDir(), Options{Hostname: "mx.a.test"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := q.Enqueue(context.Background(), "alice@a.test", []string{"x@b.test"}, strings.NewReader("Subject: hi\r\nFrom: alice@a.test\r\n\r\nsecret body\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	it, _ := q.Get(id)
	msg, err := q.dsn(it, []Rcpt{{Addr: "x@b.test", Error: "mx.b.test: 550 5.1.1 No such user"}, {Addr: "y@b.test", Error: "gave up after 120h0m0s: timeout"}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(msg)
	for _, want := range []string{"To: <alice@a.test>", "Auto-Submitted: auto-replied", "report-type=delivery-status",
		"Final-Recipient: rfc822; x@b.test", "Status: 5.1.1", "Final-Recipient: rfc822; y@b.test", "Status: 4.4.7",
		"Reporting-MTA: dns; mx.a.test", "Subject: hi"} {
		if !strings.Contains(s, want) {
			t.Errorf("DSN lacks %q", want)
		}
	}
	if strings.Contains(s, "secret body") {
		t.Error("DSN carries the original body; only the header belongs there")
	}
	if strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
		t.Error("DSN has bare LF")
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 10; n++ {
		d := DefaultBackoff(n)
		if d < prev || d > 4*time.Hour {
			t.Errorf("backoff(%d) = %v after %v", n, d, prev)
		}
		prev = d
	}
}
