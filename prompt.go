package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether r (a reader or writer) is a terminal.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// readPassword reads a password: the first line of stdin with fromStdin,
// else from the terminal without echo after prompt. It never prompts
// when stdin is not a terminal.
func readPassword(e *env, fromStdin bool, prompt string) (string, error) {
	if !fromStdin {
		if !isTerminal(e.stdin) {
			return "", usageError{prompt + ": stdin is not a terminal: use --password-stdin"}
		}
		return readNoEcho(e.stdin.(*os.File), e.stderr, prompt+": ")
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usageError{"empty password"}
	}
	return pw, nil
}

// readNoEcho prompts on w and reads a line from the terminal r without
// echo, restoring the terminal afterwards.
func readNoEcho(r *os.File, w io.Writer, prompt string) (string, error) {
	fd := int(r.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", fmt.Errorf("read password: not a terminal: %w", err)
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &noEcho); err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	fmt.Fprint(w, prompt)
	line, err := bufio.NewReader(r).ReadString('\n')
	fmt.Fprintln(w)
	if err != nil && line == "" {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usageError{"empty password"}
	}
	return pw, nil
}
