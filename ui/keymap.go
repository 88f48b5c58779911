package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// KeyMap holds every key binding. The defaults are familiar to mutt and
// aerc users; ui.toml's [keys] table overrides them by action name (see
// actionNames). The help overlay is generated from it.
type KeyMap struct {
	// Moving around.
	Up, Down, Top, Bottom       key.Binding
	PageUp, PageDown            key.Binding
	HalfUp, HalfDown            key.Binding
	Open, Back, Quit            key.Binding
	NextMatch, PrevMatch        key.Binding
	NextFolder, PrevFolder      key.Binding
	NextAccount, PrevAccount    key.Binding
	FocusSidebar, ToggleThreads key.Binding
	// Acting on messages (the tagged ones, else the selected one).
	Tag, ToggleRead, Flag    key.Binding
	Delete, Archive, Move    key.Binding
	Reply, ReplyAll, Forward key.Binding
	Compose, Search, Sync    key.Binding
	EditDraft, Changes       key.Binding
	Help                     key.Binding
	// The reader.
	NextMessage, PrevMessage key.Binding
	NextAttachment           key.Binding
	SaveAttachment           key.Binding
	OpenAttachment           key.Binding
	// The composer.
	Send, SaveDraft, Editor key.Binding
	Attach, NextField       key.Binding
	PrevField, Cancel       key.Binding
}

func kb(keys []string, help, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// DefaultKeyMap returns the default bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:             kb([]string{"k", "up"}, "k/↑", "up"),
		Down:           kb([]string{"j", "down"}, "j/↓", "down"),
		Top:            kb([]string{"g", "home"}, "g", "first"),
		Bottom:         kb([]string{"G", "end"}, "G", "last"),
		PageUp:         kb([]string{"pgup", "ctrl+b"}, "PgUp", "page up"),
		PageDown:       kb([]string{"pgdown", "ctrl+f", " "}, "PgDn/space", "page down"),
		HalfUp:         kb([]string{"ctrl+u"}, "^u", "half page up"),
		HalfDown:       kb([]string{"ctrl+d"}, "^d", "half page down"),
		Open:           kb([]string{"enter"}, "enter", "open"),
		Back:           kb([]string{"q", "esc"}, "q/esc", "back"),
		Quit:           kb([]string{"Q", "ctrl+c"}, "Q", "quit"),
		NextMatch:      kb([]string{"n"}, "n", "next match / unread"),
		PrevMatch:      kb([]string{"N"}, "N", "previous match / unread"),
		NextFolder:     kb([]string{"ctrl+j", "}"}, "}", "next folder"),
		PrevFolder:     kb([]string{"ctrl+k", "{"}, "{", "previous folder"),
		NextAccount:    kb([]string{"ctrl+n", "]"}, "]", "next account"),
		PrevAccount:    kb([]string{"ctrl+p", "["}, "[", "previous account"),
		FocusSidebar:   kb([]string{"tab"}, "tab", "sidebar ⇄ list"),
		ToggleThreads:  kb([]string{"T"}, "T", "threads on/off"),
		Tag:            kb([]string{"t", "x"}, "t/x", "tag"),
		ToggleRead:     kb([]string{"u"}, "u", "read/unread"),
		Flag:           kb([]string{"F", "!"}, "F", "flag"),
		Delete:         kb([]string{"d"}, "d", "delete (to Trash)"),
		Archive:        kb([]string{"a"}, "a", "archive"),
		Move:           kb([]string{"m"}, "m", "move to folder"),
		Reply:          kb([]string{"r"}, "r", "reply"),
		ReplyAll:       kb([]string{"R"}, "R", "reply to all"),
		Forward:        kb([]string{"f"}, "f", "forward"),
		Compose:        kb([]string{"c"}, "c", "compose"),
		Search:         kb([]string{"/"}, "/", "search"),
		Sync:           kb([]string{"s"}, "s", "sync now"),
		EditDraft:      kb([]string{"e"}, "e", "edit a draft"),
		Changes:        kb([]string{"C"}, "C", "refused changes"),
		Help:           kb([]string{"?"}, "?", "help"),
		NextMessage:    kb([]string{"J"}, "J", "next message"),
		PrevMessage:    kb([]string{"K"}, "K", "previous message"),
		NextAttachment: kb([]string{"tab"}, "tab", "next attachment"),
		SaveAttachment: kb([]string{"S"}, "S", "save attachment"),
		OpenAttachment: kb([]string{"o"}, "o", "open attachment"),
		Send:           kb([]string{"ctrl+s"}, "^s", "send"),
		SaveDraft:      kb([]string{"ctrl+o"}, "^o", "save draft"),
		Editor:         kb([]string{"ctrl+e"}, "^e", "edit in $EDITOR"),
		Attach:         kb([]string{"ctrl+a"}, "^a", "attach a file"),
		NextField:      kb([]string{"tab"}, "tab", "next field"),
		PrevField:      kb([]string{"shift+tab"}, "S-tab", "previous field"),
		Cancel:         kb([]string{"esc"}, "esc", "cancel"),
	}
}

// bindings names every binding for ui.toml and the help overlay, grouped.
func (k *KeyMap) bindings() []keyGroup {
	return []keyGroup{
		{"Move", []namedKey{{"up", &k.Up}, {"down", &k.Down}, {"top", &k.Top}, {"bottom", &k.Bottom},
			{"page_up", &k.PageUp}, {"page_down", &k.PageDown}, {"half_up", &k.HalfUp}, {"half_down", &k.HalfDown},
			{"next_match", &k.NextMatch}, {"prev_match", &k.PrevMatch}, {"next_folder", &k.NextFolder},
			{"prev_folder", &k.PrevFolder}, {"next_account", &k.NextAccount}, {"prev_account", &k.PrevAccount},
			{"focus_sidebar", &k.FocusSidebar}}},
		{"Messages", []namedKey{{"open", &k.Open}, {"tag", &k.Tag}, {"toggle_read", &k.ToggleRead}, {"flag", &k.Flag},
			{"delete", &k.Delete}, {"archive", &k.Archive}, {"move", &k.Move}, {"reply", &k.Reply},
			{"reply_all", &k.ReplyAll}, {"forward", &k.Forward}, {"compose", &k.Compose}, {"search", &k.Search},
			{"toggle_threads", &k.ToggleThreads}, {"sync", &k.Sync}, {"edit_draft", &k.EditDraft},
			{"failed_changes", &k.Changes}}},
		{"Reader", []namedKey{{"next_message", &k.NextMessage}, {"prev_message", &k.PrevMessage},
			{"next_attachment", &k.NextAttachment}, {"save_attachment", &k.SaveAttachment},
			{"open_attachment", &k.OpenAttachment}}},
		{"Composer", []namedKey{{"send", &k.Send}, {"save_draft", &k.SaveDraft}, {"editor", &k.Editor},
			{"attach", &k.Attach}, {"next_field", &k.NextField}, {"prev_field", &k.PrevField}, {"cancel", &k.Cancel}}},
		{"General", []namedKey{{"back", &k.Back}, {"help", &k.Help}, {"quit", &k.Quit}}},
	}
}

type namedKey struct {
	name string
	b    *key.Binding
}

type keyGroup struct {
	title string
	keys  []namedKey
}

// actionNames lists the names ui.toml's [keys] accepts, sorted.
func (k *KeyMap) actionNames() []string {
	var out []string
	for _, g := range k.bindings() {
		for _, nk := range g.keys {
			out = append(out, nk.name)
		}
	}
	sort.Strings(out)
	return out
}

// Override rebinds action name to keys (as bubbletea spells them: "j",
// "ctrl+d", "enter", "space" for " "). The help text shows the first key.
func (k *KeyMap) Override(name string, keys []string) error {
	if len(keys) == 0 {
		return fmt.Errorf("keys.%s: no keys given", name)
	}
	for i, s := range keys {
		if s == "space" {
			keys[i] = " "
		}
	}
	for _, g := range k.bindings() {
		for _, nk := range g.keys {
			if nk.name == name {
				desc := nk.b.Help().Desc
				help := keys[0]
				if help == " " {
					help = "space"
				}
				*nk.b = kb(keys, help, desc)
				return nil
			}
		}
	}
	return fmt.Errorf("keys.%s: unknown action (one of: %s)", name, strings.Join(k.actionNames(), ", "))
}
