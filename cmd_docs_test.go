package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// completionEnv makes a directory with a "letterbox" on PATH (this test
// binary running main, see TestMain) and a config with the accounts
// alice and bob, and returns the environment for a shell.
func completionEnv(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(filepath.Join(dir, "config", "letterbox"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nLETTERBOX_TEST_MAIN=1 exec '" + exe + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "letterbox"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	offlineConfig(t, dir)
	if err := os.Rename(filepath.Join(dir, "config.toml"), filepath.Join(dir, "config", "letterbox", "config.toml")); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "HOME="+dir,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_DATA_HOME="+filepath.Join(dir, "data"))
}

// completionCases are command lines (the last word is being completed)
// and what must be among the candidates.
var completionCases = []struct {
	line      string
	want, not []string
}{
	{"letterbox acc", []string{"account"}, nil},
	{"letterbox account re", []string{"remove"}, nil},
	{"letterbox store ", []string{"import", "ls", "search", "export"}, nil},
	{"letterbox list alice --fo", []string{"--folder"}, nil},
	{"letterbox sync --", []string{"--watch", "--json", "--config"}, nil},
	{"letterbox sync ", []string{"alice", "bob"}, nil},
	{"letterbox sync alice ", []string{"bob"}, []string{"alice"}},
	{"letterbox read ", []string{"alice", "bob"}, nil},
	{"letterbox flag a", []string{"alice"}, nil},
	{"letterbox completion ", []string{"bash", "zsh", "fish"}, nil},
}

// checkCompletions runs complete(line) for every case.
func checkCompletions(t *testing.T, shell string, complete func(line string) (string, error)) {
	t.Helper()
	for _, c := range completionCases {
		out, err := complete(c.line)
		if err != nil {
			t.Fatalf("%s: %q: %v\n%s", shell, c.line, err, out)
		}
		got := map[string]bool{}
		for _, l := range strings.Split(out, "\n") {
			// fish and zsh print "candidate<TAB or :>description".
			l, _, _ = strings.Cut(l, "\t")
			l, _, _ = strings.Cut(l, ":")
			got[strings.TrimSpace(l)] = true
		}
		for _, w := range c.want {
			if !got[w] {
				t.Errorf("%s: completing %q: %q not among\n%s", shell, c.line, w, out)
			}
		}
		for _, w := range c.not {
			if got[w] {
				t.Errorf("%s: completing %q: %q offered\n%s", shell, c.line, w, out)
			}
		}
	}
}

// TestCompletionBash sources `letterbox completion bash` in bash with
// the bash-completion package and asks it as the shell does on TAB.
func TestCompletionBash(t *testing.T) {
	bash := testpeer.Require(t, "bash", "bash")
	const lib = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(lib); err != nil {
		testpeer.Missing(t, "bash-completion (Debian package bash-completion) is not installed")
	}
	env := completionEnv(t)
	checkCompletions(t, "bash", func(line string) (string, error) {
		script := `source ` + lib + `
source <(letterbox completion bash)
read -ra COMP_WORDS <<<"$LINE"
[[ $LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]}-1)) COMP_LINE=$LINE COMP_POINT=${#LINE}
__start_letterbox
printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
		cmd.Env = append(env, "LINE="+line)
		out, err := cmd.CombinedOutput()
		return string(out), err
	})
}

// zshCapture types a command line and TAB into an interactive zsh on a
// pseudo-terminal (zsh/zpty) whose completion system is the real one
// (compinit) with `letterbox completion zsh` loaded, and prints every
// candidate the completion functions hand to compadd, one a line. Only
// compadd is wrapped, to print what it is given; the markers are spelt
// in two pieces so that the terminal's echo of the typed definitions
// never matches them. It polls the terminal with a deadline.
const zshCapture = `zmodload zsh/zpty || { print -u2 'zsh/zpty is missing'; exit 3 }
zpty z zsh -f -i
zpty -w z 'PROMPT= RPROMPT=; unsetopt zle_bracketed_paste 2>/dev/null'
zpty -w z 'autoload -Uz compinit; compinit -u -D'
zpty -w z 'source <(letterbox completion zsh)'
zpty -w z 'compadd() { local -a __hits; builtin compadd -O __hits "$@"; builtin compadd "$@"; print -rl -- "" ${^__hits}"<H""IT>" }'
zpty -w z 'comppostfuncs=( _lb_end ); _lb_end() { print -r -- "<EN""D>" }'
zpty -w z 'bindkey "^I" complete-word'
zpty -w -n z "$LINE"$'\t'
out=
integer deadline=$(( SECONDS + 20 ))
while (( SECONDS < deadline )); do
  if zpty -r -t z chunk 2>/dev/null; then
    out+=$chunk
    [[ $out == *'<END>'* ]] && break
  else
    sleep 0.02
  fi
done
zpty -d z
[[ $out == *'<END>'* ]] || { print -u2 -r -- "no completion within 20s: $out"; exit 4 }
print -r -- "$out" | tr -d '\r' | grep -o '^.*<HIT>' | sed 's/<HIT>$//'
`

// TestCompletionZsh: the zsh script completes in zsh's own completion
// system, driven on a pseudo-terminal as a user's TAB would.
func TestCompletionZsh(t *testing.T) {
	zsh := testpeer.Require(t, "zsh", "zsh")
	env := completionEnv(t)
	checkCompletions(t, "zsh", func(line string) (string, error) {
		cmd := exec.Command(zsh, "-f", "-c", zshCapture)
		cmd.Env = append(env, "LINE="+line)
		out, err := cmd.CombinedOutput()
		return string(out), err
	})
}

// TestCompletionFish asks fish itself: complete -C 'letterbox acc'.
func TestCompletionFish(t *testing.T) {
	fish := testpeer.Require(t, "fish", "fish")
	env := completionEnv(t)
	checkCompletions(t, "fish", func(line string) (string, error) {
		cmd := exec.Command(fish, "--no-config", "-c", `letterbox completion fish | source; complete -C "$LINE"`)
		cmd.Env = append(env, "LINE="+line)
		out, err := cmd.CombinedOutput()
		return string(out), err
	})
}

// TestManPages generates the manual pages: one per command, each a
// roff page with its name, synopsis and options.
func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1")
	if code, _, errs := cli(t, t.TempDir(), "", "man", dir); code != 0 {
		t.Fatalf("man: exit %d %s", code, errs)
	}
	for _, path := range helpPaths(t) {
		if path == "" {
			path = "letterbox"
		} else {
			path = "letterbox " + path
		}
		if path == "letterbox help" {
			continue // cobra's help topic has no page
		}
		name := strings.ReplaceAll(path, " ", "-") + ".1"
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("no page %s: %v", name, err)
			continue
		}
		page := string(b)
		if !strings.HasPrefix(page, ".nh\n.TH") || !strings.Contains(page, ".SH NAME") || !strings.Contains(page, ".SH SYNOPSIS") {
			t.Errorf("%s is not a man page:\n%.300s", name, page)
		}
	}
	sync, _ := os.ReadFile(filepath.Join(dir, "letterbox-sync.1"))
	if !strings.Contains(string(sync), "--watch") || !strings.Contains(string(sync), "--config") {
		t.Errorf("letterbox-sync.1 lacks its flags:\n%s", sync)
	}
	// Every page formats without a warning in groff, as man(1) runs it.
	t.Run("groff", func(t *testing.T) {
		groff := testpeer.Require(t, "groff", "groff-base")
		pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
		if err != nil || len(pages) == 0 {
			t.Fatalf("no pages: %v", err)
		}
		for _, p := range pages {
			out, err := exec.Command(groff, "-man", "-ww", "-z", p).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("groff %s: %v\n%s", filepath.Base(p), err, out)
			}
		}
	})
}
