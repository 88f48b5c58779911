package imapd

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// openRead opens a message file for reading without updating its access
// time (O_NOATIME): serving a message must not write to the disk. Under
// relatime the first read of each new message dirtied its inode, a write
// per message while a client downloads a mailbox (and fsyncs what it
// gets). O_NOATIME needs the file's owner (the server's user) or
// CAP_FOWNER; without them the file is opened as usual.
func openRead(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		return os.Open(path)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
