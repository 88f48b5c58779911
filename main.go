// Command letterbox is a terminal mail client with a companion mail
// server. This file holds the command-line wiring only: global flags,
// subcommand dispatch and the XDG defaults; the work is done by the
// packages (store/, server/, accounts/, sync/, ui/).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Exit codes, stable for scripts (documented in the README).
const (
	exitOK       = 0
	exitFailure  = 1 // the operation failed
	exitUsage    = 2 // bad flags or arguments
	exitNotFound = 3 // the mailbox, message or account does not exist
)

// env is what every command gets: global settings and the streams, so
// commands are testable without touching the process's globals.
type env struct {
	configFile string
	dataDir    string
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// usageError marks an error that should print usage and exit 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func commands() []command {
	return []command{
		{"demo", "try letterbox: a local server with sample mail, and the interface", runDemo},
		{"ui", "open the terminal interface (the default with no command)", runUI},
		{"account", "add, list, show, test or remove mail accounts", runAccount},
		{"sync", "sync accounts with their servers (IMAP two-way, POP3 download) and send the outbox", runSync},
		{"list", "list a folder of an account", runList},
		{"search", "search an account's mail", runSearch},
		{"read", "print a message", runRead},
		{"flag", "change flags: flag ACCOUNT ID... +seen -flagged", runFlag},
		{"move", "move messages to a folder", runMove},
		{"delete", "delete messages (to Trash)", runDelete},
		{"send", "compose and send a message (through the Outbox)", runSend},
		{"outbox", "show or flush the Outbox", runOutbox},
		{"serve", "run the mail server (SMTP, IMAP, POP3); user, queue and dkim administration", runServe},
		{"store", "work with a mail store: import, ls, search, show, check, export, demo", runStore},
		{"version", "print the version", func(ctx context.Context, e *env, args []string) error {
			fmt.Fprintln(e.stdout, "letterbox", version)
			return nil
		}},
	}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses the global flags, picks the subcommand and maps its error to
// an exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("letterbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&e.configFile, "config", "", "config `FILE` (default $XDG_CONFIG_HOME/letterbox/config.toml)")
	fs.StringVar(&e.dataDir, "data", "", "data `DIR` (default $XDG_DATA_HOME/letterbox)")
	fs.Usage = func() { printUsage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		// No command: the interface, when there is a terminal to draw on.
		if isTerminal(stdin) && isTerminal(stdout) {
			return exitCode(stderr, runUI(ctx, e, nil))
		}
		printUsage(stderr, fs)
		return exitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		if len(rest) == 0 {
			printUsage(stdout, fs)
			return exitOK
		}
		name, rest = rest[0], []string{"--help"}
	}
	for _, c := range commands() {
		if c.name == name {
			return exitCode(stderr, c.run(ctx, e, rest))
		}
	}
	fmt.Fprintf(stderr, "letterbox: unknown command %q (see letterbox help)\n", name)
	return exitUsage
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: letterbox [--config FILE] [--data DIR] COMMAND [ARGS]")
	fmt.Fprintln(w, "\ncommands:")
	cmds := commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nglobal flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nRun 'letterbox COMMAND --help' for a command's flags.")
}

func exitCode(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "letterbox:", ue.msg)
		return exitUsage
	}
	fmt.Fprintln(stderr, "letterbox:", err)
	if errors.Is(err, errNotFound) {
		return exitNotFound
	}
	return exitFailure
}

// dataHome returns the data directory: --data, else $XDG_DATA_HOME/letterbox,
// else ~/.local/share/letterbox.
func (e *env) dataHome() (string, error) {
	if e.dataDir != "" {
		return e.dataDir, nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "letterbox"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: set --data or XDG_DATA_HOME: %w", err)
	}
	return filepath.Join(home, ".local", "share", "letterbox"), nil
}

// newFlagSet returns a subcommand's flag set that also accepts the global
// flags after the subcommand name.
func (e *env) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("letterbox "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.configFile, "config", e.configFile, "config `FILE`")
	fs.StringVar(&e.dataDir, "data", e.dataDir, "data `DIR`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: letterbox %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("store search --json from:ann" and "store search from:ann --json").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		// An argument that looks like a flag but is not one ("-draft" as
		// a negated search term) is positional.
		for len(args) > 0 && isUnknownFlag(fs, args[0]) {
			pos = append(pos, args[0])
			args = args[1:]
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(os.Stdout)
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func isUnknownFlag(fs *flag.FlagSet, arg string) bool {
	if len(arg) < 2 || arg[0] != '-' || arg == "--" {
		return false
	}
	name := strings.TrimLeft(arg, "-")
	name, _, _ = strings.Cut(name, "=")
	if name == "h" || name == "help" {
		return false
	}
	return fs.Lookup(name) == nil
}

func joinArgs(args []string) string { return strings.Join(args, " ") }

// noArgs rejects positional arguments for commands that take none, so a
// mistyped flag is an error rather than silently ignored.
func noArgs(name string, pos []string) error {
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q (see --help)", name, pos[0])}
	}
	return nil
}
