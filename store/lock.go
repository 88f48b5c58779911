package store

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockRoot takes an exclusive advisory lock on ROOT/lock so that only one
// process opens a store at a time: the writer state (MODSEQ counter, dirty
// mailboxes, tmp/ cleanup) assumes it. The lock dies with the process.
func lockRoot(root string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(root, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("store %s is open in another process (a running letterbox interface, sync --watch or server; one process at a time for now): %w", root, err)
	}
	return f, nil
}
