package server

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// TestDKIMSignStreams: a queued message (a file) is signed in two passes
// over the file, not held in memory; the signature verifies.
func TestDKIMSignStreams(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	record, err := DKIMKeygen(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	sign, err := dkimSigner("a.test", "sel", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	msgPath := filepath.Join(dir, "msg")
	body := strings.Repeat("a line of the body, long enough to matter\r\n", 400_000) // 17 MB
	msg := "From: alice@a.test\r\nTo: bob@b.test\r\nSubject: big\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\n" + body
	if err := os.WriteFile(msgPath, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	msg, body = "", "" // only the file holds it now
	f, err := os.Open(msgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := os.Create(filepath.Join(dir, "signed"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var signErr error
	peak := peakHeap(func() { signErr = sign(f, out) })
	if signErr != nil {
		t.Fatal(signErr)
	}
	if peak > 12<<20 {
		t.Errorf("signing a 17 MB message took the heap %d MB above its start", peak>>20)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	vs, err := dkim.VerifyWithOptions(out, &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if name != "sel._domainkey.a.test" {
			return nil, fmt.Errorf("unexpected lookup %s", name)
		}
		return []string{record}, nil
	}})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("verify: %v %+v", err, vs)
	}
	// A reader that cannot seek is still signed (in memory).
	var small bytes.Buffer
	if err := sign(strings.NewReader("From: alice@a.test\r\n\r\nhi\r\n"), &small); err != nil || !strings.HasPrefix(small.String(), "DKIM-Signature:") {
		t.Fatalf("sign a stream: %v %q", err, small.String())
	}
}

// peakHeap runs fn and returns how far the live heap rose above where it
// was, sampled every millisecond (the collector runs often meanwhile, so
// garbage does not count).
func peakHeap(fn func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	done := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		top := uint64(0)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapAlloc)
			select {
			case <-done:
				sampled <- top
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(done)
	peak = max(peak, <-sampled)
	return peak - base
}
