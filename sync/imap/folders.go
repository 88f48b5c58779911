package imapsync

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/letterbox-mail/letterbox/store"
	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// Folder changes: CREATE, RENAME, DELETE and SUBSCRIBE (RFC 9051 sections
// 6.3.4 to 6.3.8), made locally at once by Local and replayed by Sync in
// journal order with the other changes, so a move into a folder created
// offline finds it on the server. Every replay is idempotent, since a
// crash may repeat it:
//
//   - CREATE of a folder the server has is done;
//   - RENAME whose source is gone and whose target exists is done; with
//     neither there, the target is created (the folder exists locally);
//   - DELETE of a folder the server does not have is done;
//   - SUBSCRIBE and UNSUBSCRIBE set a state, which repeats harmlessly.
//
// A folder a replayed APPEND or MOVE needs and the server lacks (Sent,
// Drafts, a folder another device deleted) is created first, with its
// special use (RFC 6154 CREATE-SPECIAL-USE) when the server offers it;
// the local store keeps the role either way.

// CreateMailbox creates folder name locally, with the special use
// specialUse ("" for none, else store.SpecialSent, ...), and journals its
// creation on the server.
func (l *Local) CreateMailbox(ctx context.Context, name, specialUse string) error {
	mb, err := store.CanonicalName(name)
	if err != nil {
		return fmt.Errorf("create folder %s: %w", name, err)
	}
	return l.journaled(ctx, opCreate, payload{Mailbox: mb, Use: specialUse}, func() error {
		_, err := l.Store.CreateMailbox(ctx, mb, specialUse)
		return err
	})
}

// RenameMailbox renames folder from (and the folders below it) to to,
// locally at once, with their sync state, and journals the RENAME.
func (l *Local) RenameMailbox(ctx context.Context, from, to string) error {
	src, err := store.CanonicalName(from)
	if err != nil {
		return fmt.Errorf("rename folder %s: %w", from, err)
	}
	dst, err := store.CanonicalName(to)
	if err != nil {
		return fmt.Errorf("rename folder %s: %w", to, err)
	}
	return l.journaled(ctx, opRename, payload{Mailbox: src, Dest: dst}, func() error {
		return l.renameLocal(ctx, src, dst)
	})
}

// renameLocal renames folder src and those below it to dst in the store,
// with their sync state.
func (l *Local) renameLocal(ctx context.Context, src, dst string) error {
	moved, err := l.below(ctx, src)
	if err != nil {
		return err
	}
	// The sync state goes with the folder: copied first (a crash leaves
	// it under both names, harmless), forgotten after.
	copied, forget := map[string]string{}, map[string]string{}
	for _, mb := range moved {
		for _, k := range stateKinds() {
			v, err := l.Store.SyncState(ctx, stateKey(mb, k))
			if err != nil {
				return err
			}
			if v != "" {
				copied[stateKey(dst+strings.TrimPrefix(mb, src), k)] = v
				forget[stateKey(mb, k)] = ""
			}
		}
	}
	if err := l.Store.SetSyncState(ctx, copied); err != nil {
		return err
	}
	if err := l.Store.RenameMailbox(ctx, src, dst); err != nil {
		return err
	}
	return l.Store.SetSyncState(ctx, forget)
}

// DeleteMailbox deletes folder name and its messages locally at once
// (the folders below it stay) and journals its DELETE on the server.
func (l *Local) DeleteMailbox(ctx context.Context, name string) error {
	mb, err := store.CanonicalName(name)
	if err != nil {
		return fmt.Errorf("delete folder %s: %w", name, err)
	}
	return l.journaled(ctx, opRmbox, payload{Mailbox: mb}, func() error {
		if err := l.Store.DeleteMailbox(ctx, mb); err != nil {
			return err
		}
		forget := map[string]string{}
		for _, k := range stateKinds() {
			forget[stateKey(mb, k)] = ""
		}
		return l.Store.SetSyncState(ctx, forget)
	})
}

// SetSubscribed subscribes to folder name or unsubscribes from it,
// locally at once, and journals the change for the server.
func (l *Local) SetSubscribed(ctx context.Context, name string, on bool) error {
	mb, err := store.CanonicalName(name)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", name, err)
	}
	return l.journaled(ctx, opSubscribe, payload{Mailbox: mb, On: on}, func() error {
		return l.Store.SetSubscribed(ctx, mb, on)
	})
}

// stateKinds are the per-mailbox sync-state keys (see the package doc).
func stateKinds() []string { return []string{"uidvalidity", "uidnext", "modseq", "reset", "uids"} }

// below returns mb and the local folders below it.
func (l *Local) below(ctx context.Context, mb string) ([]string, error) {
	all, err := l.Store.Mailboxes(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range all {
		if m.Name == mb || strings.HasPrefix(m.Name, mb+"/") {
			out = append(out, m.Name)
		}
	}
	return out, nil
}

// replayCreate creates a folder on the server unless it is there.
func (e *engine) replayCreate(ctx context.Context, p payload) error {
	if _, ok := e.boxes[p.Mailbox]; ok {
		return nil
	}
	_, err := e.createRemote(ctx, p.Mailbox, p.Use)
	return err
}

// replayRename renames a folder on the server (RFC 9051 section 6.3.6:
// the folders below it go along).
func (e *engine) replayRename(ctx context.Context, p payload) error {
	src, haveSrc := e.boxes[p.Mailbox]
	_, haveDst := e.boxes[p.Dest]
	switch {
	case !haveSrc && haveDst:
		return nil // done by an earlier run
	case !haveSrc:
		use := ""
		if mb, err := e.st.Mailbox(ctx, p.Dest); err == nil {
			use = mb.SpecialUse
		}
		_, err := e.createRemote(ctx, p.Dest, use)
		return err
	}
	delim, err := e.delimiter()
	if err != nil {
		return err
	}
	dst := serverName(p.Dest, delim)
	if err := e.c.c.Rename(src.Name, dst, nil).Wait(); err != nil {
		if isNo(err, imap.ResponseCodeAlreadyExists) && haveDst {
			return e.c.wrap("rename", p.Mailbox, fmt.Errorf("%s exists on the server too: %w", p.Dest, err))
		}
		return e.c.wrap("rename", p.Mailbox, err)
	}
	if e.c.selected == src.Name {
		e.c.selected, e.c.sel = "", nil
	}
	for local, rb := range e.boxes {
		if local != p.Mailbox && !strings.HasPrefix(local, p.Mailbox+"/") {
			continue
		}
		delete(e.boxes, local)
		rb.Local = p.Dest + strings.TrimPrefix(local, p.Mailbox)
		rb.Name = serverName(rb.Local, delim)
		e.boxes[rb.Local] = rb
	}
	e.note(p.Mailbox, lbsync.PhaseReplay, "renamed to "+p.Dest+" on the server")
	return nil
}

// replayRmbox deletes a folder on the server unless it is gone.
func (e *engine) replayRmbox(p payload) error {
	rb, ok := e.boxes[p.Mailbox]
	if !ok {
		return nil
	}
	if e.c.selected == rb.Name {
		// A folder is not deleted while selected: UNSELECT would need
		// RFC 3691, and any other SELECT does.
		if _, err := e.c.selectBox(e.boxes[store.Inbox].Name); err != nil {
			return err
		}
	}
	if err := e.c.c.Delete(rb.Name).Wait(); err != nil && !isNo(err, imap.ResponseCodeNonExistent) {
		return e.c.wrap("delete", p.Mailbox, err)
	}
	delete(e.boxes, p.Mailbox)
	e.note(p.Mailbox, lbsync.PhaseReplay, "deleted on the server")
	return nil
}

// replaySubscribe sets a folder's subscription on the server; a folder
// the server does not have needs none.
func (e *engine) replaySubscribe(p payload) error {
	rb, ok := e.boxes[p.Mailbox]
	if !ok {
		return nil
	}
	cmd, op := e.c.c.Unsubscribe(rb.Name), "unsubscribe"
	if p.On {
		cmd, op = e.c.c.Subscribe(rb.Name), "subscribe"
	}
	if err := cmd.Wait(); err != nil {
		return e.c.wrap(op, p.Mailbox, err)
	}
	rb.Subscribed = p.On
	e.boxes[p.Mailbox] = rb
	return nil
}

// ensureRemote returns the server folder of local folder mb, creating it
// on the server, with the local folder's special use, when it is not
// there: a copy for Sent or a move is never dropped for want of a folder.
func (e *engine) ensureRemote(ctx context.Context, mb string) (remoteBox, error) {
	if rb, ok := e.boxes[mb]; ok {
		return rb, nil
	}
	use := ""
	m, err := e.st.Mailbox(ctx, mb)
	switch {
	case err == nil:
		use = m.SpecialUse
	case !errors.Is(err, store.ErrNotFound):
		return remoteBox{}, err
	}
	return e.createRemote(ctx, mb, use)
}

// createRemote creates local folder mb on the server and subscribes to
// it. With a special use and CREATE-SPECIAL-USE (RFC 6154 section 3) the
// server gets the role too; a server that refuses the role gets a plain
// CREATE. A folder that exists already (NO [ALREADYEXISTS], RFC 5530) is
// success.
func (e *engine) createRemote(ctx context.Context, mb, use string) (remoteBox, error) {
	delim, err := e.delimiter()
	if err != nil {
		return remoteBox{}, err
	}
	rb := remoteBox{Name: serverName(mb, delim), Local: mb, Subscribed: true}
	if delim != '/' && delim != 0 && strings.ContainsRune(mb, delim) {
		return rb, &lbsync.Error{Op: "imap create " + mb, Kind: lbsync.Permanent,
			Err: fmt.Errorf("the name holds %q, the server's hierarchy separator", delim)}
	}
	var opts *imap.CreateOptions
	if use != "" && use != store.SpecialAll && e.c.caps.Has(imap.CapCreateSpecialUse) {
		opts = &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttr(use)}}
	}
	err = e.c.c.Create(rb.Name, opts).Wait()
	if err != nil && opts != nil && isNo(err) && !isNo(err, imap.ResponseCodeAlreadyExists) && !isTemporary(err) {
		opts = nil // the role refused (RFC 6154 USEATTR): a plain folder
		err = e.c.c.Create(rb.Name, nil).Wait()
	}
	if err != nil && !isNo(err, imap.ResponseCodeAlreadyExists) {
		return rb, e.c.wrap("create", mb, err)
	}
	if err := e.c.c.Subscribe(rb.Name).Wait(); err != nil {
		return rb, e.c.wrap("subscribe", mb, err)
	}
	if opts != nil {
		rb.SpecialUse = use
	}
	e.boxes[mb] = rb
	switch {
	case use != "" && opts == nil:
		e.note(mb, lbsync.PhaseReplay, "created on the server (which cannot mark it "+use+"; the role is kept here)")
	default:
		e.note(mb, lbsync.PhaseReplay, "created on the server")
	}
	return rb, nil
}

// delimiter returns the server's hierarchy separator, from LIST "" ""
// (RFC 9051 section 6.3.9); 0 for a flat server.
func (e *engine) delimiter() (rune, error) {
	data, err := e.c.c.List("", "", nil).Collect()
	if err != nil {
		return 0, e.c.wrap("list", "", err)
	}
	for _, d := range data {
		return d.Delim, nil
	}
	return 0, nil
}

// serverName is the server's name of local folder mb: "/" is the store's
// separator, delim the server's.
func serverName(mb string, delim rune) string {
	if delim == 0 || delim == '/' {
		return mb
	}
	return strings.ReplaceAll(mb, "/", string(delim))
}
