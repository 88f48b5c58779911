package imapd

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func atime(t *testing.T, path string) time.Time {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return time.Unix(st.Atim.Unix())
}

// TestFetchKeepsAtime: serving a message does not write its inode. With
// relatime, reading a file whose access time is older than its change
// time updates it; FETCH BODY[] and SEARCH HEADER open the file with
// O_NOATIME.
func TestFetchKeepsAtime(t *testing.T) {
	e := newEnv(t, Options{InsecureAuth: true})
	e.add("INBOX", testMsg(1, "one", "body one"))
	e.add("INBOX", testMsg(2, "two", "body two"))
	msgs, err := e.st.Fetch(context.Background(), "INBOX", []uint32{1, 2})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("fetch: %v, %d messages", err, len(msgs))
	}
	paths := []string{filepath.Join(e.st.Root(), msgs[0].File), filepath.Join(e.st.Root(), msgs[1].File)}
	old := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	for _, p := range paths {
		if err := os.Chtimes(p, old, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// A plain read of the second file shows whether the filesystem
	// updates access times at all (noatime mounts do not).
	if _, err := os.ReadFile(paths[1]); err != nil {
		t.Fatal(err)
	}
	if atime(t, paths[1]).Equal(old) {
		t.Skip("the filesystem does not update access times")
	}
	r := e.raw()
	r.send("a LOGIN alice@a.test secret\r\n")
	r.expect("a OK")
	r.send("b SELECT INBOX\r\n")
	r.expect("b OK")
	r.send("c UID FETCH 1 (BODY.PEEK[])\r\n")
	r.expect("c OK")
	r.send("d UID SEARCH HEADER X-Test n1\r\n")
	r.expect("d OK")
	if got := atime(t, paths[0]); !got.Equal(old) {
		t.Errorf("access time of the fetched message changed: %v, was %v", got, old)
	}
}
