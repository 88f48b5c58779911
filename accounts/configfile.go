package accounts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// LoadConfig reads and validates the configuration at path. A missing
// file is an empty configuration, not an error. Keys that letterbox does
// not know are rejected, and so is any password: passwords live in the
// OS keyring or come from password_cmd, never from config.toml.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	return cfg, nil
}

// parseConfig decodes and validates the TOML text of a configuration.
func parseConfig(data []byte) (*Config, error) {
	var cfg Config
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return nil, syntaxErrorLine(data, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, unknownKeys(data, undecoded)
	}
	for _, t := range []string{"keys", "theme", "ui"} {
		if md.IsDefined(t) && md.Type(t) != "Hash" {
			return nil, fmt.Errorf("%s must be a table ([%s] with one setting per line), not a %s", t, t, strings.ToLower(md.Type(t)))
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// syntaxErrorLine puts a TOML syntax error on the line it is on: the
// decoder counts a newline it has read past, so an unclosed "[[account]"
// on line 1 was reported on line 2.
func syntaxErrorLine(data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) || pe.Position.Start < 0 || pe.Position.Start > len(data) {
		return err
	}
	pe.Position.Line = 1 + bytes.Count(data[:pe.Position.Start], []byte("\n"))
	pe.Line = pe.Position.Line
	return pe
}

// unknownKeys explains the first key the decoder did not use, naming the
// account it is in. toml.Key has no array index, so the accounts are
// decoded a second time as plain maps to find which one holds the key.
func unknownKeys(data []byte, keys []toml.Key) error {
	var raw struct {
		Account []map[string]any `toml:"account"`
	}
	_, _ = toml.Decode(string(data), &raw) // already parsed once
	// A password anywhere wins over any other unknown key.
	slices.SortStableFunc(keys, func(a, b toml.Key) int {
		return boolCmp(isPasswordKey(b) || isSecretKey(b), isPasswordKey(a) || isSecretKey(a))
	})
	key := keys[0]
	if len(key) < 2 || key[0] != "account" {
		return fmt.Errorf("unknown key %q: account settings go in an [[account]] table", key.String())
	}
	where, name := "an account", "NAME"
	for i, a := range raw.Account {
		if hasPath(a, key[1:]) {
			where = fmt.Sprintf("account %d", i+1)
			if n, ok := a["name"].(string); ok && validName(n) == nil {
				where, name = fmt.Sprintf("account %q", n), n
			}
			break
		}
	}
	field := strings.Join(key[1:], ".")
	if isSecretKey(key) {
		return fmt.Errorf("%s: %q: OAuth2 secrets and tokens do not belong in the config; "+
			"letterbox keeps the refresh token in the OS keyring (sign in with \"letterbox account auth %s\"), "+
			"and oauth2_client_secret_cmd or oauth2_token_cmd name commands that print the others", where, field, name)
	}
	if isPasswordKey(key) {
		return fmt.Errorf("%s: %q: passwords do not belong in the config; "+
			"remove it and store the password in the OS keyring with \"letterbox account add %s --password-stdin\", "+
			"or set password_cmd to a command that prints it", where, field, name)
	}
	return fmt.Errorf("%s: unknown key %q", where, field)
}

// isSecretKey reports whether the last part of key names an OAuth2
// secret or token (oauth2_client_secret, oauth2_refresh_token, ...).
func isSecretKey(key toml.Key) bool {
	k := strings.ToLower(key[len(key)-1])
	return strings.HasSuffix(k, "_secret") || strings.HasSuffix(k, "_token") || k == "token"
}

// isPasswordKey reports whether the last part of key names a password.
func isPasswordKey(key toml.Key) bool {
	switch strings.ToLower(key[len(key)-1]) {
	case "password", "passwd", "pass", "secret":
		return true
	}
	return false
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// hasPath reports whether the nested map m has the key path.
func hasPath(m map[string]any, path []string) bool {
	v, ok := m[path[0]]
	if !ok {
		return false
	}
	if len(path) == 1 {
		return true
	}
	sub, ok := v.(map[string]any)
	return ok && hasPath(sub, path[1:])
}

// Save validates c and writes it to path atomically: a temporary file in
// the same directory, mode 0600, fsynced, then renamed over path, then the
// directory fsynced. The directory is created with mode 0700 if needed.
func (c *Config) Save(path string) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("save config %s: %w", path, err)
	}
	var buf bytes.Buffer
	buf.WriteString("# letterbox configuration. Passwords are not kept here: they are in\n" +
		"# the OS keyring, or printed by password_cmd.\n\n")
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Errorf("save config %s: %w", path, err)
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data so that a crash leaves either
// the old file or the new one, never a mixture.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
