package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// composerModel is the built-in editor: To, Cc, Bcc and Subject fields
// with address completion from the store, the attachments (added by
// path), and the body; ^e hands the body to $EDITOR. Sending puts the
// message in the Outbox, so it works offline.
type composerModel struct {
	c       *Common
	account string
	base    *compose.Draft // From, threading headers, Message-ID
	answers int64          // the message a reply answers
	draftID int64          // the saved draft being edited, 0 for none
	fields  [4]textinput.Model
	body    textarea.Model
	attach  []compose.Attachment
	focus   int // 0-3 the fields, 4 the body
	// completion of the address under the cursor
	complID int
	compl   []accounts.Address
	complAt int
	width   int
	height  int
	dirty   bool
}

const (
	fieldTo = iota
	fieldCc
	fieldBcc
	fieldSubject
	fieldBody
)

var fieldLabels = [4]string{"To:", "Cc:", "Bcc:", "Subject:"}

// composeSendMsg and composeDraftMsg ask the root to queue or save.
type (
	composeSendMsg  struct{}
	composeDraftMsg struct{}
	composeCancel   struct{}
)

func newComposer(c *Common, account string, d *compose.Draft, answers int64) composerModel {
	m := composerModel{c: c, account: account, base: d, answers: answers}
	for i := range m.fields {
		in := textinput.New()
		in.Prompt = ""
		m.fields[i] = in
	}
	m.fields[fieldTo].SetValue(joinAddrs(d.To))
	m.fields[fieldCc].SetValue(joinAddrs(d.Cc))
	m.fields[fieldBcc].SetValue(joinAddrs(d.Bcc))
	m.fields[fieldSubject].SetValue(d.Subject)
	m.attach = append(m.attach, d.Attachments...)
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.Prompt = ""
	ta.CharLimit = 0
	ta.MaxHeight = 0
	ta.MaxWidth = 0
	ta.SetValue(d.Body)
	// Replies start above the quote; new mail in the first field.
	ta.SetCursor(0)
	for ta.Line() > 0 {
		ta.CursorUp()
	}
	m.body = ta
	if len(d.To) == 0 {
		m.focus = fieldTo
	} else {
		m.focus = fieldBody
	}
	m.applyFocus()
	return m
}

func joinAddrs(list []compose.Address) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

func (m *composerModel) applyFocus() tea.Cmd {
	for i := range m.fields {
		m.fields[i].Blur()
	}
	m.body.Blur()
	m.compl = nil
	if m.focus == fieldBody {
		return m.body.Focus()
	}
	return m.fields[m.focus].Focus()
}

func (m composerModel) setSize(w, h int) composerModel {
	m.width, m.height = w, h
	if m.base == nil {
		return m // nothing composed yet
	}
	for i := range m.fields {
		m.fields[i].Width = max(10, w-11)
	}
	m.body.SetWidth(max(10, w))
	m.body.SetHeight(max(3, h-9))
	return m
}

// draft builds the draft from the fields.
func (m composerModel) draft() (*compose.Draft, error) {
	d := *m.base
	var err error
	parse := func(i int) []compose.Address {
		v := strings.TrimSpace(m.fields[i].Value())
		if v == "" || err != nil {
			return nil
		}
		var list []compose.Address
		list, err = compose.ParseAddressList(v)
		if err != nil {
			err = fmt.Errorf("%s %w", fieldLabels[i], err)
		}
		return list
	}
	d.To, d.Cc, d.Bcc = parse(fieldTo), parse(fieldCc), parse(fieldBcc)
	if err != nil {
		return nil, err
	}
	d.Subject = m.fields[fieldSubject].Value()
	d.Body = m.body.Value()
	d.Attachments = append([]compose.Attachment(nil), m.attach...)
	return &d, nil
}

// addAttachment adds a file by path (checked to exist).
func (m composerModel) addAttachment(path string) (composerModel, tea.Cmd) {
	path = expandHome(strings.TrimSpace(path))
	if path == "" {
		return m, nil
	}
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		if err == nil {
			err = fmt.Errorf("%s is a directory", path)
		}
		return m, func() tea.Msg { return errMsg{fmt.Errorf("attach: %w", err)} }
	}
	m.attach = append(m.attach, compose.Attachment{Path: path})
	m.dirty = true
	return m, nil
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}

// lastToken is the address being typed: after the last comma.
func lastToken(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

func completeCmd(ctx context.Context, b Backend, prefix string, id int) tea.Cmd {
	return func() tea.Msg {
		addrs, err := b.Addresses(ctx, prefix, 5)
		if err != nil {
			return completionMsg{id: id}
		}
		return completionMsg{id: id, addrs: addrs}
	}
}

// Update handles the composer's keys; b and ctx serve the completion.
func (m composerModel) Update(msg tea.Msg, ctx context.Context, b Backend) (composerModel, tea.Cmd) {
	switch msg := msg.(type) {
	case completionMsg:
		if msg.id == m.complID {
			m.compl, m.complAt = msg.addrs, 0
		}
		return m, nil
	case editorDoneMsg:
		data, err := os.ReadFile(msg.path)
		os.Remove(msg.path)
		if msg.err != nil {
			return m, func() tea.Msg { return errMsg{fmt.Errorf("$EDITOR: %w", msg.err)} }
		}
		if err != nil {
			return m, func() tea.Msg { return errMsg{err} }
		}
		m.body.SetValue(string(data))
		m.dirty = true
		return m, nil
	case tea.KeyMsg:
		k := m.c.Keys
		switch {
		case key.Matches(msg, k.Send):
			return m, func() tea.Msg { return composeSendMsg{} }
		case key.Matches(msg, k.SaveDraft):
			return m, func() tea.Msg { return composeDraftMsg{} }
		case key.Matches(msg, k.Cancel):
			if len(m.compl) > 0 {
				m.compl = nil
				return m, nil
			}
			return m, func() tea.Msg { return composeCancel{} }
		case key.Matches(msg, k.Editor):
			return m, m.editor()
		case m.focus < fieldSubject && len(m.compl) > 0 && (msg.String() == "ctrl+n" || msg.String() == "down"):
			m.complAt = (m.complAt + 1) % len(m.compl)
			return m, nil
		case m.focus < fieldSubject && len(m.compl) > 0 && (msg.String() == "ctrl+p" || msg.String() == "up"):
			m.complAt = (m.complAt + len(m.compl) - 1) % len(m.compl)
			return m, nil
		case key.Matches(msg, k.NextField):
			if m.focus < fieldSubject && len(m.compl) > 0 {
				m.acceptCompletion()
				return m, nil
			}
			m.focus = (m.focus + 1) % 5
			return m, m.applyFocus()
		case key.Matches(msg, k.PrevField):
			m.focus = (m.focus + 4) % 5
			return m, m.applyFocus()
		case m.focus < fieldBody && msg.String() == "enter":
			m.focus++
			return m, m.applyFocus()
		}
		var cmd tea.Cmd
		if m.focus == fieldBody {
			before := m.body.Value()
			m.body, cmd = m.body.Update(msg)
			m.dirty = m.dirty || m.body.Value() != before
			return m, cmd
		}
		before := m.fields[m.focus].Value()
		m.fields[m.focus], cmd = m.fields[m.focus].Update(msg)
		after := m.fields[m.focus].Value()
		if after == before {
			return m, cmd
		}
		m.dirty = true
		if m.focus == fieldSubject || b == nil {
			return m, cmd
		}
		m.complID++
		m.compl = nil
		if tok := lastToken(after); len([]rune(tok)) >= 2 {
			return m, tea.Batch(cmd, completeCmd(ctx, b, tok, m.complID))
		}
		return m, cmd
	default:
		var cmd tea.Cmd
		if m.focus == fieldBody {
			m.body, cmd = m.body.Update(msg)
		} else {
			m.fields[m.focus], cmd = m.fields[m.focus].Update(msg)
		}
		return m, cmd
	}
}

// acceptCompletion replaces the token being typed by the chosen address.
func (m *composerModel) acceptCompletion() {
	v := m.fields[m.focus].Value()
	head := ""
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		head = v[:i+1] + " "
	}
	a := m.compl[m.complAt]
	m.fields[m.focus].SetValue(head + compose.Address{Name: a.Name, Addr: a.Addr}.String() + ", ")
	m.fields[m.focus].CursorEnd()
	m.compl = nil
	m.complID++
}

// editor writes the body to a temporary file and runs $EDITOR (or
// $VISUAL, else vi) on it; editorDoneMsg brings the result back.
func (m composerModel) editor() tea.Cmd {
	f, err := os.CreateTemp("", "letterbox-*.eml.txt")
	if err != nil {
		return func() tea.Msg { return errMsg{fmt.Errorf("$EDITOR: %w", err)} }
	}
	_, err = f.WriteString(m.body.Value())
	f.Close()
	if err != nil {
		return func() tea.Msg { return errMsg{fmt.Errorf("$EDITOR: %w", err)} }
	}
	ed := os.Getenv("VISUAL")
	if ed == "" {
		ed = os.Getenv("EDITOR")
	}
	if ed == "" {
		ed = "vi"
	}
	path := f.Name()
	cmd := exec.Command("sh", "-c", ed+` "$1"`, "editor", path)
	return tea.ExecProcess(cmd, func(err error) tea.Msg { return editorDoneMsg{path: path, err: err} })
}

func (m composerModel) View() string {
	st := m.c.Styles
	var lines []string
	from := m.base.From.String()
	lines = append(lines, st.Label.Render(padRight("From:", 10))+" "+st.Dim.Render(truncate(from, m.width-11)))
	for i, f := range m.fields {
		label := padRight(fieldLabels[i], 10)
		if i == m.focus {
			label = st.Prompt.Render(label)
		} else {
			label = st.Label.Render(label)
		}
		lines = append(lines, label+" "+f.View())
		if i == m.focus && len(m.compl) > 0 {
			for j, a := range m.compl {
				s := padRight("  "+a.String(), min(m.width, 60))
				if j == m.complAt {
					s = st.RowSelected.Render(s)
				} else {
					s = st.Dim.Render(s)
				}
				lines = append(lines, strings.Repeat(" ", 11)+s)
			}
		}
	}
	att := st.Dim.Render("(none: ^a adds a file)")
	if len(m.attach) > 0 {
		names := make([]string, len(m.attach))
		for i, a := range m.attach {
			names[i] = a.Name
			if names[i] == "" {
				names[i] = filepath.Base(a.Path)
			}
		}
		att = truncate(strings.Join(names, ", "), m.width-11)
	}
	lines = append(lines, st.Label.Render(padRight("Attach:", 10))+" "+att)
	lines = append(lines, st.Separator.Render(strings.Repeat("─", m.width)))
	head := strings.Join(lines, "\n")
	hint := st.Dim.Render(truncate(fmt.Sprintf("%s send  %s save draft  %s $EDITOR  %s attach  tab next field  esc cancel",
		m.c.Keys.Send.Help().Key, m.c.Keys.SaveDraft.Help().Key, m.c.Keys.Editor.Help().Key, m.c.Keys.Attach.Help().Key), m.width))
	bodyH := max(1, m.height-len(lines)-1)
	body := fitBlock(m.body.View(), m.width, bodyH)
	return fitBlock(head+"\n"+body+"\n"+hint, m.width, m.height)
}
