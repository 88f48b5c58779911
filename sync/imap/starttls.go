package imapsync

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// The connection is set up here, below the library: TCP, TLS (implicit,
// or after our own STARTTLS), each step with the connect timeout; then
// the library reads the greeting through the guard (guard.go).
//
// STARTTLS is ours rather than the library's because the library puts
// TLS under itself and above the connection it was given, where the guard
// would see only ciphertext. After the upgrade the library is handed a
// stand-in greeting (tlsGreeting): RFC 9051 section 6.2.1 has the client
// forget what it learnt before TLS, and the library asks for the
// capabilities again when a greeting carries none.

// tlsGreeting is the greeting the library reads after our STARTTLS.
const tlsGreeting = "* OK [letterbox] TLS started\r\n"

// preTLSLine bounds a line read before TLS (greeting, STARTTLS reply).
const preTLSLine = 64 << 10

// handshake runs the TLS handshake on raw within the connect timeout.
func handshake(ctx context.Context, raw net.Conn, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	if timeout > 0 {
		raw.SetDeadline(time.Now().Add(timeout))
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			return nil, lbsync.Timeout("TLS handshake not finished within", timeout)
		}
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	return tc, nil
}

// startTLS reads the greeting, sends STARTTLS (RFC 9051 section 6.2.1)
// and starts TLS on its OK. A server that refuses it, or greets with
// PREAUTH (nothing could then be protected), is refused: nothing but
// STARTTLS is ever sent in clear. Data the server sent after its OK and
// before the handshake could have been injected on the way, and is an
// error.
func startTLS(ctx context.Context, raw net.Conn, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	br := bufio.NewReaderSize(raw, 4096)
	deadline := func() {
		if timeout > 0 {
			raw.SetDeadline(time.Now().Add(timeout))
		}
	}
	deadline()
	greet, err := readPlainLine(br)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			return nil, lbsync.Timeout("no greeting within", timeout)
		}
		return nil, err
	}
	switch word := strings.ToUpper(field(greet, 1)); {
	case field(greet, 0) != "*":
		return nil, &wireError{fmt.Sprintf("greeting %q is not an IMAP greeting", clip(greet))}
	case word == "PREAUTH":
		return nil, lbsync.E("", lbsync.Permanent, errors.New("server greets with PREAUTH: STARTTLS is impossible, refusing to go on without TLS"))
	case word == "BYE":
		return nil, lbsync.E("", lbsync.Temporary, fmt.Errorf("server says %q", clip(greet)))
	case word != "OK":
		return nil, &wireError{fmt.Sprintf("greeting %q is not an IMAP greeting", clip(greet))}
	}
	deadline()
	if _, err := raw.Write([]byte("S1 STARTTLS\r\n")); err != nil {
		return nil, err
	}
	for n := 0; ; n++ {
		line, err := readPlainLine(br)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				return nil, lbsync.Timeout("no reply to STARTTLS within", timeout)
			}
			return nil, err
		}
		if field(line, 0) == "*" && n < 100 {
			continue // untagged data, such as CAPABILITY
		}
		if field(line, 0) != "S1" {
			return nil, &wireError{fmt.Sprintf("unexpected reply to STARTTLS: %q", clip(line))}
		}
		if !strings.EqualFold(field(line, 1), "OK") {
			return nil, lbsync.E("", lbsync.Permanent, fmt.Errorf("server refuses STARTTLS (%q): refusing to go on without TLS", clip(line)))
		}
		break
	}
	if br.Buffered() > 0 {
		return nil, &wireError{"server sent data between STARTTLS and the TLS handshake"}
	}
	return handshake(ctx, raw, cfg, timeout)
}

// readPlainLine reads one line of at most preTLSLine octets, without its
// line end.
func readPlainLine(br *bufio.Reader) (string, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > preTLSLine {
			return "", &wireError{fmt.Sprintf("server line longer than %s: hostile or broken server", size(preTLSLine))}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// field returns the i-th space-separated word of line, or "".
func field(line string, i int) string {
	f := strings.Fields(line)
	if i < len(f) {
		return f[i]
	}
	return ""
}

// clip shortens a server line for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
