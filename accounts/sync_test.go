package accounts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	lbsync "github.com/letterbox-mail/letterbox/sync"
	"github.com/letterbox-mail/letterbox/sync/pop3"
	"github.com/letterbox-mail/letterbox/sync/submit"
)

// TestTemporary: one rule over the errors of the three protocol packages.
func TestTemporary(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"imap cut", &lbsync.Error{Op: "imap fetch INBOX", Kind: lbsync.Temporary, Err: io.ErrUnexpectedEOF}, true},
		{"imap login refused", fmt.Errorf("work: %w", &lbsync.Error{Op: "imap login", Kind: lbsync.Auth, Err: errors.New("NO")}), false},
		{"pop3 busy", fmt.Errorf("pop3 x: %w", &pop3.ServerError{Cmd: "PASS", Code: "SYS/TEMP"}), true},
		{"pop3 wrong password", &pop3.ServerError{Cmd: "PASS"}, false},
		{"smtp 4xx", &submit.Error{Stage: submit.StageRcpt, Code: 452, Kind: lbsync.Temporary}, true},
		{"smtp 5xx", &submit.Error{Stage: submit.StageData, Code: 554, Kind: lbsync.Permanent}, false},
		{"offline", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{"cancelled", context.Canceled, true},
		{"local", errors.New("disk full"), false},
	} {
		if got := Temporary(tc.err); got != tc.want {
			t.Errorf("%s: Temporary(%v) = %v", tc.name, tc.err, got)
		}
	}
	if !errors.Is(&pop3.ServerError{Cmd: "PASS"}, ErrAuth) {
		t.Error("a refused POP3 login is not ErrAuth")
	}
}
