package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
)

// confirmedMsg carries a destructive action the user said yes to.
type confirmedMsg struct {
	what string // "delete", "archive", "move", "create+move"
	ids  []int64
	to   string
	// forGood: a delete that removes every message for good (no undo).
	forGood bool
}

// discardMsg throws the composer's message away (after a yes).
type discardMsg struct{}

// act runs a message action on ids (the tagged messages, the selected
// or the open one).
func (m Model) act(msg tea.KeyMsg, ids []int64) (tea.Model, tea.Cmd) {
	k := m.c.Keys
	b := m.backend()
	if len(ids) == 0 || b == nil {
		return m, nil
	}
	ctx := m.ctx
	n := len(ids)
	switch {
	case key.Matches(msg, k.Reply), key.Matches(msg, k.ReplyAll):
		id := m.actionID(ids)
		all := key.Matches(msg, k.ReplyAll)
		return m, func() tea.Msg {
			d, err := b.Reply(ctx, id, all)
			if err == nil {
				d.Body = "\n\n" + d.Body
			}
			return draftMsg{account: b.Name(), draft: d, answers: id, err: err}
		}
	case key.Matches(msg, k.Forward):
		id := m.actionID(ids)
		return m, func() tea.Msg {
			d, err := b.Forward(ctx, id)
			if err == nil {
				d.Body = "\n\n" + d.Body
			}
			return draftMsg{account: b.Name(), draft: d, err: err}
		}
	case key.Matches(msg, k.ToggleRead), key.Matches(msg, k.Flag):
		flag := accounts.FlagSeen
		if key.Matches(msg, k.Flag) {
			flag = accounts.FlagFlagged
		}
		set := !m.hasFlag(ids[0], flag)
		change := func(x *accounts.Message) {
			x.Flags = slices.DeleteFunc(slices.Clone(x.Flags), func(f string) bool { return strings.EqualFold(f, flag) })
			if set {
				x.Flags = append(x.Flags, flag)
			}
		}
		for _, id := range ids {
			m.list.patch(id, change)
			if m.reader.msg.ID == id {
				change(&m.reader.msg)
			}
		}
		m.list.tagged = map[int64]bool{}
		var what string
		switch {
		case flag == accounts.FlagSeen && set:
			what = "marked " + plural(n, "message") + " read"
		case flag == accounts.FlagSeen:
			what = "marked " + plural(n, "message") + " unread"
		case set:
			what = "flagged " + plural(n, "message")
		default:
			what = "unflagged " + plural(n, "message")
		}
		if set {
			return m, flagsCmd(ctx, b, ids, []string{flag}, nil, what)
		}
		return m, flagsCmd(ctx, b, ids, nil, []string{flag}, what)
	case key.Matches(msg, k.Delete):
		// The account says which would go for good; deleteChecked asks.
		return m, deleteCheckCmd(ctx, b, ids)
	case key.Matches(msg, k.Archive):
		if n > 1 {
			m.prompt = m.prompt.confirm(fmt.Sprintf("Archive %s?", plural(n, "message")), confirmedMsg{what: "archive", ids: ids})
			return m, nil
		}
		return m.do(confirmedMsg{what: "archive", ids: ids})
	case key.Matches(msg, k.EditDraft):
		x, ok := m.actionMessage(ids)
		mb, _ := m.sidebar.box(m.cur, x.Mailbox)
		if !ok || !x.HasFlag(accounts.FlagDraft) && mb.SpecialUse != accounts.SpecialDrafts {
			return m, func() tea.Msg { return infoMsg{text: "not a draft: e edits the messages of the Drafts folder"} }
		}
		id := x.ID
		return m, func() tea.Msg {
			d, err := b.OpenDraft(ctx, id)
			return draftMsg{account: b.Name(), draft: d, draftID: id, err: err}
		}
	case key.Matches(msg, k.Move):
		var folders []string
		for _, f := range m.sidebar.folders(m.cur) {
			if f != m.folder && f != outboxName {
				folders = append(folders, f)
			}
		}
		m.moveIDs = ids
		m.picker = newPicker(m.c, fmt.Sprintf("Move %s to…", plural(n, "message")), folders, true)
		m.picker.width, m.picker.height = m.c.Width, max(1, m.c.Height-2)
		m.back, m.screen = m.screen, screenPicker
		return m, nil
	}
	return m, nil
}

// actionMessage is the one message an edit is about: the open one, or
// the selected one.
func (m Model) actionMessage(ids []int64) (accounts.Message, bool) {
	if m.screen == screenReader {
		return m.reader.msg, true
	}
	if sel, ok := m.list.selected(); ok {
		return sel, true
	}
	return accounts.Message{}, false
}

// actionID is the one message a reply or forward is about.
func (m Model) actionID(ids []int64) int64 {
	if m.screen == screenReader {
		return m.reader.msg.ID
	}
	if sel, ok := m.list.selected(); ok {
		return sel.ID
	}
	return ids[0]
}

func (m Model) hasFlag(id int64, flag string) bool {
	if m.screen == screenReader && m.reader.msg.ID == id {
		return m.reader.msg.HasFlag(flag)
	}
	for _, x := range m.list.win {
		if x.ID == id {
			return x.HasFlag(flag)
		}
	}
	return false
}

// do runs a (confirmed) delete, archive or move.
func (m Model) do(c confirmedMsg) (tea.Model, tea.Cmd) {
	b, ctx, ids := m.backend(), m.ctx, c.ids
	m.list.tagged = map[int64]bool{}
	if m.screen == screenReader {
		m.screen = screenMain
	}
	noun := "message"
	if len(ids) > 1 {
		noun = fmt.Sprintf("%d messages", len(ids))
	}
	return m, func() tea.Msg {
		var undo *accounts.Snapshot
		if !c.forGood {
			if snap, err := b.Snapshot(ctx, ids, nil); err == nil {
				undo = &snap
			}
		}
		var err error
		var what string
		switch c.what {
		case "delete":
			err, what = b.Delete(ctx, ids), "deleted "+noun
		case "archive":
			err, what = b.Archive(ctx, ids), "archived "+noun
		case "move":
			err, what = b.Move(ctx, ids, c.to), "moved "+noun+" to "+c.to
		case "create+move":
			// A folder the picker offered to create: made here at once,
			// on the server with the next sync, before the move.
			what = "created " + c.to + " and moved " + noun + " there"
			if err = b.CreateFolder(ctx, c.to); err == nil {
				err = b.Move(ctx, ids, c.to)
			}
		}
		return actionDoneMsg{account: b.Name(), what: what, err: err, undo: undo}
	}
}

// flagsCmd changes flags; with what (a user's action, not the read mark
// of opening a message) it can be undone.
func flagsCmd(ctx context.Context, b Backend, ids []int64, add, remove []string, what string) tea.Cmd {
	return func() tea.Msg {
		var undo *accounts.Snapshot
		if what != "" {
			if snap, err := b.Snapshot(ctx, ids, append(slices.Clone(add), remove...)); err == nil {
				undo = &snap
			}
		}
		err := b.SetFlags(ctx, ids, add, remove)
		return actionDoneMsg{account: b.Name(), what: what, err: err, undo: undo}
	}
}

// updateAction handles the results and requests of actions.
func (m Model) updateAction(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case actionDoneMsg:
		if msg.err != nil {
			return m, tea.Batch(func() tea.Msg { return errMsg{msg.err} }, m.refresh(msg.account))
		}
		cmds := []tea.Cmd{m.refresh(msg.account)}
		if msg.what != "" {
			m.undoLast = nil // U undoes the last action or nothing
		}
		if msg.undo != nil {
			var c tea.Cmd
			m, c = m.remember(msg.account, msg.what, msg.undo)
			what := msg.what + " · " + m.c.Keys.Undo.Help().Key + " undoes"
			cmds = append(cmds, c, func() tea.Msg { return infoMsg{text: what, ttl: undoTTL} })
		} else if msg.what != "" {
			cmds = append(cmds, func() tea.Msg { return infoMsg{text: msg.what} })
		}
		if msg.account == m.backend().Name() {
			next, c := m.list.reload()
			m.list = next
			cmds = append(cmds, c)
		}
		return m, tea.Batch(cmds...)
	case confirmedMsg:
		return m.do(msg)
	case deleteCheckedMsg:
		return m.deleteChecked(msg)
	case undoneMsg:
		return m.undone(msg)
	case undoExpireMsg:
		if m.undoLast != nil && m.undoLast.seq == msg.seq {
			m.undoLast = nil
		}
		return m, nil
	case pickedMsg:
		m.screen = m.back
		if msg.folder == "" {
			return m, nil
		}
		what := "move"
		if msg.create {
			what = "create+move"
		}
		return m.do(confirmedMsg{what: what, ids: m.moveIDs, to: msg.folder})
	case draftMsg:
		if msg.err != nil {
			return m, func() tea.Msg { return errMsg{msg.err} }
		}
		m.composer = newComposer(m.c, msg.account, msg.draft, msg.answers)
		m.composer.draftID = msg.draftID
		m.composer = m.composer.setSize(m.c.Width, max(1, m.c.Height-2))
		m.back, m.screen = m.screen, screenComposer
		return m, m.composer.applyFocus()
	case composeSendMsg, composeDraftMsg:
		_, isDraft := msg.(composeDraftMsg)
		d, err := m.composer.draft()
		if err != nil {
			return m, func() tea.Msg { return errMsg{err} }
		}
		if !isDraft && len(d.To)+len(d.Cc)+len(d.Bcc) == 0 {
			return m, func() tea.Msg { return errMsg{errors.New("no recipient: fill in To")} }
		}
		i := m.find(m.composer.account)
		if i < 0 {
			return m, nil
		}
		b, ctx, answers, draftID := m.accts[i].b, m.ctx, m.composer.answers, m.composer.draftID
		return m, func() tea.Msg {
			if isDraft {
				if draftID != 0 {
					// The edited draft replaces the saved one.
					_, err := b.ReplaceDraft(ctx, draftID, d)
					return sentMsg{account: b.Name(), draft: true, err: err}
				}
				return sentMsg{account: b.Name(), draft: true, err: b.SaveDraft(ctx, d)}
			}
			if err := b.Queue(ctx, d); err != nil {
				return sentMsg{account: b.Name(), err: err}
			}
			if answers != 0 {
				b.MarkAnswered(ctx, answers)
			}
			if draftID != 0 {
				if err := b.DeleteDraft(ctx, draftID); err != nil {
					return sentMsg{account: b.Name(), err: fmt.Errorf("queued in the Outbox, but the draft stays in Drafts: %w", err)}
				}
			}
			return sentMsg{account: b.Name()}
		}
	case sentMsg:
		if msg.err != nil {
			return m, func() tea.Msg { return errMsg{msg.err} }
		}
		m.screen = screenMain
		if m.back == screenReader {
			m.screen = screenReader
		}
		if msg.draft {
			return m, tea.Batch(m.refresh(msg.account), func() tea.Msg { return infoMsg{text: "draft saved"} })
		}
		cmds := []tea.Cmd{m.refresh(msg.account), func() tea.Msg { return infoMsg{text: "queued in the Outbox; sending…"} }}
		if i := m.find(msg.account); i >= 0 {
			if m.accts[i].syncing {
				m.accts[i].pendingFlush = true
			} else {
				m.accts[i].syncing = true
				cmds = append(cmds, startFlush(m.ctx, m.accts[i].b))
			}
		}
		return m, tea.Batch(cmds...)
	case composeCancel:
		if m.composer.dirty {
			m.prompt = m.prompt.confirm("Discard this message?", discardMsg{})
			return m, nil
		}
		m.screen = m.back
		return m, nil
	case discardMsg:
		m.screen = m.back
		return m, func() tea.Msg { return infoMsg{text: "message discarded"} }
	case promptDoneMsg:
		return m.promptDone(msg)
	case searchTickMsg:
		if msg.id != m.prompt.searchID || m.prompt.kind != promptSearch {
			return m, nil
		}
		m.query = strings.TrimSpace(m.prompt.input.Value())
		return m.reloadList()
	case browserDoneMsg:
		if msg.err != nil {
			return m, func() tea.Msg { return errMsg{msg.err} }
		}
		return m, func() tea.Msg { return infoMsg{text: msg.what} }
	case attachmentDoneMsg:
		switch {
		case msg.err != nil:
			return m, func() tea.Msg { return errMsg{msg.err} }
		case msg.opened:
			return m, func() tea.Msg { return infoMsg{text: "opened " + filepath.Base(msg.path)} }
		}
		return m, func() tea.Msg { return infoMsg{text: "saved " + msg.path} }
	}
	return m, cmd
}

// promptDone finishes a prompt.
func (m Model) promptDone(msg promptDoneMsg) (tea.Model, tea.Cmd) {
	switch msg.kind {
	case promptSearch:
		q := strings.TrimSpace(msg.value)
		if !msg.ok {
			q = m.query // esc keeps what was there before the prompt
			if m.list.req.Query == m.query {
				return m, nil
			}
		}
		m.query = q
		return m.reloadList()
	case promptSave:
		if !msg.ok || strings.TrimSpace(msg.value) == "" {
			return m, nil
		}
		a, _ := m.reader.attachment()
		return m, saveAttachmentCmd(m.ctx, m.backend(), m.reader.msg.ID, a, expandHome(strings.TrimSpace(msg.value)))
	case promptFind:
		if !msg.ok {
			m.reader = m.reader.setFind("")
		}
		return m, nil
	case promptLink:
		if !msg.ok {
			return m, nil
		}
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(msg.value), &n); err != nil {
			return m, func() tea.Msg { return errMsg{fmt.Errorf("open link: %q is not a link number", msg.value)} }
		}
		link, ok := m.reader.link(n)
		if !ok {
			return m, func() tea.Msg { return errMsg{fmt.Errorf("open link: no link %d (1–%d)", n, len(m.reader.links))} }
		}
		return m, openLinkCmd(link)
	case promptAttach:
		if !msg.ok {
			return m, nil
		}
		var cmd tea.Cmd
		m.composer, cmd = m.composer.addAttachment(msg.value)
		return m, cmd
	}
	return m, nil
}

// refresh re-reads the folders (counts) of account name.
func (m Model) refresh(name string) tea.Cmd {
	if i := m.find(name); i >= 0 {
		return mailboxesCmd(m.ctx, m.accts[i].b)
	}
	return nil
}

// defaultSavePath is ~/Downloads/NAME when that folder exists, else NAME
// in the working directory.
func defaultSavePath(a accounts.Attachment) string {
	name := safeFileName(a)
	if home, err := os.UserHomeDir(); err == nil {
		if st, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && st.IsDir() {
			return filepath.Join(home, "Downloads", name)
		}
	}
	if wd, err := os.Getwd(); err == nil {
		return filepath.Join(wd, name)
	}
	return name
}

// safeFileName is the attachment's file name without directories.
func safeFileName(a accounts.Attachment) string {
	name := filepath.Base(strings.ReplaceAll(a.Filename, "\\", "/"))
	if name == "" || name == "." || name == "/" || name == ".." {
		name = "attachment-" + strings.ReplaceAll(a.Part, ".", "-")
	}
	return name
}

func saveAttachmentCmd(ctx context.Context, b Backend, id int64, a accounts.Attachment, path string) tea.Cmd {
	return func() tea.Msg {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return attachmentDoneMsg{err: fmt.Errorf("save attachment: %w", err)}
		}
		_, err = b.SaveAttachment(ctx, id, a.Part, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return attachmentDoneMsg{err: fmt.Errorf("save attachment: %w", err)}
		}
		return attachmentDoneMsg{path: path}
	}
}

// openAttachmentCmd saves the attachment to a new directory under tmp
// (the interface's private directory) and hands it to xdg-open, whose output is discarded so it
// never prints over the screen.
func openAttachmentCmd(ctx context.Context, b Backend, id int64, a accounts.Attachment, tmp string) tea.Cmd {
	return func() tea.Msg {
		dir, err := os.MkdirTemp(tmp, "letterbox-open-")
		if err != nil {
			return attachmentDoneMsg{err: fmt.Errorf("open attachment: %w", err)}
		}
		path := filepath.Join(dir, safeFileName(a))
		res := saveAttachmentCmd(ctx, b, id, a, path)().(attachmentDoneMsg)
		if res.err != nil {
			return res
		}
		opener, err := exec.LookPath("xdg-open")
		if err != nil {
			return attachmentDoneMsg{err: fmt.Errorf("open attachment: xdg-open not found; saved as %s", path)}
		}
		cmd := exec.Command(opener, path)
		if err := cmd.Start(); err != nil {
			return attachmentDoneMsg{err: fmt.Errorf("open attachment: %w", err)}
		}
		go cmd.Wait()
		return attachmentDoneMsg{path: path, opened: true}
	}
}
