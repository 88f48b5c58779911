package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A message's sync identity travels in its Maildir file name.
//
// An append renames its files into cur/ before the transaction that
// commits their rows (and, with them, their Remote: the remote UID or
// POP3 UIDL a sync recognises the message by). A crash between the two
// leaves a file that the next Open indexes as an orphan; without its
// identity a sync would download the message again. So the name a file
// gets in cur/ carries its Remote, and reconciling restores it:
//
//	<unique>[,R=<remote uid>[p]][,I=<remote id>|,H=<hash of remote id>]:2,<flags>
//
// R is the IMAP UID on the server ("p": only the header was fetched);
// I is Remote.ID in unpadded base64url; an id longer than idInName bytes
// (longer than RFC 1939 allows a UIDL) is recorded by its SHA-256 (H)
// and restored under hashedRemoteID, which HasRemoteIDs also asks for.
// Fields follow the unique part as in other Maildir writers (Dovecot's
// ",S=", mbsync's ",U="); readers that do not know them ignore them, and
// we ignore theirs. The name is durable exactly when the file is (the
// directory fsync before the commit), so this costs no extra I/O, and
// holds across processes and power loss alike.
//
// An IMAP remote UID means something only with its mailbox's
// UIDVALIDITY, which the name does not carry, and need not: orphans are
// restored at Open and at LockSync, so before any sync pass that could
// see another UIDVALIDITY; the sync stored the UIDVALIDITY before it
// placed any message under it; and a pass that finds the UIDVALIDITY
// changed forgets every remote UID of the mailbox (ResetRemote) and
// matches the messages again. A restored UID is therefore always of the
// UIDVALIDITY the sync state holds, after a kill or a power loss alike.
//
// The name records the identity the message was stored with: a move to
// another mailbox drops it (a remote UID belongs to one mailbox), and
// later changes (a completed body, UIDs taught by SetRemoteUIDs) live in
// the index only. Only an orphan, a file whose row never committed, is
// given the identity of its name.

// idInName is the longest Remote.ID stored as such in a file name; with
// the unique part (host capped at hostInName) and the flags it keeps a
// name under NAME_MAX (255).
const idInName = 96

// hostInName caps the host part of the unique names we make.
const hostInName = 40

// identityFields returns the file-name fields that record r ("" for none).
func identityFields(r Remote) string {
	var b strings.Builder
	if r.UID != 0 {
		b.WriteString(",R=")
		b.WriteString(strconv.FormatUint(uint64(r.UID), 10))
		if r.Partial {
			b.WriteByte('p')
		}
	}
	if r.ID != "" {
		if len(r.ID) <= idInName {
			b.WriteString(",I=")
			b.WriteString(base64.RawURLEncoding.EncodeToString([]byte(r.ID)))
		} else {
			sum := sha256.Sum256([]byte(r.ID))
			b.WriteString(",H=")
			b.WriteString(base64.RawURLEncoding.EncodeToString(sum[:]))
		}
	}
	return b.String()
}

// hashedRemoteID is the key under which an orphan whose name carries only
// the hash of a long remote id is remembered.
func hashedRemoteID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// nameIdentity reads the identity fields of a Maildir file name (with or
// without "cur/"); unknown fields are ignored. A hashed id comes back as
// its hashedRemoteID key.
func nameIdentity(name string) Remote {
	var r Remote
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	base, _, _ := strings.Cut(name, ":")
	i := strings.IndexByte(base, ',')
	if i < 0 {
		return r
	}
	for _, f := range strings.Split(base[i+1:], ",") {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "R":
			partial := strings.HasSuffix(v, "p")
			if n, err := strconv.ParseUint(strings.TrimSuffix(v, "p"), 10, 32); err == nil && n != 0 {
				r.UID, r.Partial = uint32(n), partial
			}
		case "I":
			if b, err := base64.RawURLEncoding.DecodeString(v); err == nil && len(b) > 0 {
				r.ID = string(b)
			}
		case "H":
			if b, err := base64.RawURLEncoding.DecodeString(v); err == nil && len(b) == sha256.Size {
				r.ID = "sha256:" + hex.EncodeToString(b)
			}
		}
	}
	return r
}

// stripIdentity removes our identity fields from a file name, keeping
// other writers' fields and the ":2," part.
func stripIdentity(name string) string {
	dir, file := "", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, file = name[:i+1], name[i+1:]
	}
	base, info, hasInfo := strings.Cut(file, ":")
	fields := strings.Split(base, ",")
	kept := fields[:1]
	for _, f := range fields[1:] {
		if k, _, _ := strings.Cut(f, "="); k != "R" && k != "I" && k != "H" {
			kept = append(kept, f)
		}
	}
	out := dir + strings.Join(kept, ",")
	if hasInfo {
		out += ":" + info
	}
	return out
}

// restoreIdentity records the identity an orphan's name carries for the
// message just indexed as id in mailbox mbID. An identity that already
// belongs to another message means the message was stored twice: it is
// not moved, and the duplicate is returned as a finding.
//
// A restored remote id is dated by the file (created), as if remembered
// when the message was stored, so KeepDays counts from then.
func restoreIdentity(ctx context.Context, tx *sql.Tx, id, mbID int64, r Remote, created time.Time) ([]string, error) {
	var found []string
	if r.UID != 0 {
		var other int64
		err := tx.QueryRowContext(ctx, "SELECT message_id FROM remote_uids WHERE mailbox_id = ? AND remote_uid = ?", mbID, r.UID).Scan(&other)
		switch {
		case err == nil:
			found = append(found, fmt.Sprintf("remote UID %d also belongs to message %d", r.UID, other))
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, "INSERT INTO remote_uids(message_id, mailbox_id, remote_uid, partial) VALUES(?, ?, ?, ?)",
				id, mbID, r.UID, boolInt(r.Partial)); err != nil {
				return nil, fmt.Errorf("restore remote uid: %w", err)
			}
		default:
			return nil, fmt.Errorf("restore remote uid: %w", err)
		}
	}
	if r.ID != "" {
		var other int64
		err := tx.QueryRowContext(ctx, "SELECT r.message_id FROM remote_ids r JOIN messages m ON m.id = r.message_id WHERE r.key = ?", r.ID).Scan(&other)
		switch {
		case err == nil:
			found = append(found, fmt.Sprintf("remote id %q also belongs to message %d", r.ID, other))
		case errors.Is(err, sql.ErrNoRows):
			// Remembered without a message (RememberRemoteIDs) or not at
			// all: it is this one's.
			if _, err := tx.ExecContext(ctx, `INSERT INTO remote_ids(key, message_id, created) VALUES(?, ?, ?)
				ON CONFLICT(key) DO UPDATE SET message_id = excluded.message_id`, r.ID, id, created.Unix()); err != nil {
				return nil, fmt.Errorf("restore remote id: %w", err)
			}
		default:
			return nil, fmt.Errorf("restore remote id: %w", err)
		}
	}
	return found, nil
}
