package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/server"
)

// letterbox serve (the administration subcommands are in
// cmd_serve_admin.go).

type serveFlags struct {
	dev, logJSON                               bool
	hostname, domains, cert, key, cpuProfile   string
	smtp, submission, smtps, imap, imaps, pop3 string
	pop3s                                      string
	// Limits that are also in server.toml's [limits].
	maxConns         int
	exemptLoopback   bool
	handshakeTimeout time.Duration
}

func serveCmd(e *env) *cobra.Command { return newServeCmd(e, &serveFlags{}) }

// newServeCmd is serve with its flags parsed into f.
func newServeCmd(e *env, f *serveFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the mail server (SMTP, IMAP, POP3); user, queue and dkim administration",
		Long: `Run one daemon speaking SMTP, IMAP and POP3 over per-user stores under
DATA/mail/<address>/. Settings come from --config server.toml
(docs/server.toml is the annotated example: limits, timeouts, queue,
DKIM), then from the flags. SIGTERM or SIGINT stops accepting, lets
sessions finish (30 s) and exits 0.

--dev listens on 127.0.0.1 only (SMTP 2525, submission 2587, SMTPS 2465,
IMAP 2143, IMAPS 2993, POP3 2110, POP3S 2995), uses a self-signed
certificate in DATA/tls, creates alice@example.test/alice and
bob@example.test/bob with sample mail, and allows plain-text logins.`,
		Example: `  letterbox serve --dev --data /tmp/lb-server
  letterbox serve --config /etc/letterbox/server.toml --data /var/lib/letterbox`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := serveConfig(cmd, e, *f)
			if err == nil {
				err = runServe(cmd.Context(), e, cfg, *f)
			}
			// A file it names (--config, the certificate and key, the
			// DKIM key) that is not there: exit 3.
			if errors.Is(err, os.ErrNotExist) {
				return notFoundError{err}
			}
			return err
		},
	}
	fs := c.Flags()
	fs.BoolVar(&f.dev, "dev", false, "development mode: loopback ports, self-signed certificate, demo users")
	fs.StringVar(&f.hostname, "hostname", "", "server host `NAME` (default: the machine's)")
	fs.StringVar(&f.domains, "domains", "", "local mail `DOMAINS`, comma-separated")
	fs.StringVar(&f.cert, "tls-cert", "", "TLS certificate `FILE` (PEM chain)")
	fs.StringVar(&f.key, "tls-key", "", "TLS key `FILE` (PEM)")
	fs.BoolVar(&f.logJSON, "log-json", false, "log as JSON lines")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE` until shutdown (performance work)")
	for _, l := range []struct {
		dst        *string
		name, what string
		prod, dev  string
	}{
		{&f.smtp, "smtp", "SMTP (MX)", server.ProductionListen.SMTP, server.DevListen.SMTP},
		{&f.submission, "submission", "submission (STARTTLS)", server.ProductionListen.Submission, server.DevListen.Submission},
		{&f.smtps, "smtps", "submission over TLS", server.ProductionListen.SMTPS, server.DevListen.SMTPS},
		{&f.imap, "imap", "IMAP (STARTTLS)", server.ProductionListen.IMAP, server.DevListen.IMAP},
		{&f.imaps, "imaps", "IMAP over TLS", server.ProductionListen.IMAPS, server.DevListen.IMAPS},
		{&f.pop3, "pop3", "POP3 (STLS)", server.ProductionListen.POP3, server.DevListen.POP3},
		{&f.pop3s, "pop3s", "POP3 over TLS", server.ProductionListen.POP3S, server.DevListen.POP3S},
	} {
		fs.StringVar(l.dst, l.name+"-addr", "", fmt.Sprintf("listen `ADDR` for %s (default %s, %s with --dev; \"\" disables it)", l.what, l.prod, l.dev))
	}
	fs.IntVar(&f.maxConns, "max-connections", 0, "cap on open connections of all listeners together, counted before the TLS handshake (default: 3/4 of the open-file limit)")
	fs.BoolVar(&f.exemptLoopback, "exempt-loopback", false, "lift the per-IP connection caps for loopback clients (default: true with --dev, false otherwise)")
	fs.DurationVar(&f.handshakeTimeout, "handshake-timeout", 0, "deadline of a TLS handshake, implicit or STARTTLS; at most 30s (default 30s)")
	c.AddCommand(serveUserCmd(e), serveQueueCmd(e), serveDKIMCmd(e))
	return c
}

// serveConfig is server.toml (--config) with the flags given on top.
func serveConfig(cmd *cobra.Command, e *env, f serveFlags) (*server.Config, error) {
	cfg := &server.Config{}
	if e.configFile != "" {
		c, err := server.LoadConfig(e.configFile)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	if f.dev {
		cfg.Dev = true
	}
	if f.hostname != "" {
		cfg.Hostname = f.hostname
	}
	if f.domains != "" {
		cfg.Domains = strings.Split(f.domains, ",")
	}
	if f.cert != "" || f.key != "" {
		cfg.TLS.Cert, cfg.TLS.Key = f.cert, f.key
	}
	for _, l := range []struct {
		name string
		dst  *string
		v    string
	}{
		{"smtp", &cfg.Listen.SMTP, f.smtp}, {"submission", &cfg.Listen.Submission, f.submission},
		{"smtps", &cfg.Listen.SMTPS, f.smtps}, {"imap", &cfg.Listen.IMAP, f.imap}, {"imaps", &cfg.Listen.IMAPS, f.imaps},
		{"pop3", &cfg.Listen.POP3, f.pop3}, {"pop3s", &cfg.Listen.POP3S, f.pop3s},
	} {
		if !cmd.Flags().Changed(l.name + "-addr") {
			continue
		}
		*l.dst = l.v
		if l.v == "" {
			*l.dst = "off"
		}
	}
	if cmd.Flags().Changed("max-connections") {
		cfg.Limits.MaxConnections = f.maxConns
	}
	if cmd.Flags().Changed("exempt-loopback") {
		v := f.exemptLoopback
		cfg.Limits.ExemptLoopback = &v
	}
	if cmd.Flags().Changed("handshake-timeout") {
		cfg.Limits.HandshakeTimeout.Duration = f.handshakeTimeout
	}
	if e.dataDir != "" || cfg.Data == "" {
		d, err := e.serverData()
		if err != nil {
			return nil, err
		}
		cfg.Data = d
	}
	if err := cfg.Finish(); err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

// runServe runs the server until ctx ends, then shuts it down.
func runServe(ctx context.Context, e *env, cfg *server.Config, f serveFlags) error {
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return err
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	tuneGC(e.getenv)
	var h slog.Handler = slog.NewTextHandler(e.stderr, nil)
	if f.logJSON {
		h = slog.NewJSONHandler(e.stderr, nil)
	}
	log := slog.New(h)
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	if cfg.Dev {
		seeded, err := srv.SeedDev(ctx)
		if err != nil {
			srv.Close()
			return err
		}
		if seeded {
			log.Info("dev: created demo users with sample mail")
		}
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	srv.Banner(e.stdout)
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// tuneGC sets the daemon's garbage collector unless GOGC or GOMEMLIMIT
// say otherwise. A busy MX makes tens of kilobytes of garbage per message
// over a live heap of a few megabytes, so at the default GOGC=100 the
// collector ran many times a second; at 400 (heap goal 5× the live heap)
// deliveries go about 7% faster (bench/smtp.sh), for a few more megabytes.
// The soft limit (128 MiB of Go memory) keeps a large live heap from
// growing 5×: 200 IDLE sessions on a 40,000-message INBOX
// (bench/server.sh row 4) must stay under 300 MB.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
	}
}
