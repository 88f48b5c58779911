package store

// This file writes a mailbox or an attachment to a file as one unit: a
// temporary file beside the destination, put in place when complete, so
// an interrupted or failed export leaves no partial file (the encodings
// themselves are in export.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Export formats of ExportMailbox.
const (
	ExportMbox    = "mbox"
	ExportMaildir = "maildir"
)

// ExportMailbox writes every message of mailbox to dest in format
// (ExportMbox or ExportMaildir), in UID order, and returns how many it
// wrote. Either dest holds the whole mailbox when it returns nil, or the
// export left nothing new behind:
//
//   - ExportMbox: dest is a new mbox file (mboxrd, see WriteMboxMessage),
//     mode 0600. It is written to a temporary file beside dest, synced,
//     then linked into place, so dest never holds part of the mailbox. An
//     existing dest is an error wrapping ErrExists and is left alone.
//   - ExportMaildir: a dest that does not exist is written as a Maildir
//     under a temporary name beside it and renamed when complete; into an
//     existing Maildir, each message lands durably on its own
//     (WriteMaildirMessage), and those written before a failure stay.
//
// Every file it opens is closed on every path. An unknown format wraps
// ErrInvalid; a missing mailbox wraps ErrNotFound.
func (s *Store) ExportMailbox(ctx context.Context, mailbox, format, dest string) (int, error) {
	if format != ExportMbox && format != ExportMaildir {
		return 0, fmt.Errorf("export %s: format %q: %w (want mbox or maildir)", mailbox, format, ErrInvalid)
	}
	msgs, err := s.Fetch(ctx, mailbox, nil)
	if err != nil {
		return 0, fmt.Errorf("export %s: %w", mailbox, err)
	}
	var n int
	if format == ExportMbox {
		n, err = s.exportMbox(ctx, msgs, dest)
	} else {
		n, err = s.exportMaildir(ctx, msgs, dest)
	}
	if err != nil {
		return n, fmt.Errorf("export %s to %s: %w", mailbox, dest, err)
	}
	return n, nil
}

// exportMbox writes msgs to the new mbox file dest through a temporary
// file.
func (s *Store) exportMbox(ctx context.Context, msgs []Message, dest string) (n int, err error) {
	if _, err := os.Lstat(dest); err == nil {
		return 0, ErrExists
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return 0, err
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			_ = tmp.Close()
		}
		_ = os.Remove(tmpName) // linked into place on success, else partial
	}()
	for _, m := range msgs {
		if err := s.exportOne(ctx, m, func(r io.Reader) error {
			from := ""
			if len(m.From) > 0 {
				from = m.From[0].Addr
			}
			return WriteMboxMessage(tmp, from, m.InternalDate, r)
		}); err != nil {
			return n, err
		}
		n++
	}
	if err := tmp.Sync(); err != nil {
		return n, err
	}
	err = tmp.Close()
	tmp = nil
	if err != nil {
		return n, err
	}
	// A link never replaces a file that appeared meanwhile; a file
	// system without hard links gets a rename.
	if err := os.Link(tmpName, dest); errors.Is(err, fs.ErrExist) {
		return n, ErrExists
	} else if err != nil {
		if err := os.Rename(tmpName, dest); err != nil {
			return n, err
		}
	}
	return n, s.fsyncDir(filepath.Dir(dest))
}

// exportMaildir writes msgs into the Maildir dest, through a temporary
// directory when dest is new.
func (s *Store) exportMaildir(ctx context.Context, msgs []Message, dest string) (n int, err error) {
	target := dest
	_, statErr := os.Stat(dest)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	if statErr != nil && !fresh {
		return 0, statErr
	}
	if fresh {
		if target, err = os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*"); err != nil {
			return 0, err
		}
		defer func() {
			if err != nil {
				_ = os.RemoveAll(target)
			}
		}()
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(target, sub), 0o700); err != nil {
			return 0, err
		}
	}
	for _, m := range msgs {
		name := fmt.Sprintf("%d.letterbox-export-%d", m.InternalDate.Unix(), m.ID)
		if err := s.exportOne(ctx, m, func(r io.Reader) error {
			return WriteMaildirMessage(target, name, m.Flags, r)
		}); err != nil {
			return n, err
		}
		n++
	}
	if fresh {
		if err := os.Rename(target, dest); err != nil {
			return n, err
		}
		return n, s.fsyncDir(filepath.Dir(dest))
	}
	return n, nil
}

// exportOne hands the raw bytes of m to write and closes them.
func (s *Store) exportOne(ctx context.Context, m Message, write func(io.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := s.OpenRaw(ctx, m.ID)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := write(f); err != nil {
		return fmt.Errorf("message %d: %w", m.ID, err)
	}
	return nil
}

// SaveAttachmentFile saves attachment part of message id decoded to the
// new file path (mode 0644) and returns its size. The file is written
// under a temporary name beside path and linked into place when
// complete: a failure leaves nothing, and an existing path is an error
// wrapping ErrExists.
func (s *Store) SaveAttachmentFile(ctx context.Context, id int64, part, path string) (n int64, err error) {
	if _, err := os.Lstat(path); err == nil {
		return 0, fmt.Errorf("save attachment %s to %s: %w", part, path, ErrExists)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("save attachment %s: %w", part, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			_ = tmp.Close()
		}
		_ = os.Remove(tmpName)
		if err != nil {
			err = fmt.Errorf("save attachment %s to %s: %w", part, path, err)
		}
	}()
	if n, err = s.SaveAttachment(ctx, id, part, tmp); err != nil {
		return 0, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return 0, err
	}
	err = tmp.Close()
	tmp = nil
	if err != nil {
		return 0, err
	}
	if err := os.Link(tmpName, path); errors.Is(err, fs.ErrExist) {
		return 0, ErrExists
	} else if err != nil {
		if err := os.Rename(tmpName, path); err != nil {
			return 0, err
		}
	}
	return n, nil
}
