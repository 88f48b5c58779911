package submit

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"syscall"
	"testing"

	"github.com/emersion/go-smtp"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

func TestClassify(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	tests := []struct {
		name     string
		ctx      context.Context
		stage    string
		err      error
		code     int
		enhanced string
		kind     lbsync.Kind
		text     string
	}{
		{name: "4xx reply", ctx: bg, stage: StageRcpt, err: &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "full"},
			code: 452, enhanced: "4.2.2", kind: lbsync.Temporary, text: "smtp rcpt: 452 4.2.2 full"},
		{name: "5xx reply without enhanced code", ctx: bg, stage: StageData, err: &smtp.SMTPError{Code: 554, Message: "no"},
			code: 554, kind: lbsync.Permanent, text: "smtp data: 554 no"},
		{name: "auth rejected", ctx: bg, stage: StageAuth, err: smtp.ErrAuthFailed, code: 535, enhanced: "5.7.8", kind: lbsync.Auth},
		{name: "auth temporarily unavailable", ctx: bg, stage: StageAuth, err: &smtp.SMTPError{Code: 454, Message: "try later"},
			code: 454, kind: lbsync.Temporary},
		{name: "textproto reply", ctx: bg, stage: StageTLS, err: &textproto.Error{Code: 454, Msg: "4.7.0 TLS not available"},
			code: 454, enhanced: "4.7.0", kind: lbsync.Temporary, text: "smtp tls: 454 4.7.0 TLS not available"},
		{name: "refused", ctx: bg, stage: StageConnect, err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, kind: lbsync.Temporary},
		{name: "dns failure while connecting", ctx: bg, stage: StageConnect, err: &net.DNSError{Err: "no such host", Name: "x"}, kind: lbsync.Temporary},
		{name: "reset mid data", ctx: bg, stage: StageData, err: fmt.Errorf("write: %w", syscall.ECONNRESET), kind: lbsync.Temporary},
		{name: "eof", ctx: bg, stage: StageMail, err: io.EOF, kind: lbsync.Temporary},
		{name: "timeout", ctx: bg, stage: StageData, err: os.ErrDeadlineExceeded, kind: lbsync.Temporary},
		{name: "untrusted certificate", ctx: bg, stage: StageTLS, err: x509.UnknownAuthorityError{}, kind: lbsync.Permanent},
		{name: "canceled", ctx: canceled, stage: StageData, err: net.ErrClosed, kind: lbsync.Cancelled},
		{name: "local error", ctx: bg, stage: StageMail, err: errors.New("smtp: server does not support SMTPUTF8")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := classify(tt.ctx, tt.stage, tt.err)
			if e.Stage != tt.stage || e.Code != tt.code || e.Enhanced != tt.enhanced || e.Kind != tt.kind {
				t.Errorf("classify = %+v; want code %d enhanced %q kind %v", e, tt.code, tt.enhanced, tt.kind)
			}
			if got := errors.Is(e, lbsync.ErrAuth); got != (tt.kind == lbsync.Auth) {
				t.Errorf("errors.Is(ErrAuth) = %v", got)
			}
			if !errors.Is(e, tt.err) {
				t.Errorf("the cause %v is not wrapped", tt.err)
			}
			if tt.text != "" && e.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", e.Error(), tt.text)
			}
			wrapped := fmt.Errorf("flush: %w", e)
			if lbsync.KindOf(wrapped) != tt.kind || lbsync.IsTemporary(wrapped) != (tt.kind == lbsync.Temporary) {
				t.Errorf("KindOf(wrapped) = %v", lbsync.KindOf(wrapped))
			}
			if again := classify(tt.ctx, StageConnect, wrapped); again != e {
				t.Errorf("classify of an *Error made a new one")
			}
		})
	}
	if errors.Is(canceled.Err(), context.Canceled) && !errors.Is(classify(canceled, StageData, net.ErrClosed), context.Canceled) {
		t.Error("a canceled flush does not match context.Canceled")
	}
}

func TestMessageLevel(t *testing.T) {
	tests := []struct {
		e    Error
		want bool
	}{
		{Error{Stage: StageRcpt, Code: 550}, true},
		{Error{Stage: StageData, Code: 554}, true},
		{Error{Stage: StageMail, Code: 0}, true},
		{Error{Stage: StageRcpt, Code: 452, Kind: lbsync.Temporary}, false},
		{Error{Stage: StageData, Kind: lbsync.Cancelled}, false},
		{Error{Stage: StageAuth, Code: 535}, false},
		{Error{Stage: StageTLS}, false},
		{Error{Stage: StageConnect, Code: 554}, false},
	}
	for _, tt := range tests {
		if got := tt.e.messageLevel(); got != tt.want {
			t.Errorf("%+v messageLevel = %v, want %v", tt.e, got, tt.want)
		}
	}
}
