package ui

import (
	"context"
	"slices"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// screen is what fills the body of the window.
type screen int

const (
	screenMain     screen = iota // sidebar + message list
	screenReader                 // one message
	screenComposer               // writing a message
	screenHelp                   // the key overlay
	screenPicker                 // choosing a folder
	screenWizard                 // setting up the first account
	screenChanges                // the changes the server refused
	screenSignIn                 // an OAuth2 account signing in again (signin.go)
)

// acct is one open account.
type acct struct {
	b            Backend
	feed         Feed
	syncing      bool
	pendingFlush bool // a message was queued while a sync ran
	notify       notifyState
	// failed are the changes the server refused, as last read.
	failed []FailedChange
	// watching: the account's watch runs (watch.go); noWatch: it cannot
	// be watched (POP3); watchBackoff: the last wait before a retry;
	// watchSince: when the watch last started.
	watching, noWatch bool
	watchBackoff      time.Duration
	watchSince        time.Time
}

// Options configure New.
type Options struct {
	// Accounts are the accounts to show; none opens the setup wizard.
	Accounts []Backend
	// Setup runs the wizard's steps; nil disables the wizard.
	Setup Setup
	// SyncInterval is the period of the background sync; 0 turns it off.
	SyncInterval time.Duration
	// SyncOnStart syncs every account when the interface opens.
	SyncOnStart bool
	// Watch watches the IMAP accounts for new mail while the interface
	// is open (watch.go).
	Watch bool
	// Threads opens folders threaded.
	Threads bool
	// Notify is [ui] notify: "auto" (when empty), "dbus", "bell", "off".
	Notify string
	// Desktop shows a desktop notification (nil: there is no session
	// bus); Bell rings the terminal's bell. See notify.go.
	Desktop func(ctx context.Context, summary, body string) error
	Bell    func()
	// NotifyDelay gathers new mail into one notice; notifyDelay when 0.
	NotifyDelay time.Duration
	// TempDir is a private directory for the copies handed to other
	// programs (an HTML part for the browser, an attachment to open);
	// the caller removes it (Run does). Empty: the system's, and the
	// copies stay behind.
	TempDir string
	// FeedCoalesce is how long the change feed gathers a burst of
	// commits into one refresh; feedCoalesce when zero, none when
	// negative.
	FeedCoalesce time.Duration
}

// Model is the root model: it owns the children, routes messages to
// them and runs the actions that involve more than one of them.
type Model struct {
	c        *Common
	ctx      context.Context
	opts     Options
	accts    []acct
	cur      int    // current account
	folder   string // current folder
	threaded bool
	// collapsed are the threads (ThreadID) folded in this folder.
	collapsed map[int64]bool
	query     string // the search filter of the list, if any
	screen    screen
	back      screen // where help and the picker return to
	sidebarF  bool   // the sidebar has the focus
	sidebar   sidebarModel
	list      listModel
	reader    readerModel
	composer  composerModel
	prompt    promptModel
	status    statusModel
	help      helpModel
	picker    pickerModel
	changes   changesModel
	wizard    wizardModel
	signin    signInModel
	moveIDs   []int64 // what the picker will move
	// undoLast is the last action U can undo (nil after undoTTL).
	undoLast *undoState
	undoSeq  int
	// seq holds the letters of a key sequence ("z" of "za") typed so
	// far.
	seq      string
	quitting bool
}

// New returns the root model. Feeds of the accounts' stores are opened
// here and closed by Close.
func New(ctx context.Context, c *Common, opts Options) Model {
	if opts.FeedCoalesce == 0 {
		opts.FeedCoalesce = feedCoalesce
	}
	if opts.NotifyDelay <= 0 {
		opts.NotifyDelay = notifyDelay
	}
	if opts.Notify == "" {
		opts.Notify = notifyAuto
	}
	m := Model{c: c, ctx: ctx, opts: opts, folder: accounts.Inbox, threaded: opts.Threads}
	names := make([]string, 0, len(opts.Accounts))
	for _, b := range opts.Accounts {
		m.accts = append(m.accts, acct{b: b, feed: b.Subscribe()})
		names = append(names, b.Name())
	}
	m.sidebar = newSidebar(c, names)
	m.list = newList(c, ctx)
	m.reader = newReader(c)
	m.prompt = newPrompt(c)
	m.status = newStatus(c, names)
	m.help = helpModel{c: c}
	if len(m.accts) == 0 {
		m.screen = screenWizard
		m.wizard = newWizard(c, ctx, opts.Setup)
	}
	return m
}

// Close ends the accounts' change feeds.
func (m Model) Close() {
	for _, a := range m.accts {
		if a.feed != nil {
			a.feed.Close()
		}
	}
}

func (m Model) Init() tea.Cmd {
	if m.screen == screenWizard {
		return m.wizard.Init()
	}
	cmds := []tea.Cmd{syncTick(m.opts.SyncInterval)}
	for _, a := range m.accts {
		cmds = append(cmds, mailboxesCmd(m.ctx, a.b), watchFeed(m.ctx, a.b.Name(), a.feed, m.opts.FeedCoalesce), failedCmd(m.ctx, a.b))
		if m.opts.SyncOnStart {
			cmds = append(cmds, func() tea.Msg { return syncNowMsg{account: a.b.Name()} })
		} else {
			// With a sync on start, the watch starts when that ends.
			cmds = append(cmds, func() tea.Msg { return watchRetryMsg{account: a.b.Name()} })
		}
	}
	first := m.accts[0].b.Name()
	cmds = append(cmds, func() tea.Msg { return folderMsg{account: first, folder: accounts.Inbox} })
	return tea.Batch(cmds...)
}

// syncNowMsg asks for a sync of one account.
type syncNowMsg struct{ account string }

func mailboxesCmd(ctx context.Context, b Backend) tea.Cmd {
	return func() tea.Msg {
		boxes, err := b.Mailboxes(ctx)
		return mailboxesMsg{account: b.Name(), boxes: boxes, err: err}
	}
}

// find returns the index of account name, -1 if none.
func (m Model) find(name string) int {
	for i, a := range m.accts {
		if a.b.Name() == name {
			return i
		}
	}
	return -1
}

func (m Model) backend() Backend {
	if m.cur < len(m.accts) {
		return m.accts[m.cur].b
	}
	return nil
}

func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.Width, m.c.Height = msg.Width, msg.Height
		return m.layout()
	case errMsg, infoMsg, statusExpireMsg:
		m.status, cmd = m.status.Update(msg)
		return m, cmd
	case mailboxesMsg:
		if msg.err != nil {
			return m, func() tea.Msg { return errMsg{msg.err} }
		}
		m.sidebar = m.sidebar.setBoxes(msg.account, msg.boxes)
		m.sidebar = m.sidebar.choose(m.cur, m.folder)
		return m, nil
	case countMsg, pageMsg:
		m.list, cmd = m.list.Update(msg)
		return m, cmd
	case renderedMsg:
		m.reader, cmd = m.reader.Update(msg)
		return m, cmd
	case folderMsg:
		return m.openFolder(msg.account, msg.folder)
	case syncNowMsg, syncTickMsg, syncStartedMsg, syncEventMsg, syncDoneMsg, feedMsg:
		return m.updateSync(msg)
	case watchStartedMsg, watchDoneMsg, watchRetryMsg:
		return m.updateWatch(msg)
	case notifyTickMsg:
		return m.notice(msg)
	case actionDoneMsg, browserDoneMsg, draftMsg, sentMsg, attachmentDoneMsg, pickedMsg, promptDoneMsg, searchTickMsg,
		composeSendMsg, composeDraftMsg, composeCancel, discardMsg, confirmedMsg, deleteCheckedMsg, undoneMsg, undoExpireMsg:
		return m.updateAction(msg)
	case failedMsg, changeDoneMsg, dropChangeMsg:
		return m.updateChanges(msg)
	case completionMsg, editorDoneMsg:
		m.composer, cmd = m.composer.Update(msg, m.ctx, m.backend())
		return m, cmd
	case wizardDoneMsg:
		return m.addAccount(msg)
	case signInPromptMsg, signInDoneMsg:
		return m.updateSignIn(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	case tea.KeyMsg:
		if k, ok := m.escThenKey(msg); ok {
			next, esc := m.key(tea.KeyMsg{Type: tea.KeyEsc})
			if m = next.(Model); m.quitting {
				return m, esc
			}
			next, cmd := m.key(k)
			return next, tea.Batch(esc, cmd)
		}
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			return m.keySeq(msg)
		}
		return m.key(msg)
	}
	// Everything else (cursor blinks, spinners, the wizard's steps) goes
	// to whoever is showing.
	return m.forward(msg)
}

// forward hands a message to the active child and to the status line.
func (m Model) forward(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	var cmd tea.Cmd
	m.status, cmd = m.status.Update(msg)
	cmds = append(cmds, cmd)
	if m.prompt.active() {
		m.prompt, cmd = m.prompt.Update(msg)
		cmds = append(cmds, cmd)
	}
	switch m.screen {
	case screenWizard:
		m.wizard, cmd = m.wizard.Update(msg)
	case screenComposer:
		m.composer, cmd = m.composer.Update(msg, m.ctx, m.backend())
	case screenPicker:
		m.picker, cmd = m.picker.Update(msg)
	case screenSignIn:
		m.signin, cmd = m.signin.Update(msg)
	}
	cmds = append(cmds, cmd)
	return m, tea.Batch(cmds...)
}

// openFolder shows folder of account name in the list.
func (m Model) openFolder(name, folder string) (tea.Model, tea.Cmd) {
	i := m.find(name)
	if i < 0 {
		return m, nil
	}
	m.cur, m.folder, m.query = i, folder, ""
	m.collapsed = map[int64]bool{}
	m.sidebar = m.sidebar.choose(i, folder)
	if m.screen == screenReader {
		m.screen = screenMain
	}
	return m.reloadList()
}

// reloadList loads the list from the current account, folder and query.
func (m Model) reloadList() (tea.Model, tea.Cmd) {
	b := m.backend()
	if b == nil {
		return m, nil
	}
	req := PageRequest{Folder: m.folder, Query: m.query, Threaded: m.threaded && m.query == ""}
	if req.Threaded {
		for t := range m.collapsed {
			req.Collapsed = append(req.Collapsed, t)
		}
		slices.Sort(req.Collapsed)
	}
	mb, _ := m.sidebar.box(m.cur, m.folder)
	showTo := mb.SpecialUse == accounts.SpecialSent || mb.SpecialUse == accounts.SpecialDrafts || m.folder == outboxName
	// The same folder in another order, or back from a search: the
	// selected message stays selected.
	var keep int64
	if sel, ok := m.list.selected(); ok && m.list.b == b && m.list.req.Folder == req.Folder && m.list.err == nil {
		keep = sel.ID
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.load(b, req, showTo, keep)
	return m, cmd
}

// layout gives every child its size.
func (m Model) layout() (tea.Model, tea.Cmd) {
	w, h := m.c.Width, m.c.Height
	bodyH := max(1, h-2)
	sw := sidebarWidth(w)
	m.sidebar.width, m.sidebar.height = sw, bodyH
	m.sidebar.scrollToCursor()
	var cmd tea.Cmd
	m.list, cmd = m.list.setSize(w-sw, bodyH)
	m.reader = m.reader.setSize(w, bodyH)
	m.composer = m.composer.setSize(w, bodyH)
	m.help.width, m.help.height = w, bodyH
	m.picker.width, m.picker.height = w, bodyH
	m.changes.width, m.changes.height = w, bodyH
	m.prompt.width = w
	m.prompt.input.Width = max(10, w-12)
	m.status.width = w
	m.wizard = m.wizard.setSize(w, h)
	m.signin = m.signin.setWidth(w)
	return m, cmd
}

// mouse routes wheel and clicks by where they happen: the wheel scrolls
// what is under it (list, sidebar, reader, help); a left click selects a
// message (a second click on it opens it) or opens a folder or account.
// Drags and releases do nothing. Run turns the mouse off when [ui]
// mouse is false.
func (m Model) mouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	if m.prompt.active() {
		return m, nil
	}
	y := msg.Y - 1 // below the header line
	wheel := msg.Button == tea.MouseButtonWheelUp || msg.Button == tea.MouseButtonWheelDown
	leftClick := msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft
	if !wheel && !leftClick {
		return m, nil
	}
	switch m.screen {
	case screenReader:
		m.reader, cmd = m.reader.Update(msg)
		return m, cmd
	case screenHelp:
		m.help, cmd = m.help.Update(msg)
		return m, cmd
	case screenMain:
	default:
		return m, nil
	}
	if y < 0 || y >= m.list.height {
		return m, nil
	}
	if msg.X < m.sidebar.width {
		msg.Y = y
		m.sidebar, cmd = m.sidebar.Update(msg)
		return m, cmd
	}
	if leftClick {
		m.sidebarF, m.sidebar.focused = false, false
		if m.list.click(y) {
			return m.open()
		}
		m.list, cmd = m.list.ensure()
		return m, cmd
	}
	m.list, cmd = m.list.Update(msg)
	return m, cmd
}

// keyMap returns the key map of the screen showing and its screen bit.
func (m Model) keyMap() (KeyMap, int) {
	if m.screen == screenReader {
		return m.c.ReaderKeys, onReader
	}
	return m.c.Keys, onList
}

// escThenKey tells whether a key that came with Alt is an Esc typed just
// before it, and returns the key without Alt. A terminal reports Esc
// and a key in one read as the key with Alt, and tmux sends an Esc
// followed by a key within its escape-time (500 ms by default) as Meta.
// Where nothing binds the Alt key (no default binds one), it is the Esc
// and then the key; the text fields keep their Alt word motions (alt+b,
// alt+f, alt+d, alt+backspace), and the composer and the wizard all
// their Alt keys.
func (m Model) escThenKey(msg tea.KeyMsg) (tea.KeyMsg, bool) {
	if !msg.Alt || msg.Paste {
		return msg, false
	}
	switch {
	case m.screen == screenComposer || m.screen == screenWizard:
		return msg, false
	case m.prompt.active():
		if textAltKey(m.prompt.input.KeyMap, msg) {
			return msg, false
		}
	case m.screen == screenPicker:
		if textAltKey(m.picker.input.KeyMap, msg) {
			return msg, false
		}
	default:
		if km, _ := m.keyMap(); km.binds(msg) {
			return msg, false
		}
	}
	msg.Alt = false
	return msg, true
}

// textAltKey reports whether a text field acts on msg.
func textAltKey(k textinput.KeyMap, msg tea.KeyMsg) bool {
	return key.Matches(msg, k.CharacterForward, k.CharacterBackward, k.WordForward, k.WordBackward,
		k.DeleteWordBackward, k.DeleteWordForward, k.DeleteAfterCursor, k.DeleteBeforeCursor,
		k.DeleteCharacterBackward, k.DeleteCharacterForward, k.LineStart, k.LineEnd, k.Paste,
		k.AcceptSuggestion, k.NextSuggestion, k.PrevSuggestion)
}

// sequence gathers the letters of key sequences ("za"): it returns the
// key to act on (a whole sequence as one KeyMsg of its letters), or
// false while a sequence is incomplete. A letter that continues no
// sequence drops the ones before it and acts alone.
func (m Model) sequence(msg tea.KeyMsg) (Model, tea.KeyMsg, bool) {
	if m.screen != screenMain && m.screen != screenReader || m.sidebarF {
		m.seq = ""
		return m, msg, true
	}
	if msg.Type != tea.KeyRunes || len(msg.Runes) != 1 || msg.Alt {
		m.seq = ""
		return m, msg, true
	}
	km, screen := m.keyMap()
	typed := m.seq + string(msg.Runes)
	prefix, whole := km.sequenceStarts(typed, screen)
	switch {
	case whole:
		m.seq = ""
		return m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(typed)}, true
	case prefix:
		m.seq = typed
		return m, msg, false
	}
	if m.seq != "" {
		// "zj": z led nowhere; j acts (or starts a sequence itself).
		m.seq = ""
		return m.sequence(msg)
	}
	return m, msg, true
}

// key handles a key press: the prompt, then the screen's keys.
func (m Model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	if m.prompt.active() {
		m.seq = ""
		m.prompt, cmd = m.prompt.Update(msg)
		if m.prompt.kind == promptFind {
			// The search in the message follows the typing.
			m.reader = m.reader.setFind(m.prompt.input.Value())
		}
		return m, cmd
	}
	var ok bool
	if m, msg, ok = m.sequence(msg); !ok {
		return m, nil
	}
	k, _ := m.keyMap()
	switch m.screen {
	case screenWizard:
		m.wizard, cmd = m.wizard.Update(msg)
		return m, cmd
	case screenComposer:
		if key.Matches(msg, k.Attach) {
			m.prompt, cmd = m.prompt.open(promptAttach, "attach file: ", "")
			return m, cmd
		}
		m.composer, cmd = m.composer.Update(msg, m.ctx, m.backend())
		return m, cmd
	case screenPicker:
		m.picker, cmd = m.picker.Update(msg)
		return m, cmd
	case screenSignIn:
		return m.signInKey(msg)
	case screenChanges:
		if key.Matches(msg, k.Quit) {
			return m.quit()
		}
		return m.changesKey(msg)
	case screenHelp:
		if key.Matches(msg, k.Back, k.Help) {
			m.screen = m.back
			return m, nil
		}
		if key.Matches(msg, k.Quit) {
			return m.quit()
		}
		m.help, cmd = m.help.Update(msg)
		return m, cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.back, m.screen = m.screen, screenHelp
		m.help.offset = 0
		return m, nil
	case key.Matches(msg, k.Sync):
		return m, func() tea.Msg { return syncNowMsg{account: m.backend().Name()} }
	case key.Matches(msg, k.Compose):
		b := m.backend()
		return m, func() tea.Msg { return draftMsg{account: b.Name(), draft: b.Compose()} }
	case key.Matches(msg, k.Changes):
		return m.openChanges()
	case key.Matches(msg, k.SignIn):
		return m.openSignIn()
	}
	if m.screen == screenReader {
		return m.readerKey(msg)
	}
	return m.mainKey(msg)
}

// keySeq handles a KeyRunes message that carries several runes: Bubble
// Tea v1 reports every letter of one terminal read as one message, so
// fast typing, held keys and SSH deliver "jjjj". Each rune acts as its
// own key press, in order (the first may open a prompt that the rest
// are typed into). A bracketed paste is not split.
func (m Model) keySeq(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	cmds := make([]tea.Cmd, 0, len(msg.Runes))
	for _, r := range msg.Runes {
		next, cmd := m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
		m = next.(Model)
		cmds = append(cmds, cmd)
		if m.quitting {
			break
		}
	}
	return m, tea.Batch(cmds...)
}

func (m Model) quit() (tea.Model, tea.Cmd) {
	m.quitting = true
	return m, tea.Quit
}
