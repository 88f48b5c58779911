package submit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// LockFile is the name, in the store's root directory, of the file whose
// lock (flock(2), exclusive) a Flush or Retry holds: two processes that
// share an account (the interface, a cron sync, a script) never flush its
// Outbox at the same time, so no message is sent twice. Within a process
// the Outbox's mutex serialises them too.
const LockFile = "outbox.lock"

// lockOutbox takes the outbox lock of the store at root, waiting for
// another process to release it (polling, since flock cannot be
// interrupted) until ctx ends. The returned function releases it.
func lockOutbox(ctx context.Context, root string) (func(), error) {
	path := filepath.Join(root, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox lock: %w", err)
	}
	wait := 5 * time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("outbox lock %s: %w", path, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("outbox lock %s: another process is flushing: %w", path, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}
