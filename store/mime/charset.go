package mime

// Charset decoding without transform.Reader: go-message's charset.Reader
// wraps each decoder in a transform.Reader with two 4 KiB buffers, which
// for a 20-byte encoded word or a 5 KB text part cost more than the text.
// Here the decoder is looked up the way charset.Reader looks it up and run
// over the whole input at once (FuzzCharsetDecode holds the two to the
// same output).

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// mimeEncoding returns the encoding of charset label as
// github.com/emersion/go-message/charset.Reader (v0.18) finds it: its two
// quirks, then the IANA MIME names, the same with "cs" before them, then
// the WHATWG labels.
func mimeEncoding(label string) (encoding.Encoding, error) {
	var (
		enc encoding.Encoding
		err error
	)
	switch strings.ToLower(label) {
	case "ansi_x3.110-1983":
		enc = charmap.ISO8859_1 // RFC 1345 page 62, mostly a superset of ISO 8859-1
	case "x-utf_8j":
		enc = unicode.UTF8
	default:
		enc, err = ianaindex.MIME.Encoding(label)
	}
	if enc == nil {
		enc, err = ianaindex.MIME.Encoding("cs" + label)
	}
	if enc == nil {
		enc, err = htmlindex.Get(label)
	}
	if err != nil {
		return nil, fmt.Errorf("charset %q: %v", label, err)
	}
	if enc == nil {
		return nil, fmt.Errorf("charset %q: unsupported charset", label)
	}
	return enc, nil
}

// mimeDecode appends src decoded by enc to dst[:0], reusing its memory.
// On a decoding error it returns what was decoded before it.
func mimeDecode(dst []byte, enc encoding.Encoding, src []byte) ([]byte, error) {
	dec := enc.NewDecoder()
	dst = dst[:0]
	if cap(dst) < len(src)+16 {
		dst = make([]byte, 0, len(src)+len(src)/2+16)
	}
	for {
		nDst, nSrc, err := dec.Transform(dst[len(dst):cap(dst)], src, true)
		dst, src = dst[:len(dst)+nDst], src[nSrc:]
		if err != transform.ErrShortDst {
			return dst, err
		}
		dst = append(dst, make([]byte, max(cap(dst), 64))...)[:len(dst)] // grow
	}
}
