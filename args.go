package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/letterbox-mail/letterbox/store"
)

// Argument parsing shared by the commands. Every mistake found here is a
// usageError (exit 2).

// noArgs refuses positional arguments, so a mistyped word is an error
// rather than silently ignored.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q", cmdName(cmd), args[0])
	}
	return nil
}

// wantArgs returns an Args check for n positional arguments named what.
func wantArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s: want %s", cmdName(cmd), what)
		}
		return nil
	}
}

// minArgs returns an Args check for at least n positional arguments.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s: want %s", cmdName(cmd), what)
		}
		return nil
	}
}

// cmdName is the command's path without "letterbox": "store ls".
func cmdName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// parseIDs reads message ids.
func parseIDs(cmd string, args []string) ([]int64, error) {
	if len(args) == 0 {
		return nil, usagef("%s: want at least one message ID", cmd)
	}
	ids := make([]int64, len(args))
	for i, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, usagef("%s: bad message ID %q (a number from list or search)", cmd, a)
		}
		ids[i] = id
	}
	return ids, nil
}

// limitValue is a --limit: a whole number of at least 1.
type limitValue int

func (l *limitValue) String() string { return strconv.Itoa(int(*l)) }
func (l *limitValue) Type() string   { return "N" }
func (l *limitValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("want a whole number")
	}
	if n < 1 {
		return errors.New("must be at least 1")
	}
	*l = limitValue(n)
	return nil
}

// flagError is the usage error of a flag that could not be parsed. A bad
// value is said in words, as --limit says it, instead of the parser's
// (`strconv.ParseInt: parsing "x": invalid syntax`).
func flagError(err error) error {
	var iv *pflag.InvalidValueError
	if !errors.As(err, &iv) {
		return usageError{err}
	}
	want := ""
	var ne *strconv.NumError
	switch {
	case iv.GetFlag().Value.Type() == "duration":
		want = "want a duration such as 90s, 5m or 1h"
	case errors.As(err, &ne) && ne.Func == "ParseBool":
		want = "want true or false"
	case errors.As(err, &ne):
		want = "want a whole number"
	default:
		return usageError{err}
	}
	return usagef("invalid argument %q for \"--%s\" flag: %s", iv.GetValue(), iv.GetFlag().Name, want)
}

// limitFlag adds --limit N (at least 1) with a default.
func limitFlag(fs *pflag.FlagSet, def int, usage string) *limitValue {
	l := limitValue(def)
	fs.Var(&l, "limit", usage)
	return &l
}

// parseDashArgs parses the flags of a command that takes arguments
// beginning with "-" which are not flags: "-flagged" for flag, a negated
// query term "-from:ann" for search. Such a command sets
// DisableFlagParsing and calls this first. A word of one "-" that is not
// one of the command's shorthand flags is an argument, in its place; a
// word of "--" that is not a flag is an unknown flag, as everywhere. It
// returns the positional arguments, or help=true for --help.
func parseDashArgs(cmd *cobra.Command, args []string) (pos []string, help bool, err error) {
	cmd.InitDefaultHelpFlag() // cobra adds it before running; idempotent
	cmd.InheritedFlags()      // merges the persistent flags into cmd.Flags()
	fs := cmd.Flags()
	held := map[string]string{}
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			words = append(words, args[i:]...)
			break
		}
		if isDashArg(fs, a) {
			key := "\x00" + strconv.Itoa(len(held))
			held[key] = a
			words = append(words, key)
			continue
		}
		words = append(words, a)
		if takesValue(fs, a) && i+1 < len(args) {
			i++
			words = append(words, args[i])
		}
	}
	if err := fs.Parse(words); err != nil {
		return nil, false, flagError(err)
	}
	if h, _ := fs.GetBool("help"); h {
		return nil, true, nil
	}
	for _, w := range fs.Args() {
		if a, ok := held[w]; ok {
			w = a
		}
		pos = append(pos, w)
	}
	return pos, false, nil
}

// isDashArg reports whether a is an argument that begins with one "-"
// and is not a shorthand flag of fs.
func isDashArg(fs *pflag.FlagSet, a string) bool {
	if len(a) < 2 || a[0] != '-' || a[1] == '-' {
		return false
	}
	name, _, _ := strings.Cut(a[1:], "=")
	return len(name) != 1 || fs.ShorthandLookup(name) == nil
}

// takesValue reports whether a is a "--name" flag of fs whose value is
// the next word.
func takesValue(fs *pflag.FlagSet, a string) bool {
	if !strings.HasPrefix(a, "--") || strings.Contains(a, "=") {
		return false
	}
	f := fs.Lookup(a[2:])
	return f != nil && f.NoOptDefVal == ""
}

// standardFlags are the flag names of `letterbox flag` (RFC 9051 section
// 2.3.2 system flags); "read" is another name for seen.
var standardFlags = []struct{ name, flag string }{
	{"seen", store.FlagSeen}, {"flagged", store.FlagFlagged}, {"answered", store.FlagAnswered},
	{"draft", store.FlagDraft}, {"deleted", store.FlagDeleted}, {"read", store.FlagSeen},
}

// flagChanges parses "+seen -flagged +$label" into additions and
// removals. A name is a standard flag (seen, flagged, answered, draft,
// deleted, or the IMAP form \Seen), a keyword with a $ prefix, or, with
// keywords, any keyword. An unknown bare name is a usage error that
// suggests the nearest standard flag.
func flagChanges(args []string, keywords bool) (add, remove []string, err error) {
	for _, a := range args {
		if len(a) < 2 || (a[0] != '+' && a[0] != '-') {
			return nil, nil, usagef("flag: %q: want +NAME or -NAME (seen, flagged, answered, draft, deleted, or a $keyword)", a)
		}
		f, err := flagName(a[1:], keywords)
		if err != nil {
			return nil, nil, err
		}
		if a[0] == '+' {
			add = append(add, f)
		} else {
			remove = append(remove, f)
		}
	}
	return add, remove, nil
}

// flagName resolves one flag name of flagChanges.
func flagName(name string, keywords bool) (string, error) {
	bare := strings.TrimPrefix(name, `\`)
	for _, s := range standardFlags {
		if strings.EqualFold(bare, s.name) {
			return s.flag, nil
		}
	}
	if strings.HasPrefix(name, `\`) {
		return "", usagef(`flag: %q is not a standard flag (\Seen, \Flagged, \Answered, \Draft, \Deleted)`, name)
	}
	if strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`(){%*"\]`, r) }) >= 0 {
		return "", usagef("flag: %q: a keyword is one word of printable ASCII without ( ) { %% * \" \\ ]", name)
	}
	if strings.HasPrefix(name, "$") || keywords {
		return name, nil
	}
	if s := nearestFlag(name); s != "" {
		return "", usagef("flag: unknown flag %q: did you mean %s? (a keyword needs a $ prefix, +$%s, or --keyword)", name, s, name)
	}
	return "", usagef("flag: unknown flag %q: the flags are seen, flagged, answered, draft and deleted; a keyword needs a $ prefix (+$%s) or --keyword", name, name)
}

// nearestFlag returns the standard flag name within edit distance 2 of
// name, or "".
func nearestFlag(name string) string {
	best, bestD := "", 3
	for _, s := range standardFlags {
		if d := editDistance(strings.ToLower(name), s.name); d < bestD {
			best, bestD = s.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = slices.Min([]int{prev[j] + 1, cur[j-1] + 1, prev[j-1] + cost})
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// queryError turns a query syntax error into a usage error with the
// query and a caret under the fault.
func queryError(err error) error {
	var qe *store.QueryError
	if errors.As(err, &qe) {
		return usageError{fmt.Errorf("%s\n%s", qe.Error(), qe.Caret())}
	}
	return err
}

// dnsName checks a DNS name given on the command line (RFC 1035 section
// 2.3.1, with digits first allowed as RFC 1123 section 2.1 does): dot-
// separated labels of letters, digits and '-', each 1-63 characters and
// not beginning or ending with '-', at most 253 characters in all.
func dnsName(what, s string) error {
	bad := func(why string) error { return usagef("%s %q: %s", what, s, why) }
	if s == "" || len(s) > 253 {
		return bad("not a DNS name")
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		switch {
		case label == "":
			return bad("empty label")
		case len(label) > 63:
			return bad("label longer than 63 characters")
		case label[0] == '-' || label[len(label)-1] == '-':
			return bad("a label begins or ends with '-'")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return bad("use only letters, digits, '-' and '.'")
			}
		}
	}
	return nil
}
