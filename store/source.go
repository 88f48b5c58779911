package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SourceMessage is one message found in an import source by WalkSources.
type SourceMessage struct {
	// Mailbox is the name of the mailbox the message belongs to, with "/"
	// as the hierarchy separator; "INBOX" for the inbox.
	Mailbox string
	// Flags are the IMAP flags and keywords read from the source.
	Flags []string
	// InternalDate is the Maildir file's modification time or the date of
	// the mbox From_ line; zero when unknown.
	InternalDate time.Time
	// Open returns a reader of the raw message. Each call opens the source
	// anew; the caller closes the reader. It may be called after WalkSources
	// returned, as long as the source is unchanged.
	Open func() (io.ReadCloser, error)
	// Origin names where the message came from for error messages: a file
	// path, or "path:offset" with the byte offset of the From_ line in an
	// mbox file.
	Origin string
	// Size is the number of bytes Open yields, or -1 when unknown.
	Size int64
}

// WalkSources calls fn for every message found under paths, in a
// deterministic order, and stops at the first error fn returns, which it
// returns unchanged.
//
// Each path may be
//   - a Maildir (a directory with cur/ or new/): its messages go to INBOX,
//     its Maildir++ subfolders ".Sub.Folder" become "Sub/Folder" (names in
//     IMAP modified UTF-7, RFC 3501 section 5.1.3, are decoded), and plain
//     subdirectories are walked as below; a Maildir++ subfolder given itself
//     ("Maildir/.Sent") keeps its own name;
//   - a directory holding Maildirs or mbox files, at any depth: each becomes
//     a mailbox named by its path below the directory, "a/b";
//   - an mbox file (its first line starts with "From "), whose messages go to
//     the mailbox named as the file without a ".mbox" extension, or INBOX
//     for "inbox" and "mbox". An empty file holds no messages.
//
// Maildir flags come from the ":2," file name suffix (see FlagsFromMaildir);
// messages in new/ are never \Seen. Dot files, files that are not regular
// (symbolic links included) and tmp/ are skipped. mbox messages are found in
// one streaming pass; their Open undoes mboxrd quoting (RFC 4155, mboxo files
// are read the same way) and turns CRLF line ends into LF when the file's
// first line ends in CRLF. ctx is checked before each message.
func WalkSources(ctx context.Context, paths []string, fn func(SourceMessage) error) error {
	w := &sourceWalker{ctx: ctx, fn: fn}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.walkPath(p); err != nil {
			return err
		}
	}
	return nil
}

// sourceWalker carries the state of one WalkSources call.
type sourceWalker struct {
	ctx context.Context
	fn  func(SourceMessage) error
}

func (w *sourceWalker) walkPath(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("import source: %w", err)
	}
	switch {
	case fi.IsDir() && sourceIsMaildir(p):
		base := filepath.Base(filepath.Clean(p))
		if len(base) > 1 && base[0] == '.' && sourceIsMaildir(filepath.Dir(filepath.Clean(p))) {
			if name := maildirFolderName(base[1:]); name != "" {
				return w.maildirTree(p, name, name)
			}
		}
		return w.maildirTree(p, "INBOX", "")
	case fi.IsDir():
		return w.dir(p, "", false)
	case fi.Mode().IsRegular():
		isMbox, empty, err := sourceIsMbox(p)
		if err != nil {
			return err
		}
		if empty {
			return nil
		}
		if !isMbox {
			return fmt.Errorf("import source %s: %w: not a Maildir, a directory of Maildirs or an mbox file", p, ErrInvalid)
		}
		return w.mbox(p, mboxMailboxName("", filepath.Base(p)))
	default:
		return fmt.Errorf("import source %s: %w: not a regular file or directory", p, ErrInvalid)
	}
}

// maildirTree walks the messages of the Maildir dir into mailbox name, then
// its subfolders, named below prefix.
func (w *sourceWalker) maildirTree(dir, name, prefix string) error {
	if err := w.maildir(dir, name); err != nil {
		return err
	}
	return w.dir(dir, prefix, true)
}

// dir walks the subdirectories (and, outside a Maildir, the mbox files) of
// dir, naming mailboxes below prefix. inMaildir says dir is a Maildir, whose
// cur/, new/, tmp/ and metadata files are not mailboxes but whose dot
// subdirectories are Maildir++ folders.
func (w *sourceWalker) dir(dir, prefix string, inMaildir bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("import source: %w", err)
	}
	for _, e := range ents {
		n, p := e.Name(), filepath.Join(dir, e.Name())
		switch {
		case e.IsDir() && inMaildir && (n == "cur" || n == "new" || n == "tmp"):
		case e.IsDir() && n[0] == '.':
			if inMaildir && sourceIsMaildir(p) {
				if sub := maildirFolderName(n[1:]); sub != "" {
					err = w.maildir(p, sourceJoin(prefix, sub))
				}
			}
		case e.IsDir():
			name := sourceJoin(prefix, sourceTrimExt(n))
			if sourceIsMaildir(p) {
				err = w.maildirTree(p, name, name)
			} else {
				err = w.dir(p, name, false)
			}
		case e.Type().IsRegular() && !inMaildir && n[0] != '.':
			var isMbox bool
			if isMbox, _, err = sourceIsMbox(p); err == nil && isMbox {
				err = w.mbox(p, mboxMailboxName(prefix, n))
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// maildir yields the messages in dir/cur and dir/new.
func (w *sourceWalker) maildir(dir, mailbox string) error {
	for _, sub := range []string{"cur", "new"} {
		d := filepath.Join(dir, sub)
		ents, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("import source: %w", err)
		}
		for _, e := range ents {
			n := e.Name()
			if n[0] == '.' || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return fmt.Errorf("import source %s: %w", filepath.Join(d, n), err)
			}
			var flags []string
			if i := maildirInfoIndex(n); i >= 0 {
				flags = FlagsFromMaildir(n[i+3:])
			}
			if sub == "new" {
				flags = sourceWithout(flags, FlagSeen)
			}
			path := filepath.Join(d, n)
			msg := SourceMessage{
				Mailbox:      mailbox,
				Flags:        flags,
				InternalDate: fi.ModTime(),
				Open:         func() (io.ReadCloser, error) { return os.Open(path) },
				Origin:       path,
				Size:         fi.Size(),
			}
			if err := w.yield(msg); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *sourceWalker) yield(msg SourceMessage) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	return w.fn(msg)
}

// mboxMessage is a message being delimited by the mbox scan.
type mboxMessage struct {
	fromOff int64     // offset of the From_ line
	start   int64     // offset of the first byte after the From_ line
	date    time.Time // date of the From_ line
	removed int64     // bytes that unquoting and CRLF conversion remove
}

// mbox yields the messages of the mbox file path. It reads the file once,
// line by line, keeping only offsets; a message ends before the blank line
// that precedes the next From_ line. A "From " line is a separator when it
// is the first line, follows a blank line, or carries a valid date.
func (w *sourceWalker) mbox(path, mailbox string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import source: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var (
		off       int64        // offset of the current line
		cur       *mboxMessage // the message being delimited
		crlf      bool         // the file's lines end in CRLF
		prevBlank bool         // the previous line was blank
		blankLen  int64        // its length
		blankAdj  int64        // what converting it would have removed
		emit      = func(end int64) error {
			if prevBlank {
				end -= blankLen
				cur.removed -= blankAdj
			}
			start, n, crlf := cur.start, end-cur.start, crlf
			return w.yield(SourceMessage{
				Mailbox:      mailbox,
				InternalDate: cur.date,
				Open:         func() (io.ReadCloser, error) { return openMboxMessage(path, start, n, crlf) },
				Origin:       fmt.Sprintf("%s:%d", path, cur.fromOff),
				Size:         n - cur.removed,
			})
		}
	)
	for {
		head, err := br.Peek(5)
		if len(head) == 0 {
			if err != nil && err != io.EOF {
				return fmt.Errorf("import source %s: %w", path, err)
			}
			break
		}
		blank := head[0] == '\n' || (len(head) > 1 && head[0] == '\r' && head[1] == '\n')
		var (
			n      int64
			crlfNL bool
			adj    int64
		)
		if bytes.HasPrefix(head, []byte("From ")) {
			var text []byte
			text, n, crlfNL, err = mboxReadLine(br, 1024)
			if err != nil {
				return fmt.Errorf("import source %s: %w", path, err)
			}
			date, dated := mboxFromLineDate(text)
			if cur == nil || prevBlank || dated {
				if cur != nil {
					if err := emit(off); err != nil {
						return err
					}
				} else {
					crlf = crlfNL
				}
				cur = &mboxMessage{fromOff: off, start: off + n, date: date}
				off += n
				prevBlank = false
				continue
			}
		} else if cur == nil {
			return fmt.Errorf("import source %s: %w: not an mbox file", path, ErrInvalid)
		} else {
			var run int64
			if head[0] == '>' {
				if run, err = mboxSkipRun(br); err != nil {
					return fmt.Errorf("import source %s: %w", path, err)
				}
				if p, _ := br.Peek(5); string(p) == "From " {
					adj++
				}
			}
			n, crlfNL, err = mboxSkipLine(br)
			n += run
			if err != nil {
				return fmt.Errorf("import source %s: %w", path, err)
			}
		}
		if crlf && crlfNL {
			adj++
		}
		cur.removed += adj
		prevBlank, blankLen, blankAdj = blank, n, adj
		off += n
	}
	if cur == nil {
		return nil
	}
	return emit(off)
}

// mboxReadLine consumes one line, returning up to keep of its first bytes,
// its length, and whether it ends in CRLF.
func mboxReadLine(br *bufio.Reader, keep int) (head []byte, n int64, crlf bool, err error) {
	var last byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(head) < keep {
			head = append(head, chunk[:min(len(chunk), keep-len(head))]...)
		}
		if l := len(chunk); l > 0 {
			n += int64(l)
			if chunk[l-1] == '\n' {
				crlf = (l >= 2 && chunk[l-2] == '\r') || (l == 1 && last == '\r')
			}
			last = chunk[l-1]
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil, io.EOF:
			return head, n, crlf, nil
		default:
			return head, n, crlf, err
		}
	}
}

// mboxSkipLine consumes the rest of a line, returning its length and whether
// it ends in CRLF.
func mboxSkipLine(br *bufio.Reader) (int64, bool, error) {
	_, n, crlf, err := mboxReadLine(br, 0)
	return n, crlf, err
}

// mboxFromLineDate parses the date of a From_ line such as
// "From sender Mon Jan  2 15:04:05 2006", leniently: the date is the first
// run of fields starting with a weekday that parses as asctime, with an
// optional zone before or after the year; trailing words are ignored.
func mboxFromLineDate(line []byte) (time.Time, bool) {
	s := strings.TrimRight(string(line), "\r\n")
	fields := strings.Fields(strings.TrimPrefix(s, "From "))
	layouts := []string{
		"Mon Jan 2 15:04:05 2006 -0700",
		"Mon Jan 2 15:04:05 -0700 2006",
		"Mon Jan 2 15:04:05 MST 2006",
		"Mon Jan 2 15:04:05 2006 MST",
		"Mon Jan 2 15:04:05 2006",
		"Mon Jan 2 15:04 2006",
	}
	for i, f := range fields {
		if _, err := time.Parse("Mon", f); err != nil {
			continue
		}
		for _, layout := range layouts {
			k := strings.Count(layout, " ") + 1
			if i+k > len(fields) {
				continue
			}
			if t, err := time.Parse(layout, strings.Join(fields[i:i+k], " ")); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// sourceIsMaildir reports whether dir has a cur or new subdirectory.
func sourceIsMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil && fi.IsDir() {
			return true
		}
	}
	return false
}

// sourceIsMbox reports whether the file path starts with "From ", or is
// empty.
func sourceIsMbox(path string) (isMbox, empty bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, false, fmt.Errorf("import source: %w", err)
	}
	defer f.Close()
	head := make([]byte, 5)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return false, false, fmt.Errorf("import source %s: %w", path, err)
	}
	return string(head[:n]) == "From ", n == 0, nil
}

// mboxMailboxName names the mailbox of the mbox file called file in the
// directory named prefix.
func mboxMailboxName(prefix, file string) string {
	name := sourceTrimExt(file)
	if prefix != "" && name == "mbox" {
		return prefix // Apple Mail exports "Name.mbox/mbox"
	}
	if prefix == "" && strings.EqualFold(name, "mbox") {
		return "INBOX"
	}
	return sourceJoin(prefix, name)
}

// sourceTrimExt removes a ".mbox" extension.
func sourceTrimExt(name string) string {
	if len(name) > 5 && strings.EqualFold(name[len(name)-5:], ".mbox") {
		return name[:len(name)-5]
	}
	return name
}

// sourceJoin names the mailbox name below prefix; a top-level inbox is
// "INBOX" whatever its case.
func sourceJoin(prefix, name string) string {
	if prefix == "" {
		if strings.EqualFold(name, "INBOX") {
			return "INBOX"
		}
		return name
	}
	return prefix + "/" + name
}

// sourceWithout returns flags without flag.
func sourceWithout(flags []string, flag string) []string {
	var out []string
	for _, f := range flags {
		if !strings.EqualFold(f, flag) {
			out = append(out, f)
		}
	}
	return out
}

// maildirInfoIndex returns the index of the ":2," (or "!2,", used where ':'
// is not allowed in file names) info separator in a Maildir file name, or -1.
func maildirInfoIndex(name string) int {
	if i := strings.LastIndex(name, ":2,"); i >= 0 {
		return i
	}
	return strings.LastIndex(name, "!2,")
}
