package accounts

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const sampleConfig = `
[[account]]
name = "work"
email = "ann@example.com"
display_name = "Ann Example"
mode = "imap"
login = "ann"
password_cmd = "pass show mail/work"
tls_ca = "/etc/ssl/private-ca.pem"
sync_window = "days:30"
signature = "-- \nAnn"
subscribed_only = false
imap = { host = "imap.example.com", port = 993, security = "tls" }
smtp = { host = "smtp.example.com", port = 587, security = "starttls" }
folders = { sent = "Sent Items", junk = "Spam" }

[[account]]
name = "home.pop"
email = "ann@example.net"
mode = "pop3"
pop3_policy = "keep-days:14"
pop3_delete_local = true
[account.pop3]
host = "pop.example.net"
[account.smtp]
host = "smtp.example.net"
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, sampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != 2 {
		t.Fatalf("%d accounts, want 2", len(cfg.Accounts))
	}
	work, home := cfg.Accounts[0], cfg.Accounts[1]
	if work.Incoming() != (ServerConfig{"imap.example.com", 993, SecurityTLS}) ||
		work.SMTP != (ServerConfig{"smtp.example.com", 587, SecurityStartTLS}) {
		t.Errorf("work servers: %+v %+v", work.Incoming(), work.SMTP)
	}
	if work.Username() != "ann" || home.Username() != "ann@example.net" {
		t.Errorf("usernames %q %q", work.Username(), home.Username())
	}
	if work.OnlySubscribed() || !home.OnlySubscribed() {
		t.Errorf("subscribed_only: work %v home %v", work.OnlySubscribed(), home.OnlySubscribed())
	}
	if work.Folders != (Folders{Sent: "Sent Items", Junk: "Spam"}) || work.Signature != "-- \nAnn" {
		t.Errorf("folders %+v signature %q", work.Folders, work.Signature)
	}
	if b, _ := work.Bodies(); b != (BodyPolicy{BodyDays, 30}) {
		t.Errorf("work bodies %v", b)
	}
	if p, _ := home.POP3Deletion(); p != (Policy{Kind: PolicyKeepDays, Days: 14}) || !home.POP3DeleteLocal {
		t.Errorf("home policy %v delete local %v", p, home.POP3DeleteLocal)
	}
	if in := home.Incoming().WithDefaults(POP3); in != (ServerConfig{"pop.example.net", 995, SecurityTLS}) {
		t.Errorf("home incoming with defaults %+v", in)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join(t.TempDir(), "nope", "config.toml"))
	if err != nil || cfg == nil || len(cfg.Accounts) != 0 {
		t.Fatalf("LoadConfig(missing) = %v, %v; want an empty config", cfg, err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	const ok = "email = \"a@example.com\"\nmode = \"imap\"\nimap = { host = \"h\" }\nsmtp = { host = \"h\" }\n"
	acct := func(name, extra string) string {
		return "[[account]]\nname = \"" + name + "\"\n" + extra + ok
	}
	smtp := func(text, table string) string {
		return strings.Replace(text, `smtp = { host = "h" }`, "smtp = "+table, 1)
	}
	tests := []struct {
		name, text string
		want       []string
	}{
		{"password", acct("work", "password = \"hunter2\"\n"),
			[]string{`account "work"`, `"password"`, "passwords do not belong in the config", "password_cmd", "keyring"}},
		{"nested password", acct("a", "") + acct("work", "") + "smtp.password = \"x\"\n",
			[]string{`account "work"`, `"smtp.password"`, "do not belong"}},
		{"password wins over other unknown keys", acct("work", "colour = 1\npassword = \"x\"\n"),
			[]string{`"password"`, "do not belong"}},
		{"unknown key", acct("work", "colour = \"blue\"\n"), []string{`account "work"`, `unknown key "colour"`}},
		{"unknown top-level key", "colour = \"dark\"\n" + acct("work", ""), []string{`unknown key "colour"`}},
		{"interface table not a table", "theme = \"dark\"\n" + acct("work", ""), []string{"theme"}},
		{"duplicate name", acct("work", "") + acct("work", ""), []string{`account "work"`, "two accounts"}},
		{"bad name", acct("my work", ""), []string{`"my work"`, "letters, digits"}},
		{"dot name", acct("..", ""), []string{`".."`, "not allowed"}},
		{"empty name", "[[account]]\n" + ok, []string{"account 1", "name is empty"}},
		{"bad mode", strings.Replace(acct("work", ""), `"imap"`, `"jmap"`, 1), []string{`account "work"`, `mode "jmap"`}},
		{"bad security", acct("work", "") + "pop3 = { security = \"ssl\" }\n", []string{`account "work"`, `pop3.security "ssl"`}},
		{"big port", smtp(acct("work", ""), `{ host = "h", port = 70000 }`), []string{`account "work"`, "smtp.port 70000"}},
		{"negative port", strings.Replace(acct("work", ""), `imap = { host = "h" }`, `imap = { host = "h", port = -1 }`, 1),
			[]string{`account "work"`, "imap.port -1"}},
		{"bad policy", acct("work", "pop3_policy = \"keep-days:0\"\n"), []string{`account "work"`, "pop3_policy"}},
		{"bad window", acct("work", "sync_window = \"weeks:2\"\n"), []string{`account "work"`, "sync_window"}},
		{"no incoming host", strings.Replace(acct("work", ""), "imap = { host = \"h\" }\n", "", 1),
			[]string{`account "work"`, "imap.host is empty"}},
		{"no smtp host", strings.Replace(acct("work", ""), "smtp = { host = \"h\" }\n", "", 1),
			[]string{`account "work"`, "smtp.host is empty"}},
		{"bad email", strings.Replace(acct("work", ""), "a@example.com", "Ann <a@example.com>", 1),
			[]string{`account "work"`, "email"}},
		{"bad host", smtp(acct("work", ""), `{ host = "smtp example" }`), []string{`account "work"`, `smtp.host "smtp example"`}},
		{"syntax", "[[account]\n", []string{"config.toml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tt.text))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSaveRoundTrip(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, sampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "xdg", "letterbox")
	path := filepath.Join(dir, "config.toml")
	for range 2 { // create, then replace
		if err := cfg.Save(path); err != nil {
			t.Fatal(err)
		}
	}
	for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode(), err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only config.toml (no temporary files)", len(entries))
	}
	back, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cfg) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, cfg)
	}
	text, _ := os.ReadFile(path)
	if strings.Contains(string(text), "pop3 = ") || strings.Contains(string(text), "[account.imap]\n  host = \"\"") {
		t.Errorf("empty server tables written:\n%s", text)
	}
}

func TestSaveRejectsInvalid(t *testing.T) {
	cfg := &Config{Accounts: []AccountConfig{{Name: "bad name"}}}
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := cfg.Save(path); err == nil {
		t.Fatal("saved an invalid config")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file written anyway: %v", err)
	}
}

func TestFindAddRemove(t *testing.T) {
	var cfg Config
	if _, err := cfg.Find("work"); !errors.Is(err, ErrUnknownAccount) {
		t.Errorf("Find on empty config: %v", err)
	}
	work := AccountConfig{Name: "work", Email: "a@example.com", Mode: ModeIMAP,
		IMAP: ServerConfig{Host: "imap.example.com"}, SMTP: ServerConfig{Host: "smtp.example.com"}}
	if err := cfg.Add(work); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Add(work); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second Add: %v", err)
	}
	bad := work
	bad.Name, bad.Mode = "home", "smtp"
	if err := cfg.Add(bad); err == nil {
		t.Error("Add accepted mode smtp")
	}
	got, err := cfg.Find("work")
	if err != nil || got.Email != work.Email {
		t.Fatalf("Find = %v, %v", got, err)
	}
	got.Signature = "edited in place"
	if cfg.Accounts[0].Signature != "edited in place" {
		t.Error("Find does not return a pointer into the config")
	}
	if _, err := cfg.Find("home"); err == nil || !strings.Contains(err.Error(), "accounts: work") {
		t.Errorf("Find(home) = %v, want the known names listed", err)
	}
	if err := cfg.Remove("home"); !errors.Is(err, ErrUnknownAccount) {
		t.Errorf("Remove(home) = %v", err)
	}
	if err := cfg.Remove("work"); err != nil || len(cfg.Accounts) != 0 {
		t.Errorf("Remove(work) = %v, %d left", err, len(cfg.Accounts))
	}
}

func TestDefaultConfigPath(t *testing.T) {
	tests := []struct{ xdg, home, want string }{
		{"/x/config", "/home/ann", "/x/config/letterbox/config.toml"},
		{"", "/home/ann", "/home/ann/.config/letterbox/config.toml"},
		{"relative", "/home/ann", "/home/ann/.config/letterbox/config.toml"}, // ignored, per the XDG spec
	}
	for _, tt := range tests {
		t.Setenv("XDG_CONFIG_HOME", tt.xdg)
		t.Setenv("HOME", tt.home)
		if got, err := DefaultConfigPath(); err != nil || got != tt.want {
			t.Errorf("XDG_CONFIG_HOME=%q HOME=%q: %q, %v; want %q", tt.xdg, tt.home, got, err, tt.want)
		}
	}
}

func TestDataDir(t *testing.T) {
	a := AccountConfig{Name: "work"}
	if got := a.DataDir("/data"); got != filepath.Join("/data", "accounts", "work") {
		t.Errorf("DataDir = %q", got)
	}
}

// TestInterfaceTablesKept: config.toml may hold the interface's [keys],
// [theme] and [ui] tables; loading accepts them and saving keeps them.
func TestInterfaceTablesKept(t *testing.T) {
	path := writeConfig(t, "[keys]\ndelete = \"D\"\n[ui]\nthreads = true\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	again, err := LoadConfig(path)
	if err != nil || again.Keys["delete"] != "D" || again.UI["threads"] != true {
		t.Fatalf("after save: %+v %v", again, err)
	}
}
