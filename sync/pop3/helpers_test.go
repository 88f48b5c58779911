package pop3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"testing"

	"github.com/letterbox-mail/letterbox/store"
)

// openStore opens (or reopens) the store at dir, closed when the test
// ends. durable keeps the store's fsyncs, for the tests that are about
// durability.
func openStore(t testing.TB, dir string, durable bool) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dir, &store.Options{NoSync: !durable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// digest identifies a message by its content, line ends normalised to
// LF and a final line end added: what both sides of a POP3 download must
// agree on.
func digest(raw []byte) string {
	b := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// localDigests returns the digests of the messages in the store's INBOX,
// sorted.
func localDigests(t testing.TB, st *store.Store) []string {
	t.Helper()
	ctx := context.Background()
	msgs, err := st.Fetch(ctx, store.Inbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		f, err := st.OpenRaw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, digest(b))
	}
	slices.Sort(out)
	return out
}

// digestsOf returns the sorted digests of raw messages.
func digestsOf(msgs [][]byte) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = digest(m)
	}
	slices.Sort(out)
	return out
}

// duplicates returns the digests that occur more than once in sorted.
func duplicates(sorted []string) []string {
	var out []string
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] && (len(out) == 0 || out[len(out)-1] != sorted[i]) {
			out = append(out, sorted[i])
		}
	}
	return out
}

// missing returns the elements of want (sorted, distinct) not in have.
func missing(want, have []string) []string {
	set := make(map[string]bool, len(have))
	for _, h := range have {
		set[h] = true
	}
	var out []string
	for _, w := range want {
		if !set[w] {
			out = append(out, w)
		}
	}
	return out
}
