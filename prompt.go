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

// The questions the command line asks on a terminal: a password without
// echo and a yes/no confirmation. Neither ever waits on a stdin that is
// not a terminal.

// readPassword reads a password: the first line of stdin with fromStdin,
// else from the terminal without echo after prompt.
func readPassword(e *env, fromStdin bool, prompt string) (string, error) {
	if !fromStdin {
		if !isTerminal(e.stdin) {
			return "", usagef("%s: stdin is not a terminal: use --password-stdin", prompt)
		}
		return readNoEcho(e.stdin.(*os.File), e.stderr, prompt+": ")
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("--password-stdin: read: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usagef("--password-stdin: stdin was empty: give the password on its first line")
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
		return "", usagef("empty password")
	}
	return pw, nil
}

// confirm asks question on a terminal and reports a yes. Without a
// terminal it returns a usage error naming the flag that says yes.
func confirm(e *env, question, yesFlag string) (bool, error) {
	if !isTerminal(e.stdin) || !isTerminal(e.stderr) {
		return false, usagef("%s: no terminal to ask on: add %s", question, yesFlag)
	}
	fmt.Fprintf(e.stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("confirm: %w", err)
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
