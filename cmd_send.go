package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/accounts/compose"
)

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runSend(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("send", "send ACCOUNT --to ADDR [--cc ADDR] [--bcc ADDR] [--subject S] [--attach FILE]... [--reply-to-id ID [--all]] < body   |   send ACCOUNT --raw < message")
	var to, cc, bcc, attach listFlag
	fs.Var(&to, "to", "recipient `ADDRESSES` (repeatable, or comma-separated)")
	fs.Var(&cc, "cc", "Cc `ADDRESSES`")
	fs.Var(&bcc, "bcc", "Bcc `ADDRESSES` (not shown to the others)")
	fs.Var(&attach, "attach", "attach `FILE` (repeatable)")
	subject := fs.String("subject", "", "subject")
	raw := fs.Bool("raw", false, "stdin is a complete RFC 5322 message (envelope from its From, To, Cc, Bcc)")
	replyID := fs.Int64("reply-to-id", 0, "reply to this message `ID` (quotes it, sets In-Reply-To/References)")
	all := fs.Bool("all", false, "with --reply-to-id, reply to all")
	queueOnly := fs.Bool("queue", false, "only put it in the Outbox; the next sync sends it")
	name, rest, err := accountArgs(fs, args, "send")
	if err != nil {
		return err
	}
	if err := noArgs("send", rest); err != nil {
		return err
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
	if *raw {
		if len(to)+len(cc)+len(bcc)+len(attach) > 0 || *subject != "" {
			return usageError{"send --raw: the message brings its own headers; --to, --subject etc. are not allowed"}
		}
		uid, err = a.QueueRaw(ctx, bytes.NewBuffer(body))
	} else {
		d := a.Compose()
		if *replyID != 0 {
			if d, err = a.Reply(ctx, *replyID, *all); err != nil {
				return notFound(err)
			}
			d.Body = string(body) + "\n" + d.Body
		} else {
			d.Body = string(body) + d.Body
		}
		for _, f := range []struct {
			dst *[]compose.Address
			src listFlag
		}{{&d.To, to}, {&d.Cc, cc}, {&d.Bcc, bcc}} {
			for _, s := range f.src {
				list, err := compose.ParseAddressList(s)
				if err != nil {
					return usageError{"send: " + err.Error()}
				}
				*f.dst = append(*f.dst, list...)
			}
		}
		if len(d.To)+len(d.Cc)+len(d.Bcc) == 0 {
			return usageError{"send: no recipients (--to, --cc or --bcc)"}
		}
		if *subject != "" {
			d.Subject = *subject
		}
		for _, p := range attach {
			d.Attachments = append(d.Attachments, compose.Attachment{Name: filepath.Base(p), Path: p})
		}
		uid, err = a.Queue(ctx, d)
	}
	if err != nil {
		return err
	}
	if *queueOnly {
		fmt.Fprintf(e.stderr, "queued in the Outbox (uid %d); the next sync sends it\n", uid)
		return nil
	}
	res, err := a.FlushOutbox(ctx, false, nil)
	if err != nil {
		if accounts.Temporary(err) {
			fmt.Fprintf(e.stderr, "queued in the Outbox: the server is not reachable now (%v); the next sync sends it\n", err)
			return nil
		}
		return err
	}
	if len(res.Failed) > 0 {
		f := res.Failed[0]
		return fmt.Errorf("send: the server refused the message: %v (it stays in the Outbox; letterbox outbox %s --retry sends it again)", f.Err, name)
	}
	if *replyID != 0 {
		if err := a.MarkAnswered(ctx, *replyID); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "sent (%d message(s) left the Outbox)\n", len(res.Sent))
	return nil
}

func runOutbox(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("outbox", "outbox ACCOUNT [--flush] [--retry] [--json]")
	flush := fs.Bool("flush", false, "send what waits now")
	retry := fs.Bool("retry", false, "with --flush (implied), also send again messages the server refused")
	asJSON := fs.Bool("json", false, "print JSON")
	name, rest, err := accountArgs(fs, args, "outbox")
	if err != nil {
		return err
	}
	if err := noArgs("outbox", rest); err != nil {
		return err
	}
	a, err := e.openAccount(ctx, name)
	if err != nil {
		return err
	}
	defer a.Close()
	if *flush || *retry {
		res, err := a.FlushOutbox(ctx, *retry, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "%d sent, %d failed, %d left\n", len(res.Sent), len(res.Failed), res.Remaining)
	}
	q, err := a.Outbox(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if q == nil {
			return writeJSON(e.stdout, []any{})
		}
		return writeJSON(e.stdout, q)
	}
	if len(q) == 0 {
		fmt.Fprintln(e.stdout, "the Outbox is empty")
	}
	for _, m := range q {
		state := "waiting"
		if m.Failed {
			state = "REFUSED"
		}
		to := ""
		if len(m.To) > 0 {
			to = m.To[0].Addr
		}
		fmt.Fprintf(e.stdout, "%5d  %-8s %-24s %s\n", m.UID, state, clip(to, 24), clip(m.Subject, 40))
		if m.LastError != "" {
			fmt.Fprintf(e.stdout, "       %d attempt(s), last: %s\n", m.Attempts, m.LastError)
		}
	}
	return nil
}
