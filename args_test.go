package main

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestFlagChanges(t *testing.T) {
	for _, c := range []struct {
		args        []string
		keywords    bool
		add, remove []string
		err         string
	}{
		{[]string{"+seen", "-Flagged", `+\Answered`, "-draft", "+read"}, false, []string{`\Seen`, `\Answered`, `\Seen`}, []string{`\Flagged`, `\Draft`}, ""},
		{[]string{"+$Label1", "-$Later"}, false, []string{"$Label1"}, []string{"$Later"}, ""},
		{[]string{"+NonJunk"}, true, []string{"NonJunk"}, nil, ""},
		{[]string{"+flaged"}, false, nil, nil, "did you mean flagged?"},
		{[]string{"-sen"}, false, nil, nil, "did you mean seen?"},
		{[]string{"+Project"}, false, nil, nil, "--keyword"},
		{[]string{`+\Recent`}, false, nil, nil, "not a standard flag"},
		{[]string{"+$a b"}, false, nil, nil, "one word"},
		{[]string{"seen"}, false, nil, nil, "want +NAME"},
	} {
		add, remove, err := flagChanges(c.args, c.keywords)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || exitCodeOf(err) != exitUsage {
				t.Errorf("%v: %v; want a usage error with %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(add, c.add) || !slices.Equal(remove, c.remove) {
			t.Errorf("%v: +%v -%v %v; want +%v -%v", c.args, add, remove, err, c.add, c.remove)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"flaged", "flagged", 1}, {"", "seen", 4}, {"seen", "seen", 0}, {"draft", "drat", 1}, {"answred", "answered", 1}, {"kitten", "sitting", 3}} {
		if d := editDistance(c.a, c.b); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
	}
}

// TestParseDashArgs: words that begin with one "-" and are not flags
// stay arguments, in their place; flags and their values are parsed.
func TestParseDashArgs(t *testing.T) {
	root := newRootCmd(&env{getenv: os.Getenv})
	cmd, _, err := root.Find([]string{"search"})
	if err != nil {
		t.Fatal(err)
	}
	pos, help, err := parseDashArgs(cmd, []string{"work", "a", "OR", "-from:ann", "--limit", "5", "-is:read", "--folder", "-x", "--", "--json"})
	if err != nil || help {
		t.Fatal(err, help)
	}
	if want := []string{"work", "a", "OR", "-from:ann", "-is:read", "--json"}; !slices.Equal(pos, want) {
		t.Fatalf("arguments %q, want %q", pos, want)
	}
	if v := cmd.Flags().Lookup("limit").Value.String(); v != "5" {
		t.Fatalf("--limit %s", v)
	}
	if v := cmd.Flags().Lookup("folder").Value.String(); v != "-x" {
		t.Fatalf("--folder %s", v)
	}
	if _, _, err := parseDashArgs(cmd, []string{"work", "--bogus"}); exitCodeOf(err) != exitUsage {
		t.Fatalf("--bogus: %v", err)
	}
	if _, help, _ := parseDashArgs(cmd, []string{"work", "-h"}); !help {
		t.Fatal("-h is not help")
	}
}
