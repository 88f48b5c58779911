package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/BurntSushi/toml"
)

// Config is the interface's own settings file, ui.toml, next to
// config.toml ($XDG_CONFIG_HOME/letterbox/ui.toml). It is optional:
//
//	[keys]                  # action = "key" or ["key", "key"], every screen
//	delete = ["d", "D"]
//	next_account = "ctrl+n"
//	[keys.reader]           # the reader only ([keys.list]: the list only)
//	page_down = ["pgdown", "space"]
//
//	[theme]                 # colour = "#rrggbb" or "0".."255"
//	accent = "#ff8800"
//	no_color = false        # true: attributes only (NO_COLOR does the same)
//
//	[ui]
//	threads = true          # open folders threaded
//	sync_interval = "5m"    # background sync period; "0" turns it off
//	watch = true            # IMAP: new mail in every folder within seconds (IDLE, NOTIFY)
//	wrap = 80               # widest the reader lays text out; 0: the window
//	mouse = true            # false: clicks and the wheel stay the terminal's
//	notify = "auto"         # new mail: "dbus" (desktop), "bell", "off"; auto: desktop, else bell
//
// The action names are listed in README.md (a test keeps that table
// whole) and by the error an unknown name gives.
type Config struct {
	Keys  map[string]any `toml:"keys"`
	Theme map[string]any `toml:"theme"`
	UI    map[string]any `toml:"ui"`
}

// DefaultConfigPath returns $XDG_CONFIG_HOME/letterbox/ui.toml (or
// ~/.config/letterbox/ui.toml).
func DefaultConfigPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("ui config path: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "letterbox", "ui.toml"), nil
}

// Settings are what a Config resolves to.
type Settings struct {
	Keys         KeyMaps
	Theme        Theme
	Threads      bool
	SyncInterval string
	// Wrap is the widest the reader lays text out (0: the window's).
	Wrap int
	// NoMouse leaves the mouse to the terminal (selecting text):
	// [ui] mouse = false.
	NoMouse bool
	// Notify says how new mail is announced: "auto", "dbus", "bell",
	// "off" (see notify.go).
	Notify string
	// NoWatch leaves the IMAP accounts to the periodic sync: [ui]
	// watch = false (see watch.go).
	NoWatch bool
}

// LoadSettings reads ui.toml at path (a missing file gives the defaults)
// and applies NO_COLOR from env.
func LoadSettings(path string, getenv func(string) string) (Settings, error) {
	return LoadSettingsWith(Config{}, "", path, getenv)
}

// LoadSettingsWith applies base first (the [keys], [theme] and [ui]
// tables of config.toml, named by from for errors), then ui.toml at path
// when it exists, then NO_COLOR from env.
func LoadSettingsWith(base Config, from, path string, getenv func(string) string) (Settings, error) {
	s := Settings{Keys: DefaultKeyMaps(), Theme: DefaultTheme(), SyncInterval: "5m", Wrap: defaultWrap, Notify: notifyAuto}
	if getenv("NO_COLOR") != "" {
		s.Theme.NoColor = true
	}
	if err := s.apply(base, from); err != nil {
		return s, err
	}
	if path == "" {
		return s, s.Keys.Check()
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, s.Keys.Check()
	}
	if err != nil {
		return s, fmt.Errorf("ui config: %w", err)
	}
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return s, fmt.Errorf("ui config %s: %w", path, err)
	}
	for _, k := range md.Undecoded() {
		// Tables inside [keys] ([keys.reader]) land in the map
		// undecoded; apply checks them.
		if len(k) < 3 || k[0] != "keys" {
			return s, fmt.Errorf("ui config %s: unknown key %s (tables: keys, theme, ui)", path, k)
		}
	}
	if err := s.apply(c, path); err != nil {
		return s, err
	}
	return s, s.Keys.Check()
}

// apply resolves the tables of c onto s; path names them in errors.
func (s *Settings) apply(c Config, path string) error {
	// [keys] first, on every screen, then [keys.list] and [keys.reader].
	for _, name := range sortedKeys(c.Keys) {
		if _, table := c.Keys[name].(map[string]any); table {
			continue
		}
		if err := s.override([]*KeyMap{&s.Keys.List, &s.Keys.Reader}, "keys", name, c.Keys[name]); err != nil {
			return fmt.Errorf("ui config %s: %w", path, err)
		}
	}
	for _, name := range sortedKeys(c.Keys) {
		table, ok := c.Keys[name].(map[string]any)
		if !ok {
			continue
		}
		var km *KeyMap
		switch name {
		case "list":
			km = &s.Keys.List
		case "reader":
			km = &s.Keys.Reader
		default:
			return fmt.Errorf("ui config %s: [keys.%s]: no such screen (list, reader)", path, name)
		}
		for _, action := range sortedKeys(table) {
			if err := s.override([]*KeyMap{km}, "keys."+name, action, table[action]); err != nil {
				return fmt.Errorf("ui config %s: %w", path, err)
			}
		}
	}
	for _, name := range sortedKeys(c.Theme) {
		v := c.Theme[name]
		if name == "no_color" {
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("ui config %s: theme.no_color: want true or false", path)
			}
			s.Theme.NoColor = s.Theme.NoColor || b
			continue
		}
		str, ok := v.(string)
		if !ok {
			if n, isInt := v.(int64); isInt {
				str = fmt.Sprint(n)
			} else {
				return fmt.Errorf("ui config %s: theme.%s: want a colour string", path, name)
			}
		}
		if err := s.Theme.Set(name, str); err != nil {
			return fmt.Errorf("ui config %s: %w", path, err)
		}
	}
	for _, name := range sortedKeys(c.UI) {
		v := c.UI[name]
		switch name {
		case "threads":
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("ui config %s: ui.threads: want true or false", path)
			}
			s.Threads = b
		case "sync_interval":
			str, ok := v.(string)
			if !ok {
				return fmt.Errorf("ui config %s: ui.sync_interval: want a duration such as \"5m\"", path)
			}
			s.SyncInterval = str
		case "watch":
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("ui config %s: ui.watch: want true or false", path)
			}
			s.NoWatch = !b
		case "mouse":
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("ui config %s: ui.mouse: want true or false", path)
			}
			s.NoMouse = !b
		case "notify":
			str, _ := v.(string)
			switch str {
			case notifyAuto, notifyDBus, notifyBell, notifyOff:
				s.Notify = str
			default:
				return fmt.Errorf("ui config %s: ui.notify: want \"auto\", \"dbus\", \"bell\" or \"off\"", path)
			}
		case "wrap":
			n, ok := v.(int64)
			if !ok || n < 0 || n > 1000 {
				return fmt.Errorf("ui config %s: ui.wrap: want a number of columns (0: the window's width)", path)
			}
			s.Wrap = int(n)
		default:
			return fmt.Errorf("ui config %s: ui.%s: unknown setting (%s)", path, name, uiSettingNames)
		}
	}
	return nil
}

// override rebinds action on each of maps to the keys of v (a string or
// a list of strings); table names where v came from, for errors.
func (s *Settings) override(maps []*KeyMap, table, action string, v any) error {
	var keys []string
	switch v := v.(type) {
	case string:
		keys = []string{v}
	case []any:
		for _, e := range v {
			str, ok := e.(string)
			if !ok {
				return fmt.Errorf("%s.%s: want a string or a list of strings", table, action)
			}
			keys = append(keys, str)
		}
	default:
		return fmt.Errorf("%s.%s: want a string or a list of strings", table, action)
	}
	for _, km := range maps {
		if err := km.Override(action, keys); err != nil {
			if table != "keys" {
				return fmt.Errorf("%s: %w", table, err)
			}
			return err
		}
	}
	return nil
}

// sortedKeys returns the keys of m in order, so that errors and the
// order overrides apply in do not depend on map iteration.
func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// uiSettingNames lists the [ui] settings, for errors.
const uiSettingNames = "threads, sync_interval, watch, wrap, mouse, notify"
