package sync

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
)

// Classify is the one classifier of network, TLS and context errors, for
// the three protocol clients. In order:
//
//   - a cancelled context is Cancelled: the caller asked to stop;
//   - a certificate that does not verify (unknown authority, wrong host
//     name, expired), a TLS alert from the server (it refused our
//     handshake: versions, ciphers) and an ECH rejection are Permanent:
//     retrying does not change a certificate or a configuration;
//   - a server that does not speak TLS where TLS was asked for (the first
//     record is not TLS: a plain-text port) is Protocol;
//   - a timeout (a network deadline, a context deadline) is Temporary;
//   - a connection refused, reset, aborted or cut (EOF in the middle of a
//     command, a write to a closed pipe), an unreachable host or network
//     and every DNS failure are Temporary: that is what an offline laptop
//     or a restarting server looks like. A name that does not resolve is
//     Temporary too, as captive portals and split VPN resolvers answer
//     "no such host" for names that will resolve later;
//   - any other net.Error is Temporary;
//   - everything else is Other.
//
// A TLS handshake cut by the network is therefore Temporary, and one
// that fails on the certificate is not.
func Classify(err error) Kind {
	if err == nil {
		return Other
	}
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		alert    tls.AlertError
		ech      *tls.ECHRejectionError
		record   tls.RecordHeaderError
		netErr   net.Error
		errnoErr syscall.Errno
	)
	switch {
	case errors.Is(err, context.Canceled):
		return Cancelled
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid),
		errors.As(err, &alert), errors.As(err, &ech), tlsAlert(err):
		return Permanent
	case errors.As(err, &record):
		return Protocol
	case IsTimeout(err):
		return Temporary
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return Temporary
	case errors.As(err, &errnoErr) && temporaryErrno(errnoErr):
		return Temporary
	case errors.As(err, &netErr) && !isErrno(netErr):
		return Temporary
	}
	return Other
}

// isErrno reports a bare socket error: syscall.Errno has the methods of
// net.Error, but only the errnos of temporaryErrno are a network failure.
func isErrno(err net.Error) bool {
	_, ok := err.(syscall.Errno)
	return ok
}

// tlsAlert reports a TLS alert the server sent: crypto/tls returns it as
// a *net.OpError of Op "remote error" (AlertError is only for QUIC and
// for alerts we sent).
func tlsAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// temporaryErrno reports the socket errors of a network that is down or
// a peer that went away.
func temporaryErrno(e syscall.Errno) bool {
	switch e {
	case syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN,
		syscall.EHOSTDOWN, syscall.ENETRESET, syscall.EADDRNOTAVAIL:
		return true
	}
	return false
}
