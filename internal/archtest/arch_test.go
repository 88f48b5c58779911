// Package archtest checks that the packages import one another only as
// docs/ARCHITECTURE.md allows: the "Import rules" block of that document
// is the table this test reads, so the document and the code cannot
// drift apart silently. It holds tests only and imports nothing of ours.
package archtest

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/letterbox-mail/letterbox"

// rules reads the fenced block after the "## Import rules" heading of
// docs/ARCHITECTURE.md: one line per package (its path inside the module,
// "." for main), then the packages it may import; "dir/*" allows every
// package below dir, "-" allows none.
func rules(t *testing.T, doc string) map[string][]string {
	t.Helper()
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	out := map[string][]string{}
	heading, inBlock := false, false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			heading = strings.TrimSpace(line) == "## Import rules"
		case heading && strings.HasPrefix(line, "```"):
			if inBlock {
				return out
			}
			inBlock = true
		case inBlock:
			fields := strings.Fields(line)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			if _, dup := out[fields[0]]; dup {
				t.Fatalf("%s: %s has two rules", doc, fields[0])
			}
			allowed := []string{}
			for _, a := range fields[1:] {
				if a != "-" {
					allowed = append(allowed, a)
				}
			}
			out[fields[0]] = allowed
		}
	}
	t.Fatalf("%s: no fenced block under \"## Import rules\"", doc)
	return nil
}

// allows reports whether a rule's list admits pkg.
func allows(list []string, pkg string) bool {
	for _, a := range list {
		if a == pkg || (strings.HasSuffix(a, "/*") && strings.HasPrefix(pkg, strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

type listed struct {
	ImportPath string
	Imports    []string
}

// TestImportRules: every package of the module has a rule, and imports
// (outside its tests) only what its rule allows.
func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	rs := rules(t, filepath.Join(root, "docs", "ARCHITECTURE.md"))
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if name == "" {
			name = "."
		}
		allowed, ok := rs[name]
		if !ok {
			t.Errorf("%s has no line in docs/ARCHITECTURE.md's import rules", name)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if !allows(allowed, dep) {
				t.Errorf("%s imports %s, which docs/ARCHITECTURE.md does not allow (allowed: %s)", name, dep, strings.Join(allowed, " "))
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list reported only %d packages", seen)
	}
}

func TestAllows(t *testing.T) {
	tests := []struct {
		list []string
		pkg  string
		want bool
	}{
		{[]string{"store"}, "store", true},
		{[]string{"store"}, "store/mime", false},
		{[]string{"store/*"}, "store/mime", true},
		{[]string{"store/*"}, "store", false},
		{[]string{"server/*"}, "serverx", false},
		{nil, "store", false},
	}
	for _, tc := range tests {
		if got := allows(tc.list, tc.pkg); got != tc.want {
			t.Errorf("allows(%q, %q) = %v", tc.list, tc.pkg, got)
		}
	}
}
