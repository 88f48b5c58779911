package main

import (
	"fmt"
	"time"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/store"
)

// The --json shapes of every command, documented in docs/cli.md and
// pinned by TestJSONSchemas. One style: snake_case keys, one object per
// line (JSON Lines), times in RFC 3339 UTC, every key present unless
// docs/cli.md says it is optional. Add keys; never rename or remove one.

// jsonMessage is a message in a list: list, search, store ls, store
// search; and the first keys of read.
type jsonMessage struct {
	ID            int64    `json:"id"`
	Mailbox       string   `json:"mailbox"`
	UID           uint32   `json:"uid"`
	Date          string   `json:"date"`
	From          string   `json:"from"`
	To            string   `json:"to"`
	Subject       string   `json:"subject"`
	Flags         []string `json:"flags"`
	Size          int64    `json:"size"`
	MessageID     string   `json:"message_id"`
	ThreadID      int64    `json:"thread_id"`
	HasAttachment bool     `json:"has_attachment"`
}

func toJSON(m store.Message) jsonMessage {
	flags := m.Flags
	if flags == nil {
		flags = []string{}
	}
	return jsonMessage{
		ID: m.ID, Mailbox: m.Mailbox, UID: m.UID, Date: m.Date.UTC().Format(time.RFC3339),
		From: store.FormatAddresses(m.From), To: store.FormatAddresses(m.To), Subject: m.Subject,
		Flags: flags, Size: m.Size, MessageID: m.MessageID, ThreadID: m.ThreadID, HasAttachment: m.HasAttachment,
	}
}

// readJSON is `read --json`: the message, its decoded headers in display
// order, its text and its attachments.
type readJSON struct {
	jsonMessage
	Headers     []headerJSON     `json:"headers"`
	Text        string           `json:"text"`
	FromHTML    bool             `json:"from_html"`
	Partial     bool             `json:"partial"`
	Attachments []attachmentJSON `json:"attachments"`
	Problems    []string         `json:"problems"`
}

type headerJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type attachmentJSON struct {
	Part        string `json:"part"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Inline      bool   `json:"inline"`
}

func toReadJSON(m store.Message, r *store.Rendered) readJSON {
	out := readJSON{jsonMessage: toJSON(m), Headers: []headerJSON{}, Text: r.Text, FromHTML: r.FromHTML, Partial: r.Partial,
		Attachments: []attachmentJSON{}, Problems: []string{}}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, headerJSON{h.Key, h.Value})
	}
	for _, a := range r.Attachments {
		out.Attachments = append(out.Attachments, attachmentJSON{a.Part, a.Filename, a.ContentType, a.Size, a.Inline})
	}
	out.Problems = append(out.Problems, r.Problems...)
	return out
}

// accountJSON is an account: account add, account list (one per line).
type accountJSON struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Mode     string `json:"mode"`
	Incoming string `json:"incoming"`
	SMTP     string `json:"smtp"`
	Login    string `json:"login"`
	// Auth is how it signs in: "password" or "oauth2".
	Auth string `json:"auth"`
}

func describeAccount(a accounts.AccountConfig) accountJSON {
	proto := accounts.IMAP
	if a.Mode == accounts.ModePOP3 {
		proto = accounts.POP3
	}
	in := a.Incoming().WithDefaults(proto)
	smtp := a.SMTP.WithDefaults(accounts.SMTP)
	j := accountJSON{Name: a.Name, Email: a.Email, Mode: string(a.Mode),
		Incoming: fmt.Sprintf("%s:%d (%s)", in.Host, in.Port, in.Security),
		SMTP:     fmt.Sprintf("%s:%d (%s)", smtp.Host, smtp.Port, smtp.Security), Login: a.Username(), Auth: string(accounts.AuthPassword)}
	if a.IsOAuth2() {
		j.Auth = string(accounts.AuthOAuth2)
	}
	return j
}

// accountShowJSON is `account show --json`.
type accountShowJSON struct {
	accountJSON
	Folders []folderJSON `json:"folders"`
	Pending int          `json:"pending_changes"`
	// Failed counts the changes the server refused for good (also in
	// Pending); `letterbox changes` lists them.
	Failed int `json:"failed_changes"`
}

// folderListJSON is one folder of `folder list --json`.
type folderListJSON struct {
	Name       string `json:"name"`
	SpecialUse string `json:"special_use"`
	Subscribed bool   `json:"subscribed"`
	Total      int    `json:"total"`
	Unread     int    `json:"unread"`
}

// changeJSON is one change of `changes --json`.
type changeJSON struct {
	ID          int64  `json:"id"`
	State       string `json:"state"` // pending or failed
	Op          string `json:"op"`
	Description string `json:"description"`
	Created     string `json:"created"`
	Attempts    int    `json:"attempts"`
	LastError   string `json:"last_error"`
}

type folderJSON struct {
	Name       string `json:"name"`
	SpecialUse string `json:"special_use"`
	Total      int    `json:"total"`
	Unread     int    `json:"unread"`
}

// eventJSON is one progress line of `sync --json`.
type eventJSON struct {
	Type    string  `json:"type"` // "event"
	Time    float64 `json:"t"`    // seconds since the command started
	Account string  `json:"account"`
	Mailbox string  `json:"mailbox"`
	Phase   string  `json:"phase"`
	Done    int     `json:"done"`
	Total   int     `json:"total"`
	Bytes   int64   `json:"bytes,omitempty"`
	Note    string  `json:"note,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// syncResultJSON is the result line of `sync --json`, one per account:
// the common keys and the counts of the account's mode, flat.
type syncResultJSON struct {
	Type        string `json:"type"` // "result"
	Account     string `json:"account"`
	Mode        string `json:"mode"`
	OK          bool   `json:"ok"`
	Error       string `json:"error"`
	OutboxError string `json:"outbox_error"`
	Sent        int    `json:"sent"`
	*imapCountsJSON
	*pop3CountsJSON
}

type imapCountsJSON struct {
	Mailboxes   int      `json:"mailboxes"`
	New         int      `json:"new"`
	Adopted     int      `json:"adopted"`
	FlagChanges int      `json:"flag_changes"`
	Expunged    int      `json:"expunged"`
	Bodies      int      `json:"bodies"`
	Pushed      int      `json:"pushed"`
	PushFailed  int      `json:"push_failed"`
	PushDropped int      `json:"push_dropped"`
	Notes       []string `json:"notes"`
}

type pop3CountsJSON struct {
	OnServer   int   `json:"on_server"`
	Downloaded int   `json:"downloaded"`
	Bytes      int64 `json:"bytes"`
	Failed     int   `json:"failed"`
	Skipped    int   `json:"skipped"`
	Deleted    int   `json:"deleted"`
	Vanished   int   `json:"vanished"`
}

func toSyncResultJSON(name string, mode accounts.Mode, res accounts.SyncResult, err error) syncResultJSON {
	j := syncResultJSON{Type: "result", Account: name, Mode: string(mode), OK: err == nil, Sent: res.Sent}
	if err != nil {
		j.Error = err.Error()
	}
	if res.OutboxErr != nil {
		j.OutboxError = res.OutboxErr.Error()
	}
	if mode == accounts.ModePOP3 {
		j.pop3CountsJSON = &pop3CountsJSON{}
		if r := res.POP3; r != nil {
			*j.pop3CountsJSON = pop3CountsJSON{r.OnServer, r.Downloaded, r.Bytes, r.Failed, r.Skipped, r.Deleted, r.Vanished}
		}
		return j
	}
	j.imapCountsJSON = &imapCountsJSON{Notes: []string{}}
	if r := res.IMAP; r != nil {
		*j.imapCountsJSON = imapCountsJSON{r.Mailboxes, r.New, r.Adopted, r.Flags, r.Expunged, r.Bodies,
			r.Replayed, r.Failed, r.Dropped, append([]string{}, r.Notes...)}
	}
	return j
}

// outboxJSON is one message of `outbox --json`.
type outboxJSON struct {
	UID          uint32 `json:"uid"`
	MessageID    string `json:"message_id"`
	Subject      string `json:"subject"`
	Date         string `json:"date"`
	To           string `json:"to"`
	State        string `json:"state"` // waiting, sent (to be filed) or refused
	Attempts     int    `json:"attempts"`
	LastAttempt  string `json:"last_attempt"` // "" before the first
	LastError    string `json:"last_error"`
	Code         int    `json:"code"`          // the server's reply code, 0 if none
	EnhancedCode string `json:"enhanced_code"` // "5.7.1", "" if none
}

// mailboxJSON is one mailbox of `store ls --mailboxes --json`.
type mailboxJSON struct {
	Name        string `json:"name"`
	SpecialUse  string `json:"special_use"`
	Total       int    `json:"total"`
	Unread      int    `json:"unread"`
	UIDValidity uint32 `json:"uidvalidity"`
	UIDNext     uint32 `json:"uidnext"`
}

// checkJSON is `store check --json`.
type checkJSON struct {
	Mailboxes int      `json:"mailboxes"`
	Messages  int      `json:"messages"`
	Clean     bool     `json:"clean"`
	Repaired  bool     `json:"repaired"`
	Indexed   []string `json:"indexed"`
	Dropped   []string `json:"dropped"`
	Problems  []string `json:"problems"`
	// Duplicates are messages stored more than once (reported, never
	// removed by --repair).
	Duplicates []string `json:"duplicates"`
}

func toCheckJSON(r *store.Report) checkJSON {
	return checkJSON{Mailboxes: r.Mailboxes, Messages: r.Messages, Clean: r.Clean(), Repaired: r.Repaired,
		Indexed: append([]string{}, r.Indexed...), Dropped: append([]string{}, r.Dropped...),
		Duplicates: append([]string{}, r.Duplicates...),
		Problems:   append([]string{}, r.Problems...)}
}

// timeJSON formats t in RFC 3339 UTC, "" for the zero time.
func timeJSON(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
