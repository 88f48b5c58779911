package store

// This file holds the mbox (mboxrd) and Maildir encodings both ways: the
// writers used for export and the quoting, reading and naming helpers that
// WalkSources uses.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"
)

// WriteMboxMessage appends one message read from r to w in mboxrd format
// (RFC 4155 and the mboxrd convention): a From_ line "From <from> <date in
// asctime format, UTC>", then the message with CRLF line ends turned into
// LF and one more '>' before every line matching ^>*From , then a newline if
// the message did not end with one, then a blank line.
//
// from is the envelope sender; one that is empty or contains white space or
// control characters is written as MAILER-DAEMON, so that the From_ line
// stays parseable. The message is streamed: lines of any length are copied
// without being held whole. WalkSources reads the result back byte for byte,
// except that a message not ending in a newline gains one.
func WriteMboxMessage(w io.Writer, from string, date time.Time, r io.Reader) error {
	if from == "" || strings.IndexFunc(from, func(c rune) bool { return c <= ' ' || c == 0x7f }) >= 0 {
		from = "MAILER-DAEMON"
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := fmt.Fprintf(bw, "From %s %s\n", from, date.UTC().Format("Mon Jan _2 15:04:05 2006")); err != nil {
		return fmt.Errorf("write mbox message: %w", err)
	}
	if err := mboxCopyQuoted(bw, bufio.NewReaderSize(r, 64<<10)); err != nil {
		return fmt.Errorf("write mbox message: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write mbox message: %w", err)
	}
	return nil
}

// mboxCopyQuoted copies the message from br to bw with mboxrd quoting and
// CRLF converted to LF, ending it with a newline and a blank line.
func mboxCopyQuoted(bw *bufio.Writer, br *bufio.Reader) error {
	var (
		bol       = true  // at the beginning of a line
		pendingCR = false // a CR was held back at the end of a chunk
		written   = false // something of the message was written
		lastNL    = false // the last byte written was a newline
	)
	for {
		if bol {
			b, err := br.Peek(1)
			if len(b) == 0 {
				if err != nil && err != io.EOF {
					return err
				}
				break
			}
			bol = false
			if b[0] != '>' && b[0] != 'F' {
				continue
			}
			run, err := mboxSkipRun(br)
			if err != nil {
				return err
			}
			if p, _ := br.Peek(5); string(p) == "From " {
				run++
			}
			if run > 0 {
				if err := mboxWriteRun(bw, run); err != nil {
					return err
				}
				written, lastNL = true, false
			}
			continue
		}
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if pendingCR && chunk[0] != '\n' {
				if err := bw.WriteByte('\r'); err != nil {
					return err
				}
			}
			pendingCR = false
			l, nl := len(chunk), chunk[len(chunk)-1] == '\n'
			switch {
			case nl && l >= 2 && chunk[l-2] == '\r':
				chunk = chunk[:l-2] // the LF is written below
			case nl:
				chunk = chunk[:l-1]
			case chunk[l-1] == '\r' && err == bufio.ErrBufferFull:
				chunk, pendingCR = chunk[:l-1], true
			}
			if _, err := bw.Write(chunk); err != nil {
				return err
			}
			if nl {
				if err := bw.WriteByte('\n'); err != nil {
					return err
				}
			}
			written, lastNL, bol = true, nl || (lastNL && len(chunk) == 0 && !pendingCR), nl
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if pendingCR {
		if err := bw.WriteByte('\r'); err != nil {
			return err
		}
		lastNL = false
	}
	end := "\n"
	if written && !lastNL {
		end = "\n\n"
	}
	_, err := bw.WriteString(end)
	return err
}

// mboxWriteRun writes n '>' characters.
func mboxWriteRun(bw *bufio.Writer, n int64) error {
	const gts = ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>"
	for n > 0 {
		k := min(n, int64(len(gts)))
		if _, err := bw.WriteString(gts[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// WriteMaildirMessage writes the message read from r into the Maildir dir as
// cur/<name>:2,<flags>, where flags are the letters of MaildirFlags. It
// creates dir/cur, dir/new and dir/tmp as needed, writes the file in tmp/,
// fsyncs it, renames it into cur/ and fsyncs cur/, so the message is durable
// when WriteMaildirMessage returns nil.
//
// name must be a unique Maildir base name: not empty, not starting with a
// dot, without '/', ':' or NUL; otherwise the error wraps ErrInvalid. An
// existing file of the same final name is not overwritten: the error wraps
// ErrExists.
func WriteMaildirMessage(dir, name string, flags []string, r io.Reader) (err error) {
	if name == "" || name[0] == '.' || strings.ContainsAny(name, "/:\x00") || (filepath.Separator != '/' && strings.ContainsRune(name, filepath.Separator)) {
		return fmt.Errorf("write maildir message %q: %w: bad file name", name, ErrInvalid)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("write maildir message: %w", err)
		}
	}
	curDir := filepath.Join(dir, "cur")
	final := filepath.Join(curDir, name+":2,"+MaildirFlags(flags))
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("write maildir message %s: %w", final, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write maildir message: %w", err)
	}
	tmp := filepath.Join(dir, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write maildir message: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, r); err != nil {
		return fmt.Errorf("write maildir message %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write maildir message: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write maildir message: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("write maildir message: %w", err)
	}
	d, err := os.Open(curDir)
	if err != nil {
		return fmt.Errorf("write maildir message: sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write maildir message: sync %s: %w", curDir, err)
	}
	return nil
}

// MaildirFlags returns the Maildir info letters for flags, in ASCII order as
// the Maildir specification asks: D for \Draft, F for \Flagged, P for the
// $Forwarded keyword, R for \Answered, S for \Seen and T for \Deleted. Flags
// are matched case-insensitively; other flags and keywords have no letter.
func MaildirFlags(flags []string) string {
	var b []byte
	for _, c := range []byte("DFPRST") {
		for _, f := range flags {
			if strings.EqualFold(f, maildirFlagOf(c)) {
				b = append(b, c)
				break
			}
		}
	}
	return string(b)
}

// FlagsFromMaildir returns the flags of the Maildir info letters, the part
// of a file name after ":2,", in the order \Draft, \Flagged, $Forwarded,
// \Answered, \Seen, \Deleted. Unknown letters, among them Dovecot's
// lower-case keyword letters, are ignored; nil means no flags.
func FlagsFromMaildir(info string) []string {
	var flags []string
	for _, c := range []byte("DFPRST") {
		if strings.IndexByte(info, c) >= 0 {
			flags = append(flags, maildirFlagOf(c))
		}
	}
	return flags
}

// maildirFlagOf returns the flag of a Maildir info letter, or "".
func maildirFlagOf(letter byte) string {
	switch letter {
	case 'D':
		return FlagDraft
	case 'F':
		return FlagFlagged
	case 'P':
		return "$Forwarded"
	case 'R':
		return FlagAnswered
	case 'S':
		return FlagSeen
	case 'T':
		return FlagDeleted
	}
	return ""
}

// mboxSkipRun consumes the '>' characters at br's position and returns how
// many there were, however many that is.
func mboxSkipRun(br *bufio.Reader) (int64, error) {
	var run int64
	for {
		if _, err := br.Peek(1); err != nil {
			if err == io.EOF {
				return run, nil
			}
			return run, err
		}
		buf, _ := br.Peek(br.Buffered())
		k := 0
		for k < len(buf) && buf[k] == '>' {
			k++
		}
		_, _ = br.Discard(k) // k bytes are buffered
		run += int64(k)
		if k < len(buf) {
			return run, nil
		}
	}
}

// mboxMessageReader reads one message of an mbox file, undoing the mboxrd
// quoting of From lines and, in a CRLF file, converting CRLF to LF.
type mboxMessageReader struct {
	f    *os.File
	br   *bufio.Reader
	crlf bool
	bol  bool  // at the beginning of a line
	gts  int64 // '>' characters still to be returned
}

func openMboxMessage(path string, off, n int64, crlf bool) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	sr := io.NewSectionReader(f, off, n)
	return &mboxMessageReader{f: f, br: bufio.NewReaderSize(sr, 64<<10), crlf: crlf, bol: true}, nil
}

// Read implements io.Reader.
func (r *mboxMessageReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.gts > 0 {
			k := min(int64(len(p)-n), r.gts)
			for i := range k {
				p[n+int(i)] = '>'
			}
			n += int(k)
			r.gts -= k
			continue
		}
		if r.bol {
			r.bol = false
			if b, _ := r.br.Peek(1); len(b) == 1 && b[0] == '>' {
				run, err := mboxSkipRun(r.br)
				if err != nil {
					return n, err
				}
				if b, _ := r.br.Peek(5); string(b) == "From " {
					run--
				}
				r.gts = run
			}
			continue
		}
		if _, err := r.br.Peek(1); err != nil {
			if n > 0 && err == io.EOF {
				return n, nil
			}
			return n, err
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		buf = buf[:min(len(buf), len(p)-n)]
		eol := false
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf, eol = buf[:i+1], true
		}
		l := len(buf)
		switch {
		case r.crlf && eol && l >= 2 && buf[l-2] == '\r':
			copy(p[n:], buf[:l-2])
			p[n+l-2] = '\n'
			n += l - 1
		case r.crlf && !eol && buf[l-1] == '\r' && l > 1:
			l-- // the CR may start a CRLF: look at it again with what follows
			n += copy(p[n:], buf[:l])
		case r.crlf && !eol && buf[l-1] == '\r':
			if b, _ := r.br.Peek(2); len(b) == 2 && b[1] == '\n' {
				p[n] = '\n'
				l, eol = 2, true
			} else {
				p[n] = '\r'
			}
			n++
		default:
			n += copy(p[n:], buf)
		}
		_, _ = r.br.Discard(l) // l bytes are buffered
		r.bol = eol
	}
	return n, nil
}

// Close closes the mbox file.
func (r *mboxMessageReader) Close() error {
	return r.f.Close()
}

// maildirFolderName turns the Maildir++ folder directory name without its
// leading dot, "Sub.Folder", into the mailbox name "Sub/Folder", decoding
// modified UTF-7. It returns "" for a name without any component.
func maildirFolderName(enc string) string {
	var parts []string
	for _, p := range strings.Split(enc, ".") {
		if p != "" {
			parts = append(parts, decodeModifiedUTF7(p))
		}
	}
	return strings.Join(parts, "/")
}

// decodeModifiedUTF7 decodes IMAP modified UTF-7 (RFC 3501 section 5.1.3):
// "&-" is "&" and "&...-" is modified base64 of UTF-16BE. A string that is
// not valid modified UTF-7 is returned unchanged (Dovecot may store names
// in UTF-8).
func decodeModifiedUTF7(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	enc := base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '&' {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return s
		}
		chunk := s[i+1 : i+1+j]
		i += j + 2
		if chunk == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := enc.DecodeString(chunk)
		if err != nil || len(raw)%2 != 0 {
			return s
		}
		u := make([]uint16, len(raw)/2)
		for k := range u {
			u[k] = uint16(raw[2*k])<<8 | uint16(raw[2*k+1])
		}
		for k := 0; k < len(u); k++ {
			if utf16.IsSurrogate(rune(u[k])) && (k+1 == len(u) || utf16.DecodeRune(rune(u[k]), rune(u[k+1])) == '\uFFFD') {
				return s
			}
			if utf16.IsSurrogate(rune(u[k])) {
				k++
			}
		}
		b.WriteString(string(utf16.Decode(u)))
	}
	return b.String()
}
