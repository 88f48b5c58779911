package store

import (
	"os"
	"syscall"
)

// renameFile renames a message file, as os.Rename does but without its
// Lstat of the new name (os.Rename refuses to replace a directory; a
// message file name in cur/ never names one). A flag change renames a
// file in a directory of thousands, where that lookup cost as much as
// the rename itself. Errors are *os.LinkError, as os.Rename's.
func renameFile(oldpath, newpath string) error {
	for {
		err := syscall.Rename(oldpath, newpath)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
		}
		return nil
	}
}
