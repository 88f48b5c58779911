package submit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StateFile is the name, in the store's root directory, of the file that
// keeps the delivery notes of queued messages.
const StateFile = "outbox-state.json"

// note is what the outbox remembers about one queued message between
// flushes.
type note struct {
	Attempts    int       `json:"attempts"`
	LastAttempt time.Time `json:"last_attempt"`
	// LastError, Code and Enhanced describe the last failure.
	LastError string `json:"last_error,omitempty"`
	Code      int    `json:"code,omitempty"`
	Enhanced  string `json:"enhanced,omitempty"`
	// Permanent marks a failure that is not retried until asked.
	Permanent bool `json:"permanent,omitempty"`
	// Sent records that the server accepted the message, for when the
	// $LetterboxSent keyword could not be stored.
	Sent bool `json:"sent,omitempty"`
}

// state is the content of StateFile: notes keyed by noteKey.
type state struct {
	path  string
	Notes map[string]*note `json:"messages"`
}

// noteKey names a message of a mailbox for its whole life: UIDs are not
// reused within one UIDVALIDITY.
func noteKey(mailbox string, uidValidity, uid uint32) string {
	return fmt.Sprintf("%s/%d/%d", mailbox, uidValidity, uid)
}

// loadState reads the state file of the store at root; a missing file is
// an empty state. A file that does not parse is an error rather than
// forgotten, because it may hold the only record that a message was sent.
func loadState(root string) (*state, error) {
	st := &state{path: filepath.Join(root, StateFile), Notes: map[string]*note{}}
	b, err := os.ReadFile(st.path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outbox state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("outbox state %s is damaged (move it away to continue; messages it marks sent may then be sent again): %w", st.path, err)
	}
	if st.Notes == nil {
		st.Notes = map[string]*note{}
	}
	return st, nil
}

// get returns the note for key, creating it.
func (st *state) get(key string) *note {
	n := st.Notes[key]
	if n == nil {
		n = &note{}
		st.Notes[key] = n
	}
	return n
}

// peek returns the note for key or a zero note, without creating it.
func (st *state) peek(key string) note {
	if n := st.Notes[key]; n != nil {
		return *n
	}
	return note{}
}

// save writes the state atomically and durably: a temporary file, fsync,
// rename over the old one, fsync of the directory.
func (st *state) save() error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("save outbox state: %w", err)
	}
	dir := filepath.Dir(st.path)
	f, err := os.CreateTemp(dir, StateFile+".tmp*")
	if err != nil {
		return fmt.Errorf("save outbox state: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, st.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save outbox state %s: %w", st.path, err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("save outbox state: fsync %s: %w", dir, err)
		}
	}
	return nil
}

// prune drops the notes of mailbox whose keys are not in keep.
func (st *state) prune(mailbox string, keep map[string]bool) bool {
	changed := false
	for k := range st.Notes {
		if keyMailbox(k) == mailbox && !keep[k] {
			delete(st.Notes, k)
			changed = true
		}
	}
	return changed
}

// keyMailbox returns the mailbox part of a noteKey (names may contain
// "/", so it is all but the last two elements).
func keyMailbox(key string) string {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return ""
	}
	j := strings.LastIndexByte(key[:i], '/')
	if j < 0 {
		return ""
	}
	return key[:j]
}
