// Command letterbox is a terminal mail client with a companion mail
// server. Package main is the command line only: it parses arguments and
// flags, wires the packages that do the work (accounts/, store/,
// server/, ui/) and prints their results; it holds no mail logic.
//
// Layout: main.go builds the command tree (spf13/cobra) and maps errors
// to exit codes; env.go resolves the global settings (--config, --data)
// and opens accounts and stores; cmd_*.go hold one command family each
// (cmd_docs.go: completion scripts and man pages);
// args.go parses arguments (ids, limits, flag names, arguments that
// begin with "-"); output.go and jsonschema.go are everything printed
// (tables, progress, JSON Lines); prompt.go reads passwords and
// confirmations from a terminal.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/server/queue"
	"github.com/letterbox-mail/letterbox/server/users"
	"github.com/letterbox-mail/letterbox/store"
)

// Exit codes, the same for every command (README, "Exit codes", and the
// root command's help).
const (
	exitOK       = 0
	exitFailure  = 1 // the operation failed
	exitUsage    = 2 // bad command, flag, argument or value
	exitNotFound = 3 // no such account, folder, message, user, queue entry, store or file
)

// exitCodesHelp is the table of exit codes in `letterbox --help`.
const exitCodesHelp = `Exit codes (the same for every command):
  0  success; --help
  1  the operation failed: network, a server's refusal, I/O, a store
     that is not clean, a sync or send that did not complete
  2  usage: unknown command or flag, a bad argument or value (--limit 0),
     a malformed query, an unknown flag name, a confirmation that
     needs --yes without a terminal
  3  not found: no such account, folder, message, server user, queue
     entry, store, or file named on the command line

Errors are one line on stderr, "letterbox: WHAT: WHY"; the lines an
error adds (a malformed query and a caret under the fault, one line per
failing server) are indented under it. Usage errors add a pointer to
the command's --help.`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runEnv(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, process: true}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the command line args with the given streams and returns
// the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}, args)
}

// runEnv executes args with the settings and streams of e.
func runEnv(ctx context.Context, e *env, args []string) int {
	stderr := e.stderr
	defer startProfiles(e.getenv, stderr)()
	root := newRootCmd(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return reportError(stderr, cmd, err)
}

// newRootCmd builds the command tree; every command reads its settings
// and streams from e.
func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "letterbox",
		Short: "A terminal mail client with a companion mail server",
		Long: `letterbox is a terminal mail client with a companion mail server.

With no command it opens the interface (on a terminal). The headless
commands (account, sync, list, search, read, flag, move, delete, send,
outbox, folder, changes) work on one account's local store and never
wait for the network, except sync, send, outbox --flush and the login
tests of account add, test and password. serve runs the server; store
works on a store directory. --json prints JSON Lines (docs/cli.md has
the schemas).

` + exitCodesHelp,
		Version:                    version,
		SuggestionsMinimumDistance: 2,
		Args:                       rootArgs,
		SilenceErrors:              true,
		SilenceUsage:               true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// No command: the interface, when there is a terminal to draw on.
			if isTerminal(e.stdin) && isTerminal(e.stdout) {
				return runUI(cmd.Context(), e, false)
			}
			cmd.SetOut(e.stderr)
			_ = cmd.Usage()
			return usagef("no command given, and no terminal for the interface")
		},
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&e.configFile, "config", "", "config `FILE` (default $XDG_CONFIG_HOME/letterbox/config.toml; for serve, server.toml)")
	pf.StringVar(&e.dataDir, "data", "", "data `DIR` (default $XDG_DATA_HOME/letterbox)")
	root.AddGroup(&cobra.Group{ID: "client", Title: "Mail client:"}, &cobra.Group{ID: "server", Title: "Server and store:"})
	for _, c := range []*cobra.Command{uiCmd(e), demoCmd(e), accountCmd(e), syncCmd(e), listCmd(e), searchCmd(e),
		readCmd(e), flagCmd(e), moveCmd(e), deleteCmd(e), sendCmd(e), outboxCmd(e), folderCmd(e), changesCmd(e)} {
		c.GroupID = "client"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{serveCmd(e), storeCmd(e)} {
		c.GroupID = "server"
		root.AddCommand(c)
	}
	root.AddCommand(versionCmd(e), completionCmd(e), manCmd(e))
	root.SetHelpCommand(helpCmd())
	root.CompletionOptions.DisableDefaultCmd = true
	return root
}

// rootArgs refuses an unknown command with suggestions.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", s[0])
	}
	return usagef("%s", msg)
}

// groupCmd is a command that only holds subcommands: without one it is a
// usage error, with an unknown one too.
func groupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use + " COMMAND",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s: missing subcommand", cmdName(cmd))
			}
			msg := fmt.Sprintf("%s: unknown subcommand %q", cmdName(cmd), args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", s[0])
			}
			return usagef("%s", msg)
		},
	}
	c.SuggestionsMinimumDistance = 2
	c.AddCommand(subs...)
	return c
}

func versionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(e.stdout, "letterbox", version)
			return nil
		},
	}
}

// usageError is a usage mistake: exit 2, with a pointer to --help.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usageError.
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// notFoundError marks err as "not found" (exit 3) when nothing below it
// says so already: a file named on the command line that does not exist.
type notFoundError struct{ err error }

func (n notFoundError) Error() string { return n.err.Error() }
func (n notFoundError) Unwrap() error { return n.err }

// reportedError is a failure whose reason was already printed (a sync's
// summary line): exit 1 with a short closing line.
type reportedError struct{ msg string }

func (r reportedError) Error() string { return r.msg }

// exitCodeOf classifies err by the one rule of the README.
func exitCodeOf(err error) int {
	var ue usageError
	var nf notFoundError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &nf), errors.Is(err, accounts.ErrUnknownAccount), errors.Is(err, store.ErrNotFound),
		errors.Is(err, users.ErrNotFound), errors.Is(err, queue.ErrNotFound):
		return exitNotFound
	}
	return exitFailure
}

// reportError prints err once, "letterbox: ...", and returns its exit
// code.
func reportError(stderr io.Writer, cmd *cobra.Command, err error) int {
	code := exitCodeOf(err)
	if err == nil {
		return code
	}
	// An error of several lines (one per server that failed, a query and
	// its caret) indents the lines after the first: every line of stderr
	// is an error or visibly part of the one above.
	fmt.Fprintln(stderr, "letterbox:", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	if code == exitUsage && cmd != nil {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}
