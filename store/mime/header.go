package mime

// Header reading for the MIME reader: header blocks of any shape, the
// parameters of Content-Type and Content-Disposition, and the envelope.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	stdmime "mime"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// mimeHeaderField is one header field with its raw (unfolded, undecoded)
// value.
type mimeHeaderField struct{ key, value string }

type mimeHeader []mimeHeaderField

// get returns the value of the first field named key.
func (h mimeHeader) get(key string) string {
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			return f.value
		}
	}
	return ""
}

// mimeReadLine reads one line and returns it without its line ending, reusing
// buf. Of a line longer than max bytes only the first max are returned and
// long is true; the rest is read and dropped.
func mimeReadLine(br *bufio.Reader, max int, buf []byte) (line []byte, long bool, err error) {
	line = buf[:0]
	total := 0
	for {
		chunk, e := br.ReadSlice('\n')
		total += len(chunk)
		if room := max - len(line); room > 0 {
			line = append(line, chunk[:min(room, len(chunk))]...)
		}
		if e != bufio.ErrBufferFull {
			err = e
			break
		}
	}
	trimmed := 0
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line, trimmed = line[:n-1], 1
	}
	for n := len(line); n > 0 && line[n-1] == '\r'; n-- {
		line, trimmed = line[:n-1], trimmed+1 // CR CR LF from broken converters
	}
	return line, total-trimmed > len(line), err
}

// mimeReadHeader reads a header block (RFC 5322 section 2.2) up to its blank
// line or the end of input. It never fails: long fields are truncated,
// malformed lines skipped, and a leading mbox "From " line ignored, each noted
// in pr.
func mimeReadHeader(br *bufio.Reader, pr *mimeProblems, where string) mimeHeader {
	return mimeReadHeaderOf(br, pr, where, nil)
}

// mimeReadHeaderOf is mimeReadHeader keeping only the fields whose name
// want accepts (all when want is nil). The others are read and counted
// against the header limits as before, but never copied.
func mimeReadHeaderOf(br *bufio.Reader, pr *mimeProblems, where string, want func(key []byte) bool) mimeHeader {
	var (
		h                     mimeHeader
		cur, buf              []byte
		inField               bool
		kept, bad, long, lost int
	)
	if !mimeStartsWithHeader(br) {
		pr.add("%sno header; read as body", where)
		return nil
	}
	flush := func() {
		if !inField {
			return
		}
		inField = false
		i := bytes.IndexByte(cur, ':')
		if i <= 0 || !mimeValidKey(bytes.TrimRight(cur[:i], " \t")) {
			bad++
			return
		}
		if kept += len(cur); kept > mimeMaxHeader {
			lost++
			return
		}
		kb := bytes.TrimRight(cur[:i], " \t")
		if want != nil && !want(kb) {
			return
		}
		key := mimeKey(kb)
		h = append(h, mimeHeaderField{key: key, value: string(bytes.TrimSpace(cur[i+1:]))})
	}
	for first := true; ; first = false {
		line, isLong, err := mimeReadLine(br, mimeMaxField, buf)
		buf = line
		if isLong {
			long++
		}
		if len(line) == 0 && (err != nil || !isLong) {
			break // blank line or end of input
		}
		switch {
		case first && bytes.HasPrefix(line, []byte("From ")):
			// mbox separator line
		case line[0] == ' ' || line[0] == '\t':
			switch {
			case !inField:
				bad++
			case len(cur)+len(line) > mimeMaxField:
				long++
			default:
				cur = append(cur, line...)
			}
		default:
			flush()
			cur, inField = append(cur[:0], line...), true
		}
		if err != nil {
			break
		}
	}
	flush()
	if long > 0 {
		pr.add("%sheader field longer than %d KiB truncated", where, mimeMaxField>>10)
	}
	if bad > 0 {
		pr.add("%smalformed header lines ignored", where)
	}
	if lost > 0 {
		pr.add("%sheader larger than %d KiB; %d fields ignored", where, mimeMaxHeader>>10, lost)
	}
	return h
}

// mimeStartsWithHeader reports whether the input starts with a header field,
// a blank line (an empty header), an mbox "From " line, or nothing at all.
func mimeStartsWithHeader(br *bufio.Reader) bool {
	head, _ := br.Peek(mimeBufSize)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	head = bytes.TrimSuffix(head, []byte("\r"))
	if len(head) == 0 || bytes.HasPrefix(head, []byte("From ")) {
		return true
	}
	i := bytes.IndexByte(head, ':')
	return i > 0 && mimeValidKey(bytes.TrimRight(head[:i], " \t"))
}

// mimeValidKey reports a field name of printable ASCII without colon
// (RFC 5322 section 3.6.8).
func mimeValidKey(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// mimeParseParams parses a Content-Type or Content-Disposition value: the
// lower-cased type and its parameters, RFC 2231 and (against the RFCs, but
// common) RFC 2047 encoded values decoded. What stdmime.ParseMediaType rejects
// or leaves out is recovered leniently. ok is false without a usable type.
func mimeParseParams(v string, pr *mimeProblems, where string) (t string, params map[string]string, ok bool) {
	t, params, err := stdmime.ParseMediaType(v)
	if err != nil || strings.Contains(v, "*") {
		loose := mimeLooseParams(v)
		if params == nil {
			params = map[string]string{}
		}
		for k, val := range loose {
			if _, have := params[k]; !have {
				params[k] = val
			}
		}
		if t == "" {
			t, _, _ = strings.Cut(v, ";")
			t = strings.ToLower(strings.TrimSpace(t))
		}
	}
	wd := mimeWordDecoder(pr, where)
	for _, k := range []string{"name", "filename"} {
		if val, have := params[k]; have {
			params[k] = mimeHeaderText(val, wd)
		}
	}
	typ, sub, found := strings.Cut(t, "/")
	ok = found && mimeToken(typ) && mimeToken(sub)
	return t, params, ok
}

// mimeToken reports an RFC 2045 section 5.1 token.
func mimeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// mimeLooseParams splits "type; k=v; k2*=utf-8”x" by hand, including
// RFC 2231 continuations and charsets stdmime.ParseMediaType does not decode.
func mimeLooseParams(v string) map[string]string {
	type seg struct {
		n   int
		val string
		ext bool
	}
	out := map[string]string{}
	segs := map[string][]seg{}
	for i, item := range mimeSplitOutsideQuotes(v, ';') {
		k, val, found := strings.Cut(item, "=")
		if i == 0 || !found {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = strings.ReplaceAll(val[1:len(val)-1], `\"`, `"`)
		}
		name, rest, star := strings.Cut(k, "*")
		if !star {
			out[k] = val
			continue
		}
		num := strings.TrimSuffix(rest, "*")
		n, err := strconv.Atoi(num)
		if num == "" {
			n, err = 0, nil
		}
		if err == nil && n >= 0 && n < 1000 {
			segs[name] = append(segs[name], seg{n: n, val: val, ext: rest == "" || strings.HasSuffix(rest, "*")})
		}
	}
	for name, ss := range segs {
		slices.SortStableFunc(ss, func(a, b seg) int { return a.n - b.n })
		var label string
		var raw []byte
		for i, s := range ss {
			if !s.ext {
				raw = append(raw, s.val...)
				continue
			}
			val := s.val
			if i == 0 {
				if cs, rest, ok := strings.Cut(val, "'"); ok {
					if _, after, ok := strings.Cut(rest, "'"); ok {
						label, val = cs, after
					}
				}
			}
			raw = append(raw, mimePercentDecode(val)...)
		}
		out[name] = mimeCharsetText(raw, label, &mimeProblems{}, "")
	}
	return out
}

func mimePercentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && mimeIsHex(s[i+1]) && mimeIsHex(s[i+2]) {
			out = append(out, mimeUnhex(s[i+1])<<4|mimeUnhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// mimeSplitOutsideQuotes splits s at sep where sep is not inside a quoted
// string, angle brackets or a comment.
func mimeSplitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, escaped, depth, start := false, false, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '<':
			depth++
		case (c == ')' || c == '>') && depth > 0:
			depth--
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// mimeWordDecoder decodes RFC 2047 encoded words; an unknown charset is read
// as mimeFallbackText would and noted in pr.
func mimeWordDecoder(pr *mimeProblems, where string) *stdmime.WordDecoder {
	return &stdmime.WordDecoder{CharsetReader: func(label string, in io.Reader) (io.Reader, error) {
		raw, err := io.ReadAll(in)
		if err != nil {
			return nil, fmt.Errorf("read encoded word: %w", err)
		}
		if enc, err := mimeEncoding(label); err == nil {
			// A *bytes.Reader: its WriteTo lets the WordDecoder's io.Copy
			// skip allocating a 32 KiB buffer for every encoded word.
			out, err := mimeDecode(nil, enc, raw)
			if err != nil {
				return nil, fmt.Errorf("decode encoded word: %w", err)
			}
			return bytes.NewReader(out), nil
		}
		s, as := mimeFallbackText(raw)
		pr.add("%sunknown charset %q in header; read as %s", where, mimeShort(label), as)
		return strings.NewReader(s), nil
	}}
}

// mimeHeaderText decodes a header value for display: raw 8-bit bytes that
// are not UTF-8 are read as windows-1252, encoded words are decoded, and the
// result is one clean line.
func mimeHeaderText(v string, wd *stdmime.WordDecoder) string {
	if !utf8.ValidString(v) {
		v = mimeWindows1252([]byte(v))
	}
	if s, err := wd.DecodeHeader(v); err == nil {
		v = s
	}
	return mimeSanitizeLine(v)
}

// mimeEnvelope decodes the envelope fields of h (RFC 5322 section 3.6).
func mimeEnvelope(h mimeHeader, pr *mimeProblems) Envelope {
	wd := mimeWordDecoder(pr, "")
	env := Envelope{
		Subject:    mimeHeaderText(h.get("Subject"), wd),
		From:       mimeAddresses(h, "From", wd, pr),
		Sender:     mimeAddresses(h, "Sender", wd, pr),
		ReplyTo:    mimeAddresses(h, "Reply-To", wd, pr),
		To:         mimeAddresses(h, "To", wd, pr),
		Cc:         mimeAddresses(h, "Cc", wd, pr),
		Bcc:        mimeAddresses(h, "Bcc", wd, pr),
		InReplyTo:  mimeMsgIDs(h.get("In-Reply-To")),
		References: mimeMsgIDs(h.get("References")),
	}
	if ids := mimeMsgIDs(h.get("Message-Id")); len(ids) > 0 {
		env.MessageID = ids[0]
	}
	if v := h.get("Date"); v != "" {
		t, ok := mimeParseDate(v)
		if !ok {
			pr.add("unparseable Date %q", mimeShort(mimeSanitizeLine(v)))
		}
		env.Date = t
	}
	return env
}

// mimeMsgIDs extracts message ids without angle brackets (RFC 5322 section
// 3.6.4), leniently: any "<...>", else words with an "@". Duplicates are
// dropped.
func mimeMsgIDs(v string) []string {
	var ids []string
	add := func(id string) {
		id = mimeSanitizeLine(id)
		id = strings.Join(strings.Fields(id), "")
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+1:], '>')
		if j < 0 {
			break
		}
		add(rest[i+1 : i+1+j])
		rest = rest[i+2+j:]
	}
	if len(ids) == 0 {
		for _, f := range strings.Fields(v) {
			if strings.Contains(f, "@") {
				add(strings.Trim(f, "<>,;\"'()"))
			}
		}
	}
	return ids
}

// mimeAddresses parses an address list field (RFC 5322 section 3.4); what
// net/mail rejects is read one address at a time, leniently.
func mimeAddresses(h mimeHeader, key string, wd *stdmime.WordDecoder, pr *mimeProblems) []Address {
	v := strings.TrimSpace(h.get(key))
	if v == "" {
		return nil
	}
	if !utf8.ValidString(v) {
		v = mimeWindows1252([]byte(v))
	}
	p := mail.AddressParser{WordDecoder: wd}
	list, err := p.ParseList(v)
	if err != nil {
		pr.add("malformed %s address list; read leniently", key)
		list = nil
		for _, item := range mimeSplitOutsideQuotes(v, ',') {
			if a, err := p.Parse(item); err == nil {
				list = append(list, a)
			} else if a, ok := mimeLooseAddress(item, wd); ok {
				list = append(list, a)
			}
		}
	}
	out := make([]Address, 0, len(list))
	for _, a := range list {
		addr := Address{Name: mimeSanitizeLine(a.Name), Addr: mimeSanitizeLine(a.Address)}
		if addr.Name != "" || addr.Addr != "" {
			out = append(out, addr)
		}
	}
	return out
}

// mimeLooseAddress makes what it can of one malformed address: the part in
// angle brackets, else a word with "@", else a bare word; the rest is the
// name.
func mimeLooseAddress(s string, wd *stdmime.WordDecoder) (*mail.Address, bool) {
	s = strings.TrimSpace(s)
	if _, after, ok := strings.Cut(s, ":"); ok && !strings.Contains(s[:strings.Index(s, ":")], "<") {
		s = strings.TrimSpace(strings.TrimSuffix(after, ";")) // group syntax
	}
	if s == "" {
		return nil, false
	}
	a := &mail.Address{}
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		a.Address = strings.TrimSpace(strings.TrimRight(s[i+1:], "> \t"))
		a.Name = strings.TrimSpace(s[:i])
	} else {
		for _, f := range strings.Fields(s) {
			if strings.Contains(f, "@") {
				a.Address = strings.Trim(f, "()\"'")
				break
			}
		}
		if a.Address == "" && !strings.ContainsAny(s, " \t") {
			a.Address = s
		}
		if a.Address != "" {
			a.Name = strings.TrimSpace(strings.ReplaceAll(s, a.Address, ""))
		}
		a.Name = strings.Trim(a.Name, "() \t")
	}
	a.Name = mimeHeaderText(strings.Trim(a.Name, "\" \t"), wd)
	return a, a.Address != "" || a.Name != ""
}
