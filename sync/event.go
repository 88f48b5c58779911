package sync

import "fmt"

// Phase names what a sync step is doing.
type Phase string

// Phases of a sync, in the order they usually happen.
const (
	PhaseConnect  Phase = "connect"
	PhaseReplay   Phase = "replay"   // pushing local changes (the journal)
	PhaseHeaders  Phase = "headers"  // new messages, headers first
	PhaseFlags    Phase = "flags"    // flag changes from the server
	PhaseExpunge  Phase = "expunge"  // messages deleted on the server
	PhaseBodies   Phase = "bodies"   // bodies fetched in the background
	PhaseDownload Phase = "download" // POP3 download
	PhaseDelete   Phase = "delete"   // POP3 deletions on the server
	PhaseSend     Phase = "send"     // outbox flush
	PhaseIdle     Phase = "idle"     // waiting for news (IMAP IDLE)
	PhaseDone     Phase = "done"
)

// Event is one progress report. Done and Total count messages (Total 0
// when unknown); Bytes counts bytes moved so far in this phase. Err is
// set on a failure of this mailbox or phase; the sync may go on with the
// next one.
type Event struct {
	Account string
	Mailbox string
	Phase   Phase
	Done    int
	Total   int
	Bytes   int64
	Err     error
	// Note is a short human remark, e.g. "UIDVALIDITY changed: re-synced".
	Note string
}

// String renders the event as one line for plain (non-terminal) output.
func (e Event) String() string {
	s := fmt.Sprintf("%s %s: %s", e.Account, e.Mailbox, e.Phase)
	if e.Total > 0 {
		s += fmt.Sprintf(" %d/%d", e.Done, e.Total)
	} else if e.Done > 0 {
		s += fmt.Sprintf(" %d", e.Done)
	}
	if e.Note != "" {
		s += " (" + e.Note + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Reporter receives events. It must not block for long; a nil Reporter
// is allowed wherever one is taken and drops events.
type Reporter func(Event)

// Report calls r with e when r is not nil.
func (r Reporter) Report(e Event) {
	if r != nil {
		r(e)
	}
}
