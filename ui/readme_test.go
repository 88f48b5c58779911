package ui

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestREADMEListsEveryAction: the action names [keys] takes are listed
// in README.md's interface section, each with its default keys (on the
// list and in the reader), so a user can rebind one without guessing
// its name.
func TestREADMEListsEveryAction(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(data)
	start := strings.Index(section, "### The interface")
	if start < 0 {
		t.Fatal("README.md has no interface section")
	}
	section = section[start:]
	if end := strings.Index(section[1:], "\n### "); end >= 0 {
		section = section[:end+1]
	}
	rows := map[string]string{}
	for _, l := range strings.Split(section, "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(l, "| `"), "` |"); ok && strings.HasPrefix(l, "| `") {
			rows[name] = l
		}
	}
	km := DefaultKeyMaps()
	keys := map[string][]string{}
	for _, m := range []*KeyMap{&km.List, &km.Reader} {
		for _, g := range m.bindings() {
			for _, nk := range g.keys {
				for _, k := range nk.b.Keys() {
					if k == " " {
						k = "space"
					}
					if !slices.Contains(keys[nk.name], k) {
						keys[nk.name] = append(keys[nk.name], k)
					}
				}
			}
		}
	}
	for _, name := range km.List.actionNames() {
		row, ok := rows[name]
		if !ok {
			t.Errorf("README.md lists no action %s (a table row starting | `%s` |)", name, name)
			continue
		}
		for _, k := range keys[name] {
			if !strings.Contains(row, "`"+k+"`") {
				t.Errorf("README.md: %s: the default key %s is missing: %s", name, k, row)
			}
		}
	}
}
