package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/server/queue"
	"github.com/letterbox-mail/letterbox/server/users"
)

func runServe(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "user":
			return serveUser(ctx, e, args[1:])
		case "queue":
			return serveQueue(ctx, e, args[1:])
		case "dkim":
			return serveDKIM(ctx, e, args[1:])
		}
	}
	fs := e.newFlagSet("serve", "serve [--dev] [--data DIR] [--config server.toml] [flags]\n       letterbox serve user|queue|dkim ...")
	dev := fs.Bool("dev", false, "development mode: loopback ports 2525/2587/2465/2143/2993/2110/2995, self-signed certificate, demo users")
	hostname := fs.String("hostname", "", "server host name (default: the machine's)")
	domains := fs.String("domains", "", "local mail domains, comma-separated")
	certFile := fs.String("tls-cert", "", "TLS certificate `FILE` (PEM chain)")
	keyFile := fs.String("tls-key", "", "TLS key `FILE` (PEM)")
	logJSON := fs.Bool("log-json", false, "log as JSON lines")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `FILE` until shutdown (performance work)")
	addr := map[string]*string{}
	for _, n := range []string{"smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s"} {
		addr[n] = fs.String(n+"-addr", "\x00", "listen `ADDR` for "+n+" (empty disables it)")
	}
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArgs(fs.Name(), pos); err != nil {
		return err
	}
	cfg := &server.Config{}
	if e.configFile != "" {
		c, err := server.LoadConfig(e.configFile)
		if err != nil {
			return err
		}
		cfg = c
	}
	if *dev {
		cfg.Dev = true
	}
	if *hostname != "" {
		cfg.Hostname = *hostname
	}
	if *domains != "" {
		cfg.Domains = strings.Split(*domains, ",")
	}
	if *certFile != "" || *keyFile != "" {
		cfg.TLS.Cert, cfg.TLS.Key = *certFile, *keyFile
	}
	set := func(dst *string, v string) {
		if v != "\x00" {
			*dst = v
			if v == "" {
				*dst = "off"
			}
		}
	}
	set(&cfg.Listen.SMTP, *addr["smtp"])
	set(&cfg.Listen.Submission, *addr["submission"])
	set(&cfg.Listen.SMTPS, *addr["smtps"])
	set(&cfg.Listen.IMAP, *addr["imap"])
	set(&cfg.Listen.IMAPS, *addr["imaps"])
	set(&cfg.Listen.POP3, *addr["pop3"])
	set(&cfg.Listen.POP3S, *addr["pop3s"])
	if e.dataDir != "" || cfg.Data == "" {
		d, err := serverData(e)
		if err != nil {
			return err
		}
		cfg.Data = d
	}
	if err := cfg.Finish(); err != nil {
		return usageError{err.Error()}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	tuneGC(os.Getenv)
	var h slog.Handler = slog.NewTextHandler(e.stderr, nil)
	if *logJSON {
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

// serverData is the server's data directory: --data, else DATA/server.
func serverData(e *env) (string, error) {
	if e.dataDir != "" {
		return e.dataDir, nil
	}
	d, err := e.dataHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "server"), nil
}

// adminArgs parses an administration subcommand's flags and returns its
// positional arguments and the server's data directory.
func adminArgs(e *env, fs *flag.FlagSet, args []string) (pos []string, dir string, err error) {
	if pos, err = parseFlags(fs, args); err != nil {
		return nil, "", err
	}
	dir, err = serverData(e)
	return pos, dir, err
}

func serveUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"serve user: want add|passwd|del|list"}
	}
	sub := args[0]
	fs := e.newFlagSet("serve user "+sub, "serve user add|passwd|del|list [--data DIR] [--password-stdin] [ADDRESS]")
	stdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	pos, dir, err := adminArgs(e, fs, args[1:])
	if err != nil {
		return err
	}
	db, err := users.Open(dir)
	if err != nil {
		return err
	}
	need := func() (string, error) {
		if len(pos) != 1 {
			return "", usageError{"serve user " + sub + ": want one ADDRESS"}
		}
		return pos[0], nil
	}
	switch sub {
	case "list":
		list, err := db.List()
		if err != nil {
			return err
		}
		for _, u := range list {
			fmt.Fprintln(e.stdout, u)
		}
		return nil
	case "add", "passwd":
		addr, err := need()
		if err != nil {
			return err
		}
		pw, err := readPassword(e, *stdin, "password for "+addr)
		if err != nil {
			return err
		}
		if sub == "add" {
			err = db.Add(addr, pw)
		} else {
			err = db.SetPassword(addr, pw)
		}
		if errors.Is(err, users.ErrNotFound) {
			return fmt.Errorf("%w: %v", errNotFound, err)
		}
		if errors.Is(err, users.ErrInvalid) {
			return usageError{err.Error()}
		}
		return err
	case "del":
		addr, err := need()
		if err != nil {
			return err
		}
		if err := db.Delete(addr); errors.Is(err, users.ErrNotFound) {
			return fmt.Errorf("%w: %v", errNotFound, err)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %s (their mail stays in %s)\n", addr, filepath.Join(dir, "mail", addr))
		return nil
	}
	return usageError{fmt.Sprintf("serve user: unknown subcommand %q", sub)}
}

func serveQueue(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{"serve queue: want list|retry|drop"}
	}
	sub := args[0]
	fs := e.newFlagSet("serve queue "+sub, "serve queue list|retry|drop [--data DIR] [--all] [ID...]")
	all := fs.Bool("all", false, "every queued message (retry, drop)")
	pos, dir, err := adminArgs(e, fs, args[1:])
	if err != nil {
		return err
	}
	q, err := queue.OpenDir(filepath.Join(dir, "queue"))
	if err != nil {
		return err
	}
	items, err := q.List()
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		for _, it := range items {
			fmt.Fprintf(e.stdout, "%s  %s  %6s  from <%s>  attempts %d  next %s\n", it.ID, it.Created.Local().Format("2006-01-02 15:04"),
				humanSize(it.Size), it.From, it.Attempts, it.NextAttempt.Local().Format("15:04:05"))
			for _, r := range it.Rcpts {
				fmt.Fprintf(e.stdout, "    %-8s %s %s\n", r.State, r.Addr, r.Error)
			}
		}
		if len(items) == 0 {
			fmt.Fprintln(e.stdout, "queue is empty")
		}
		return nil
	case "retry", "drop":
		ids := pos
		if *all {
			ids = nil
			for _, it := range items {
				ids = append(ids, it.ID)
			}
		}
		if len(ids) == 0 && !*all {
			return usageError{"serve queue " + sub + ": want ID... or --all"}
		}
		for _, id := range ids {
			var err error
			if sub == "retry" {
				err = q.Retry(id)
			} else {
				err = q.Drop(id)
			}
			if errors.Is(err, queue.ErrNotFound) {
				return fmt.Errorf("%w: %v", errNotFound, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s %s\n", sub, id)
		}
		return nil
	}
	return usageError{fmt.Sprintf("serve queue: unknown subcommand %q", sub)}
}

func serveDKIM(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "keygen" {
		return usageError{"serve dkim: want keygen DOMAIN"}
	}
	fs := e.newFlagSet("serve dkim keygen", "serve dkim keygen [--selector S] [--out FILE] DOMAIN")
	selector := fs.String("selector", "letterbox", "DKIM selector")
	out := fs.String("out", "", "key `FILE` (default DATA/dkim/DOMAIN.SELECTOR.pem)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"serve dkim keygen: want one DOMAIN"}
	}
	domain := strings.ToLower(pos[0])
	keyFile := *out
	if keyFile == "" {
		dir, err := serverData(e)
		if err != nil {
			return err
		}
		keyFile = filepath.Join(dir, "dkim", domain+"."+*selector+".pem")
		if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
			return err
		}
	}
	rec, err := server.DKIMKeygen(keyFile)
	if err != nil {
		return err
	}
	// A TXT string holds at most 255 octets (RFC 1035 section 3.3.14).
	var chunks []string
	for len(rec) > 250 {
		chunks, rec = append(chunks, rec[:250]), rec[250:]
	}
	chunks = append(chunks, rec)
	fmt.Fprintf(e.stdout, "key written to %s\n\nPublish this DNS TXT record:\n\n%s._domainkey.%s. IN TXT ( \"%s\" )\n\nand add to server.toml:\n\n[dkim]\ndomain = %q\nselector = %q\nkey_file = %q\n",
		keyFile, *selector, domain, strings.Join(chunks, "\"\n\t\""), domain, *selector, keyFile)
	return nil
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
