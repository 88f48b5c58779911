package ui

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadSettings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ui.toml")
	// A missing file gives the defaults.
	s, err := LoadSettings(path, env(nil))
	if err != nil || s.Theme.NoColor || s.SyncInterval != "5m" {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	os.WriteFile(path, []byte(`
[keys]
delete = ["D", "ctrl+x"]
next_account = "space"
toggle_thread = "za"

[theme]
accent = "#ff8800"
dim = "244"

[ui]
threads = true
sync_interval = "10m"
wrap = 72
watch = false
`), 0o600)
	s, err = LoadSettings(path, env(map[string]string{"NO_COLOR": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if !key.Matches(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("D")}, s.Keys.List.Delete) ||
		!key.Matches(tea.KeyMsg{Type: tea.KeyCtrlX}, s.Keys.List.Delete) ||
		key.Matches(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("d")}, s.Keys.List.Delete) {
		t.Fatal("delete not rebound")
	}
	if !key.Matches(tea.KeyMsg{Type: tea.KeySpace}, s.Keys.List.NextAccount) {
		t.Fatal("space not bound")
	}
	if s.Theme.Accent.True != "#ff8800" || !s.Theme.NoColor || !s.Threads || s.SyncInterval != "10m" || s.Wrap != 72 || !s.NoWatch {
		t.Fatalf("settings %+v", s)
	}
	// The help overlay shows the new binding.
	c := testCommon()
	c.Keys, c.ReaderKeys = s.Keys.List, s.Keys.Reader
	h := helpModel{c: c, width: 120, height: 40}
	if v := h.View(); !strings.Contains(v, "D          delete (to Trash)") {
		t.Fatalf("help:\n%s", v)
	}
	for _, bad := range []string{"[keys]\nfly = \"x\"", "[theme]\naccent = \"orange\"", "[colors]\nx = 1", "[ui]\nthreads = \"yes\"", "[ui]\nwrap = \"wide\"", "[ui]\nwatch = \"no\"", "[keys]\ndelete = 3"} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := LoadSettings(path, env(nil)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestThemes(t *testing.T) {
	for _, th := range []Theme{DefaultTheme(), {NoColor: true}} {
		c := testCommon()
		c.Styles = NewStyles(c.Renderer, th)
		if c.Styles.RowSelected.Render("x") == "" {
			t.Fatal("empty render")
		}
	}
	// NO_COLOR: attributes (reverse, bold) but no colour at all.
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	nc := NewStyles(r, Theme{NoColor: true})
	sel := nc.RowSelected.Render("row")
	if !strings.Contains(sel, "7m") || strings.Contains(sel, "38;5") || strings.Contains(sel, "48;5") {
		t.Fatalf("no-colour selection %q", sel)
	}
	col := NewStyles(r, DefaultTheme()).RowSelected.Render("row")
	if !strings.Contains(col, "38;5;234") || !strings.Contains(col, "48;5;111") {
		t.Fatalf("256-colour selection %q", col)
	}
	r.SetColorProfile(termenv.ANSI)
	if col := NewStyles(r, DefaultTheme()).RowSelected.Render("row"); !strings.Contains(col, "30") || !strings.Contains(col, "104") {
		t.Fatalf("16-colour selection %q", col)
	}
	var th Theme
	if err := th.Set("select_bg", "#123456"); err != nil || th.SelectBG.True != "#123456" {
		t.Fatal(err)
	}
	if err := th.Set("nope", "1"); err == nil {
		t.Fatal("unknown colour accepted")
	}
}

func TestFuzzyFilter(t *testing.T) {
	got := fuzzyFilter("arc", []string{"INBOX", "Archive", "Projects/arcade", "Sent", "Trash", "a.r.c"})
	if len(got) != 3 || got[0] != "Archive" {
		t.Fatalf("fuzzy %q", got)
	}
	if got := fuzzyFilter("", []string{"b", "a"}); len(got) != 2 {
		t.Fatalf("empty pattern %q", got)
	}
	if got := fuzzyFilter("zz", []string{"INBOX"}); len(got) != 0 {
		t.Fatalf("no match %q", got)
	}
}

func TestParseInterval(t *testing.T) {
	for in, want := range map[string]string{"0": "0s", "": "0s", "5m": "5m0s", "1s": "30s"} {
		d, err := parseInterval(in)
		if err != nil || d.String() != want {
			t.Errorf("%q: %v %v", in, d, err)
		}
	}
	if _, err := parseInterval("soon"); err == nil {
		t.Error("bad interval accepted")
	}
}

// TestSettingsFromConfigToml: the [keys], [theme] and [ui] tables of
// config.toml apply, and ui.toml, when present, overrides them.
func TestSettingsFromConfigToml(t *testing.T) {
	base := Config{Keys: map[string]any{"delete": "D"}, UI: map[string]any{"threads": true, "sync_interval": "1m"}}
	s, err := LoadSettingsWith(base, "config.toml", "", func(string) string { return "" })
	if err != nil || !s.Threads || s.SyncInterval != "1m" {
		t.Fatalf("from config.toml: %+v %v", s, err)
	}
	if keys := s.Keys.List.Delete.Keys(); len(keys) != 1 || keys[0] != "D" {
		t.Fatalf("delete keys = %v", keys)
	}
	path := filepath.Join(t.TempDir(), "ui.toml")
	if err := os.WriteFile(path, []byte("[ui]\nsync_interval = \"2m\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = LoadSettingsWith(base, "config.toml", path, func(string) string { return "" })
	if err != nil || s.SyncInterval != "2m" || !s.Threads {
		t.Fatalf("ui.toml over config.toml: %+v %v", s, err)
	}
	if _, err := LoadSettingsWith(Config{UI: map[string]any{"bogus": 1}}, "config.toml", "", func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "config.toml") {
		t.Fatalf("a bad setting in config.toml: %v", err)
	}
}
