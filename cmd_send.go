package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
	"github.com/letterbox-mail/letterbox/store"
)

// letterbox send|outbox.

type sendFlags struct {
	to, cc, bcc, attach []string
	subject             string
	raw, all, queueOnly bool
	replyID             int64
	draftID             int64
	edit                bool
}

func sendCmd(e *env) *cobra.Command {
	var f sendFlags
	c := &cobra.Command{
		Use:   "send ACCOUNT --to ADDRESS [flags] < body",
		Short: "Compose and send a message (through the Outbox)",
		Long: `Compose a message from the flags and the body on stdin, put it in the
Outbox (durable), then submit it. When the server cannot be reached it
stays there and the next sync sends it (exit 0, with a note). A permanent
refusal keeps it in the Outbox with the server's reply (exit 1; outbox
shows it, outbox --retry tries again). When the message stays queued for
any reason, the error says so: do not send it again, or it goes twice.

--draft ID sends a saved draft (its id in the Drafts folder, from list)
and removes it from Drafts. With --edit, the draft opens in $EDITOR
instead (its To, Cc, Bcc and Subject lines, a blank line, the text) and
is saved back as a new version that replaces the old one, here and on
the server; nothing is sent.`,
		Example: `  echo 'See you at 3.' | letterbox send work --to bob@example.org --subject meeting
  letterbox send work --reply-to-id 1234 --all < reply.txt
  letterbox send work --raw < message.eml
  letterbox send work --draft 77 --edit
  letterbox send work --draft 78`,
		Args:              wantArgs(1, "one ACCOUNT"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSend(cmd.Context(), e, args[0], f)
		},
	}
	fs := c.Flags()
	fs.StringArrayVar(&f.to, "to", nil, "recipient `ADDRESSES` (repeatable, or comma-separated)")
	fs.StringArrayVar(&f.cc, "cc", nil, "Cc `ADDRESSES`")
	fs.StringArrayVar(&f.bcc, "bcc", nil, "Bcc `ADDRESSES` (not shown to the others)")
	fs.StringArrayVar(&f.attach, "attach", nil, "attach `FILE` (repeatable)")
	fs.StringVar(&f.subject, "subject", "", "the `SUBJECT`")
	fs.BoolVar(&f.raw, "raw", false, "stdin is a complete RFC 5322 message (envelope from its From, To, Cc, Bcc)")
	fs.Int64Var(&f.replyID, "reply-to-id", 0, "reply to message `ID` (quotes it, sets In-Reply-To and References)")
	fs.BoolVar(&f.all, "all", false, "with --reply-to-id, reply to all")
	fs.BoolVar(&f.queueOnly, "queue", false, "only put it in the Outbox; the next sync sends it")
	fs.Int64Var(&f.draftID, "draft", 0, "send the saved draft `ID` (from the Drafts folder)")
	fs.BoolVar(&f.edit, "edit", false, "with --draft, edit the draft in $EDITOR and save it back instead of sending")
	return c
}

func runSend(ctx context.Context, e *env, name string, f sendFlags) error {
	if f.draftID != 0 || f.edit {
		return runSendDraft(ctx, e, name, f)
	}
	if f.raw && (len(f.to)+len(f.cc)+len(f.bcc)+len(f.attach) > 0 || f.subject != "" || f.replyID != 0) {
		return usagef("send --raw: the message brings its own headers; --to, --subject, --attach, --reply-to-id are not allowed")
	}
	if f.all && f.replyID == 0 {
		return usagef("send: --all goes with --reply-to-id")
	}
	if f.replyID < 0 {
		return usagef("send: bad --reply-to-id %d", f.replyID)
	}
	var recipients [3][]compose.Address
	for i, list := range [][]string{f.to, f.cc, f.bcc} {
		for _, s := range list {
			addrs, err := compose.ParseAddressList(s)
			if err != nil {
				return usagef("send: %w", err)
			}
			recipients[i] = append(recipients[i], addrs...)
		}
	}
	for _, p := range f.attach {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return notFoundError{fmt.Errorf("send: --attach %s: no such file", p)}
		} else if err != nil {
			return fmt.Errorf("send: --attach: %w", err)
		}
	}
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	body, err := io.ReadAll(io.LimitReader(e.stdin, 64<<20))
	if err != nil {
		return fmt.Errorf("send: read stdin: %w", err)
	}
	var uid uint32
	if f.raw {
		uid, err = a.QueueRaw(ctx, bytes.NewBuffer(body))
	} else {
		d := a.Compose()
		if f.replyID != 0 {
			if d, err = a.Reply(ctx, f.replyID, f.all); err != nil {
				return err
			}
			d.Body = string(body) + "\n" + d.Body
		} else {
			d.Body = string(body) + d.Body
		}
		d.To, d.Cc, d.Bcc = append(d.To, recipients[0]...), append(d.Cc, recipients[1]...), append(d.Bcc, recipients[2]...)
		if len(d.To)+len(d.Cc)+len(d.Bcc) == 0 {
			return usagef("send: no recipients (--to, --cc or --bcc)")
		}
		if f.subject != "" {
			d.Subject = f.subject
		}
		for _, p := range f.attach {
			d.Attachments = append(d.Attachments, compose.Attachment{Name: filepath.Base(p), Path: p})
		}
		uid, err = a.Queue(ctx, d)
	}
	if err != nil {
		return err
	}
	if err := flushAfterQueue(ctx, e, a, uid, f.queueOnly); err != nil {
		return err
	}
	if f.replyID != 0 && !f.queueOnly {
		if err := a.MarkAnswered(ctx, f.replyID); err != nil {
			return err
		}
	}
	return nil
}

// flushAfterQueue sends what was just queued (uid), unless queueOnly,
// and says where the message is when it stays queued.
func flushAfterQueue(ctx context.Context, e *env, a *accounts.Account, uid uint32, queueOnly bool) error {
	name := a.Config.Name
	if queueOnly {
		fmt.Fprintf(e.stderr, "queued in the Outbox (uid %d); the next sync sends it\n", uid)
		return nil
	}
	res, err := a.FlushOutbox(ctx, false, nil)
	if err != nil {
		if accounts.Temporary(err) {
			fmt.Fprintf(e.stderr, "queued in the Outbox: the server is not reachable now (%v); the next sync sends it\n", err)
			return nil
		}
		return errors.New(outboxTrouble(err, a.Config))
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("send: the server refused the message: %v (it stays in the Outbox; letterbox outbox %s --retry sends it again)", res.Failed[0].Err, name)
	}
	fmt.Fprintf(e.stderr, "sent (%d message(s) left the Outbox)\n", len(res.Sent))
	return nil
}

// outboxTrouble says why a flush of account acct stopped and how the
// queued mail will go: a refused login names what fixes the password.
func outboxTrouble(err error, acct accounts.AccountConfig) string {
	name := acct.Name
	switch {
	case acct.IsOAuth2() && (errors.Is(err, accounts.ErrSignInExpired) || errors.Is(err, accounts.ErrNotSignedIn)):
		// No server saw a login: the identity provider refused the
		// refresh, and the error says so and what to run.
		return fmt.Sprintf("queued in the Outbox: %s; then run `letterbox outbox %s --flush`",
			strings.TrimPrefix(err.Error(), name+": "), name)
	case errors.Is(err, accounts.ErrAuth):
		fix := fmt.Sprintf("fix the password with `letterbox account password %s`", name)
		if acct.IsOAuth2() {
			fix = fmt.Sprintf("sign in again with `letterbox account auth %s`", name)
			if acct.OAuth2TokenCmd != "" {
				fix = "fix the token that oauth2_token_cmd prints (config.toml)"
			}
		}
		if acct.PasswordCmd != "" {
			fix = "fix the password that password_cmd prints (config.toml)"
		}
		return fmt.Sprintf("queued in the Outbox: the SMTP server refused the login (%s); %s and run `letterbox outbox %s --flush`",
			accounts.ServerReply(err), fix, name)
	case errors.Is(err, accounts.ErrQueued):
		return fmt.Sprintf("queued in the Outbox: %s; `letterbox outbox %s --flush` (or the next sync) sends it once the cause is fixed", strings.TrimPrefix(err.Error(), name+": "), name)
	}
	return err.Error()
}

// runSendDraft sends a saved draft, or edits it in $EDITOR (--edit).
func runSendDraft(ctx context.Context, e *env, name string, f sendFlags) error {
	switch {
	case f.draftID <= 0:
		return usagef("send: --edit goes with --draft ID")
	case f.raw || len(f.to)+len(f.cc)+len(f.bcc)+len(f.attach) > 0 || f.subject != "" || f.replyID != 0:
		return usagef("send --draft: the draft brings its own headers; --to, --subject, --attach, --raw, --reply-to-id are not allowed")
	case f.edit && f.queueOnly:
		return usagef("send --draft --edit saves the draft; --queue is not allowed")
	}
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	if !f.edit {
		uid, err := a.SendDraft(ctx, f.draftID)
		if errors.Is(err, accounts.ErrNoRecipients) {
			return usagef("send --draft %d: the draft has no recipients: add them with --edit", f.draftID)
		}
		if err != nil {
			return err
		}
		return flushAfterQueue(ctx, e, a, uid, f.queueOnly)
	}
	d, err := a.OpenDraft(ctx, f.draftID)
	if err != nil {
		return err
	}
	if err := editDraft(e, d); err != nil {
		return err
	}
	id, err := a.ReplaceDraft(ctx, f.draftID, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d\n", id)
	fmt.Fprintf(e.stderr, "draft saved as %d (letterbox send %s --draft %d sends it)\n", id, name, id)
	return nil
}

func outboxCmd(e *env) *cobra.Command {
	var flush, retry, asJSON bool
	c := &cobra.Command{
		Use:   "outbox ACCOUNT",
		Short: "Show the Outbox, or send what waits in it",
		Long: `Show the messages waiting in the Outbox, with the server's last reply
for those it refused. --flush sends what waits; --retry also sends again
what the server refused. Exit 1 when something could not be sent.`,
		Args:              wantArgs(1, "one ACCOUNT"),
		ValidArgsFunction: e.firstArgAccount,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, err := e.openAccount(ctx, args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			var flushErr error
			if flush || retry {
				res, err := a.FlushOutbox(ctx, retry, nil)
				if err != nil {
					return errors.New(outboxTrouble(err, a.Config))
				}
				fmt.Fprintf(e.stderr, "%d sent, %d failed, %d left\n", len(res.Sent), len(res.Failed), res.Remaining)
				if len(res.Failed) > 0 {
					flushErr = fmt.Errorf("outbox: %d message(s) not sent: %v", len(res.Failed), res.Failed[0].Err)
				}
			}
			q, err := a.Outbox(ctx)
			if err != nil {
				return err
			}
			for _, m := range q {
				state := "waiting"
				switch {
				case m.Failed:
					state = "refused"
				case m.Sent:
					state = "sent"
				}
				if asJSON {
					j := outboxJSON{UID: m.UID, MessageID: m.MessageID, Subject: m.Subject, Date: timeJSON(m.Date),
						To: store.FormatAddresses(m.To), State: state, Attempts: m.Attempts, LastAttempt: timeJSON(m.LastAttempt),
						LastError: m.LastError, Code: m.Code, EnhancedCode: m.Enhanced}
					if err := writeJSONLine(e.stdout, j); err != nil {
						return err
					}
					continue
				}
				to := ""
				if len(m.To) > 0 {
					to = m.To[0].Addr
				}
				if state == "refused" {
					state = "REFUSED"
				}
				fmt.Fprintf(e.stdout, "%5d  %-8s %-24s %s\n", m.UID, state, clip(to, 24), clip(m.Subject, 40))
				if m.LastError != "" {
					fmt.Fprintf(e.stdout, "       %d attempt(s), last: %s\n", m.Attempts, m.LastError)
				}
			}
			if len(q) == 0 && !asJSON {
				fmt.Fprintln(e.stdout, "the Outbox is empty")
			}
			return flushErr
		},
	}
	c.Flags().BoolVar(&flush, "flush", false, "send what waits now")
	c.Flags().BoolVar(&retry, "retry", false, "like --flush, and also send again what the server refused")
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object per message")
	return c
}
