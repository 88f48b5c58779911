package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// letterbox help, completion bash|zsh|fish and man DIR: generated from
// the command tree.

// helpCmd is `letterbox help COMMAND...`: the command's --help, and an
// unknown command is a usage error (cobra's own help printed the root's
// usage and exited 0).
func helpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND...]",
		Short: "Help about any command",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil {
				return usageError{err}
			}
			if len(rest) > 0 {
				return usagef("help: unknown command %q", strings.Join(args, " "))
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

func completionCmd(e *env) *cobra.Command {
	shell := func(name, howto string, gen func(root *cobra.Command) error) *cobra.Command {
		return &cobra.Command{
			Use:   name,
			Short: "Print the " + name + " completion script",
			Long:  "Print the " + name + " completion script. " + howto,
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				return gen(cmd.Root())
			},
		}
	}
	return groupCmd("completion", "Print a shell completion script (bash, zsh, fish)",
		shell("bash", "Load it in the current shell with\n\n  source <(letterbox completion bash)\n\nor install it as /etc/bash_completion.d/letterbox (needs the bash-completion package).",
			func(root *cobra.Command) error { return root.GenBashCompletionV2(e.stdout, true) }),
		shell("zsh", "Install it as _letterbox in a directory of $fpath, or load it in the current shell with\n\n  source <(letterbox completion zsh)",
			func(root *cobra.Command) error { return root.GenZshCompletion(e.stdout) }),
		shell("fish", "Install it as ~/.config/fish/completions/letterbox.fish, or load it with\n\n  letterbox completion fish | source",
			func(root *cobra.Command) error { return root.GenFishCompletion(e.stdout, true) }))
}

func manCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write the manual pages (letterbox.1, letterbox-sync.1, ...) into DIR",
		Long: `Write one manual page per command into DIR (created if needed):
letterbox.1, letterbox-account-add.1, ... The date is $SOURCE_DATE_EPOCH
when set, for reproducible builds.`,
		Args: wantArgs(1, "one DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			h := &doc.GenManHeader{Section: "1", Source: "letterbox " + version, Manual: "letterbox manual"}
			if err := doc.GenManTree(root, h, args[0]); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			fmt.Fprintf(e.stderr, "wrote the manual pages into %s\n", args[0])
			return nil
		},
	}
}
