package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// KeyMap holds every key binding of one screen. The defaults are
// familiar to mutt and aerc users; config's [keys] table overrides them
// by action name (see actionNames), [keys.list] and [keys.reader] on one
// screen only. The help overlay is generated from it.
//
// The keymap is per screen (KeyMaps): every action acts on some screens
// (keyScreen), and one key may mean different things on different
// screens (tab moves to the sidebar on the list, to the next attachment
// in the reader, to the next field in the composer; space pages in the
// reader and folds a thread on the list), but never two things on one
// screen: LoadSettings refuses such a map, naming the key and both
// actions. A key of several letters ("za") is a sequence, typed one
// letter after the other; no key of the same screen may be the start of
// it.
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
	ToggleThread                key.Binding
	// Acting on messages (the tagged ones, else the selected one).
	Tag, ToggleRead, Flag    key.Binding
	Delete, Archive, Move    key.Binding
	Undo                     key.Binding
	Reply, ReplyAll, Forward key.Binding
	Compose, Search, Sync    key.Binding
	EditDraft, Changes       key.Binding
	SignIn                   key.Binding // an OAuth2 account again (signin.go)
	Help                     key.Binding
	// The reader.
	NextMessage, PrevMessage key.Binding
	NextAttachment           key.Binding
	SaveAttachment           key.Binding
	OpenAttachment           key.Binding
	OpenHTML, OpenLink       key.Binding
	// The composer.
	Send, SaveDraft, Editor key.Binding
	Attach, NextField       key.Binding
	PrevField, Cancel       key.Binding
}

// KeyMaps are the key maps of the screens: List serves the main screen
// (sidebar and list), the help overlay, the folder picker and the
// composer; Reader the message reader.
type KeyMaps struct {
	List, Reader KeyMap
}

func kb(keys []string, help, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// DefaultKeyMap returns the default bindings of the list.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:             kb([]string{"k", "up"}, "k/↑", "up"),
		Down:           kb([]string{"j", "down"}, "j/↓", "down"),
		Top:            kb([]string{"g", "home"}, "g", "first"),
		Bottom:         kb([]string{"G", "end"}, "G", "last"),
		PageUp:         kb([]string{"pgup", "ctrl+b"}, "PgUp", "page up"),
		PageDown:       kb([]string{"pgdown", "ctrl+f"}, "PgDn", "page down"),
		HalfUp:         kb([]string{"ctrl+u"}, "^u", "half page up"),
		HalfDown:       kb([]string{"ctrl+d"}, "^d", "half page down"),
		Open:           kb([]string{"enter"}, "enter", "open"),
		Back:           kb([]string{"q", "esc"}, "q/esc", "back (list: q quits)"),
		Quit:           kb([]string{"Q", "ctrl+c"}, "Q", "quit"),
		NextMatch:      kb([]string{"n"}, "n", "next match (or unread)"),
		PrevMatch:      kb([]string{"N"}, "N", "prev. match (or unread)"),
		NextFolder:     kb([]string{"ctrl+j", "}"}, "}", "next folder"),
		PrevFolder:     kb([]string{"ctrl+k", "{"}, "{", "previous folder"),
		NextAccount:    kb([]string{"ctrl+n", "]"}, "]", "next account"),
		PrevAccount:    kb([]string{"ctrl+p", "["}, "[", "previous account"),
		FocusSidebar:   kb([]string{"tab"}, "tab", "sidebar ⇄ list"),
		ToggleThreads:  kb([]string{"T"}, "T", "threads on/off"),
		ToggleThread:   kb([]string{" ", "za"}, "space/za", "fold/unfold thread"),
		Tag:            kb([]string{"t", "x"}, "t/x", "tag"),
		ToggleRead:     kb([]string{"u"}, "u", "read/unread"),
		Flag:           kb([]string{"F", "!"}, "F", "flag"),
		Delete:         kb([]string{"d"}, "d", "delete (to Trash)"),
		Archive:        kb([]string{"a"}, "a", "archive"),
		Move:           kb([]string{"m"}, "m", "move to folder"),
		Undo:           kb([]string{"U"}, "U", "undo move/delete/flag"),
		Reply:          kb([]string{"r"}, "r", "reply"),
		ReplyAll:       kb([]string{"R"}, "R", "reply to all"),
		Forward:        kb([]string{"f"}, "f", "forward"),
		Compose:        kb([]string{"c"}, "c", "compose"),
		Search:         kb([]string{"/"}, "/", "search (reader: in it)"),
		Sync:           kb([]string{"s"}, "s", "sync now"),
		EditDraft:      kb([]string{"e"}, "e", "edit a draft"),
		Changes:        kb([]string{"C"}, "C", "refused changes"),
		SignIn:         kb([]string{"A"}, "A", "sign in again (OAuth2)"),
		Help:           kb([]string{"?"}, "?", "help"),
		NextMessage:    kb([]string{"J"}, "J", "next message"),
		PrevMessage:    kb([]string{"K"}, "K", "previous message"),
		NextAttachment: kb([]string{"tab"}, "tab", "next attachment"),
		SaveAttachment: kb([]string{"S"}, "S", "save attachment"),
		OpenAttachment: kb([]string{"o"}, "o", "open attachment"),
		OpenHTML:       kb([]string{"v"}, "v", "HTML in the browser"),
		OpenLink:       kb([]string{"l"}, "l", "open link N"),
		Send:           kb([]string{"ctrl+s"}, "^s", "send"),
		SaveDraft:      kb([]string{"ctrl+o"}, "^o", "save draft"),
		Editor:         kb([]string{"ctrl+e"}, "^e", "edit in $EDITOR"),
		Attach:         kb([]string{"ctrl+a"}, "^a", "attach a file"),
		NextField:      kb([]string{"tab"}, "tab", "next field"),
		PrevField:      kb([]string{"shift+tab"}, "S-tab", "previous field"),
		Cancel:         kb([]string{"esc"}, "esc", "cancel"),
	}
}

// DefaultKeyMaps returns the default maps: the reader's is the list's
// with space paging down, as in a pager.
func DefaultKeyMaps() KeyMaps {
	r := DefaultKeyMap()
	r.PageDown = kb([]string{"pgdown", "ctrl+f", " "}, "PgDn/space", "page down")
	return KeyMaps{List: DefaultKeyMap(), Reader: r}
}

// The screens an action acts on.
const (
	onList = 1 << iota
	onReader
	onComposer
	onBoth = onList | onReader
)

// keyScreens names the screens for [keys.NAME] and errors.
var keyScreens = []struct {
	name   string
	screen int
}{{"list", onList}, {"reader", onReader}, {"composer", onComposer}}

func screenName(sc int) string {
	for _, s := range keyScreens {
		if s.screen == sc {
			return s.name
		}
	}
	return "?"
}

type namedKey struct {
	name   string
	b      *key.Binding
	screen int // onList, onReader...: where it acts
}

type keyGroup struct {
	title  string
	screen int // the map the help shows it from: onReader uses the reader's
	keys   []namedKey
}

// bindings names every binding for the config and the help overlay,
// grouped, with the screens each acts on.
func (k *KeyMap) bindings() []keyGroup {
	return []keyGroup{
		{"Move (list, reader)", onList, []namedKey{{"up", &k.Up, onBoth}, {"down", &k.Down, onBoth},
			{"top", &k.Top, onBoth}, {"bottom", &k.Bottom, onBoth}, {"page_up", &k.PageUp, onBoth},
			{"page_down", &k.PageDown, onBoth}, {"half_up", &k.HalfUp, onBoth}, {"half_down", &k.HalfDown, onBoth}}},
		{"List", onList, []namedKey{{"open", &k.Open, onList}, {"tag", &k.Tag, onList},
			{"next_folder", &k.NextFolder, onList}, {"prev_folder", &k.PrevFolder, onList},
			{"next_account", &k.NextAccount, onList}, {"prev_account", &k.PrevAccount, onList},
			{"focus_sidebar", &k.FocusSidebar, onList}, {"toggle_threads", &k.ToggleThreads, onList},
			{"toggle_thread", &k.ToggleThread, onList}}},
		{"Messages (list, reader)", onList, []namedKey{{"toggle_read", &k.ToggleRead, onBoth}, {"flag", &k.Flag, onBoth},
			{"delete", &k.Delete, onBoth}, {"archive", &k.Archive, onBoth}, {"move", &k.Move, onBoth},
			{"undo", &k.Undo, onBoth}, {"reply", &k.Reply, onBoth}, {"reply_all", &k.ReplyAll, onBoth},
			{"forward", &k.Forward, onBoth}, {"compose", &k.Compose, onBoth}, {"search", &k.Search, onBoth},
			{"next_match", &k.NextMatch, onBoth}, {"prev_match", &k.PrevMatch, onBoth}, {"sync", &k.Sync, onBoth},
			{"edit_draft", &k.EditDraft, onBoth}, {"failed_changes", &k.Changes, onBoth}}},
		{"Reader", onReader, []namedKey{{"next_message", &k.NextMessage, onReader}, {"prev_message", &k.PrevMessage, onReader},
			{"next_attachment", &k.NextAttachment, onReader}, {"save_attachment", &k.SaveAttachment, onReader},
			{"open_attachment", &k.OpenAttachment, onReader}, {"open_html", &k.OpenHTML, onReader},
			{"open_link", &k.OpenLink, onReader}}},
		{"Composer", onComposer, []namedKey{{"send", &k.Send, onComposer}, {"save_draft", &k.SaveDraft, onComposer},
			{"editor", &k.Editor, onComposer}, {"attach", &k.Attach, onComposer}, {"next_field", &k.NextField, onComposer},
			{"prev_field", &k.PrevField, onComposer}, {"cancel", &k.Cancel, onComposer}}},
		{"General", onList, []namedKey{{"back", &k.Back, onBoth}, {"help", &k.Help, onBoth}, {"quit", &k.Quit, onBoth},
			{"sign_in", &k.SignIn, onBoth}}},
	}
}

// binds reports whether an action of k is bound to msg.
func (k *KeyMap) binds(msg tea.KeyMsg) bool {
	for _, g := range k.bindings() {
		for _, nk := range g.keys {
			if key.Matches(msg, *nk.b) {
				return true
			}
		}
	}
	return false
}

// actionNames lists the names the config's [keys] accepts, sorted.
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
// "ctrl+d", "enter", "space" for " "; several letters, "za", are a
// sequence). The help text shows the first key.
func (k *KeyMap) Override(name string, keys []string) error {
	if len(keys) == 0 {
		return fmt.Errorf("keys.%s: no keys given", name)
	}
	keys = append([]string(nil), keys...)
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

// check returns an error naming the first key that means two actions on
// screen, or that starts a sequence of another action there.
func (k *KeyMap) check(screen int) error {
	owner := map[string]string{}
	var names []string
	for _, g := range k.bindings() {
		for _, nk := range g.keys {
			if nk.screen&screen == 0 {
				continue
			}
			for _, s := range nk.b.Keys() {
				if prev, ok := owner[s]; ok && prev != nk.name {
					return fmt.Errorf("key %q means both %s and %s on the %s screen", keyName(s), prev, nk.name, screenName(screen))
				}
				owner[s] = nk.name
				names = append(names, s)
			}
		}
	}
	for _, s := range names {
		for _, t := range names {
			if isSequence(t) && len(s) < len(t) && strings.HasPrefix(t, s) {
				return fmt.Errorf("key %q (%s) starts the sequence %q (%s) on the %s screen", keyName(s), owner[s], t, owner[t], screenName(screen))
			}
		}
	}
	return nil
}

// Check reports a key that means two things on one screen (see KeyMap).
func (km KeyMaps) Check() error {
	if err := km.List.check(onList); err != nil {
		return fmt.Errorf("key bindings: %w", err)
	}
	if err := km.List.check(onComposer); err != nil {
		return fmt.Errorf("key bindings: %w", err)
	}
	if err := km.Reader.check(onReader); err != nil {
		return fmt.Errorf("key bindings: %w", err)
	}
	return nil
}

func keyName(s string) string {
	if s == " " {
		return "space"
	}
	return s
}

// isSequence reports whether a binding's key is several printable
// letters typed in turn ("za"), not one key ("x", "ctrl+x", "pgdown").
func isSequence(s string) bool {
	r := []rune(s)
	if len(r) < 2 {
		return false
	}
	for _, c := range r {
		if c < 'a' || c > 'z' {
			if c < 'A' || c > 'Z' {
				return false
			}
		}
	}
	return !isNamedKey(s)
}

// isNamedKey reports the key names made of letters only that are one
// key, not a sequence.
func isNamedKey(s string) bool {
	switch s {
	case "enter", "esc", "tab", "up", "down", "left", "right", "home", "end", "pgup", "pgdown",
		"backspace", "delete", "insert", "space":
		return true
	}
	return false
}

// sequenceStarts reports whether s (letters typed so far) begins a
// sequence of the actions on screen, and whether it is one entirely.
func (k *KeyMap) sequenceStarts(s string, screen int) (prefix, whole bool) {
	for _, g := range k.bindings() {
		for _, nk := range g.keys {
			if nk.screen&screen == 0 {
				continue
			}
			for _, t := range nk.b.Keys() {
				if !isSequence(t) {
					continue
				}
				if t == s {
					whole = true
				} else if strings.HasPrefix(t, s) {
					prefix = true
				}
			}
		}
	}
	return prefix, whole
}
