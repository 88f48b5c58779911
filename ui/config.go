package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// Config is the interface's own settings file, ui.toml, next to
// config.toml ($XDG_CONFIG_HOME/letterbox/ui.toml). It is optional:
//
//	[keys]                  # action = "key" or ["key", "key"]
//	delete = ["d", "D"]
//	next_account = "ctrl+n"
//
//	[theme]                 # colour = "#rrggbb" or "0".."255"
//	accent = "#ff8800"
//	no_color = false        # true: attributes only (NO_COLOR does the same)
//
//	[ui]
//	threads = true          # open folders threaded
//	sync_interval = "5m"    # background sync period; "0" turns it off
//
// Action names are listed by the help overlay (?) and in README.md.
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
	Keys         KeyMap
	Theme        Theme
	Threads      bool
	SyncInterval string
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
	s := Settings{Keys: DefaultKeyMap(), Theme: DefaultTheme(), SyncInterval: "5m"}
	if getenv("NO_COLOR") != "" {
		s.Theme.NoColor = true
	}
	if err := s.apply(base, from); err != nil {
		return s, err
	}
	if path == "" {
		return s, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("ui config: %w", err)
	}
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return s, fmt.Errorf("ui config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return s, fmt.Errorf("ui config %s: unknown key %s (tables: keys, theme, ui)", path, und[0])
	}
	return s, s.apply(c, path)
}

// apply resolves the tables of c onto s; path names them in errors.
func (s *Settings) apply(c Config, path string) error {
	for name, v := range c.Keys {
		var keys []string
		switch v := v.(type) {
		case string:
			keys = []string{v}
		case []any:
			for _, e := range v {
				str, ok := e.(string)
				if !ok {
					return fmt.Errorf("ui config %s: keys.%s: want a string or a list of strings", path, name)
				}
				keys = append(keys, str)
			}
		default:
			return fmt.Errorf("ui config %s: keys.%s: want a string or a list of strings", path, name)
		}
		if err := s.Keys.Override(name, keys); err != nil {
			return fmt.Errorf("ui config %s: %w", path, err)
		}
	}
	for name, v := range c.Theme {
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
	for name, v := range c.UI {
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
		default:
			return fmt.Errorf("ui config %s: ui.%s: unknown setting (threads, sync_interval)", path, name)
		}
	}
	return nil
}
