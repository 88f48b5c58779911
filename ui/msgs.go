package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// The messages that flow through Update. Results of requests carry the
// id of the request (and the account), so a result that was overtaken by
// a newer request is dropped.

// errMsg is the one error message: shown in the status line, expiring.
type errMsg struct{ err error }

// infoMsg is a short note for the status line, expiring after ttl
// (infoTTL when zero).
type infoMsg struct {
	text string
	ttl  time.Duration
}

// statusExpireMsg clears the status note with sequence seq.
type statusExpireMsg struct{ seq int }

// mailboxesMsg carries the folders of an account.
type mailboxesMsg struct {
	account string
	boxes   []accounts.Mailbox
	err     error
}

// pageMsg carries one page of the list, starting at row start.
type pageMsg struct {
	id    int
	start int
	msgs  []accounts.Message
	err   error
}

// countMsg carries the number of rows of the list's source and, when
// the list keeps a message selected across sources, its row (else -1).
type countMsg struct {
	id  int
	n   int
	row int
	err error
}

// renderedMsg carries a decoded message for the reader.
type renderedMsg struct {
	id  int
	msg accounts.Message
	r   *accounts.Rendered
	err error
	// again is a reload of the message showing: the view stays where
	// it was scrolled to.
	again bool
}

// actionDoneMsg reports a change to messages (flags, move, delete...).
type actionDoneMsg struct {
	account string
	what    string // "deleted 3 messages"
	err     error
	// undo is the state before the action, when it can be undone.
	undo *accounts.Snapshot
}

// draftMsg carries a draft to open in the composer.
type draftMsg struct {
	account string
	draft   *compose.Draft
	// answers is the message a reply answers (0 for others).
	answers int64
	// draftID is the saved draft being edited (0 for a new message): the
	// composer's save replaces it and its send removes it.
	draftID int64
	err     error
}

// sentMsg reports a draft queued in the Outbox (or saved as a draft).
type sentMsg struct {
	account string
	draft   bool // saved as a draft, not queued
	err     error
}

// completionMsg carries address completions for the composer.
type completionMsg struct {
	id    int
	addrs []accounts.Address
}

// editorDoneMsg reports the end of $EDITOR on the body file.
type editorDoneMsg struct {
	path string
	err  error
}

// syncStartedMsg carries the stream of one account's sync.
type syncStartedMsg struct {
	account string
	ch      <-chan tea.Msg
}

// syncEventMsg is one progress event of a sync.
type syncEventMsg struct {
	account string
	ev      accounts.SyncEvent
	ch      <-chan tea.Msg // the stream, to wait for the next one
}

// syncDoneMsg ends a sync stream.
type syncDoneMsg struct {
	account string
	sum     SyncSummary
	err     error
	offline bool
}

// syncTickMsg starts the periodic background sync.
type syncTickMsg struct{ at time.Time }

// feedMsg carries committed store changes of an account.
type feedMsg struct {
	account string
	changes []accounts.Change
	closed  bool
}

// searchTickMsg fires a debounced search-as-you-type.
type searchTickMsg struct{ id int }

// openMsg asks the root to open message index i of the list.
type openMsg struct{}

// folderMsg asks the root to show folder of account.
type folderMsg struct {
	account string
	folder  string
}

// attachmentDoneMsg reports an attachment saved (and maybe opened).
type attachmentDoneMsg struct {
	path   string
	opened bool
	err    error
}
