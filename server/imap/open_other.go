//go:build !linux

package imapd

import "os"

// openRead opens a message file for reading (open_linux.go avoids the
// access time update where it can).
func openRead(path string) (*os.File, error) { return os.Open(path) }
