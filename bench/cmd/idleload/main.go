// Command idleload is the server load test of docs/BENCHMARKS.md: many
// IMAP sessions sit in IDLE on one INBOX while submitters deliver mail over
// SMTP for a fixed time. It then checks that there were no errors, that
// every message was delivered exactly once (by Message-ID, over a fresh
// IMAP session) and that every IDLE session was told of every message, and
// reports the server's peak RSS (from /proc, given its pid). It exits 1
// when any check fails.
//
// It talks to a server on loopback only; it is a benchmark tool, not part
// of the tests.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

func main() {
	imapAddr := flag.String("imap", "127.0.0.1:2143", "IMAP address (plain; the dev server allows LOGIN without TLS on loopback)")
	smtpAddr := flag.String("smtp", "127.0.0.1:2525", "SMTP (MX) address")
	user := flag.String("user", "bob@example.test", "mailbox owner (recipient)")
	pass := flag.String("pass", "bob", "password")
	sessions := flag.Int("sessions", 200, "IMAP sessions in IDLE")
	submitters := flag.Int("submitters", 20, "concurrent SMTP submitters")
	duration := flag.Duration("duration", 60*time.Second, "how long to submit")
	pid := flag.Int("pid", 0, "server pid, for its RSS")
	flag.Parse()
	if err := run(*imapAddr, *smtpAddr, *user, *pass, *sessions, *submitters, *duration, *pid); err != nil {
		fmt.Fprintln(os.Stderr, "idleload:", err)
		os.Exit(1)
	}
}

type idler struct {
	c    *imapclient.Client
	seen atomic.Uint32 // highest EXISTS count seen
	idle *imapclient.IdleCommand
}

func dial(addr, user, pass string, onExists func(uint32)) (*imapclient.Client, error) {
	opts := &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}}
	if onExists != nil {
		opts.UnilateralDataHandler = &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				onExists(*d.NumMessages)
			}
		}}
	}
	c, err := imapclient.DialInsecure(addr, opts)
	if err != nil {
		return nil, err
	}
	if err := c.Login(user, pass).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("login: %w", err)
	}
	return c, nil
}

func run(imapAddr, smtpAddr, user, pass string, nSess, nSub int, dur time.Duration, pid int) error {
	probe, err := dial(imapAddr, user, pass, nil)
	if err != nil {
		return err
	}
	sel, err := probe.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return err
	}
	start := sel.NumMessages
	probe.Logout().Wait()

	idlers := make([]*idler, nSess)
	var wg sync.WaitGroup
	var setupErr atomic.Value
	for i := range idlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := &idler{}
			c, err := dial(imapAddr, user, pass, func(n uint32) {
				for {
					old := id.seen.Load()
					if n <= old || id.seen.CompareAndSwap(old, n) {
						return
					}
				}
			})
			if err != nil {
				setupErr.Store(err)
				return
			}
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				setupErr.Store(err)
				return
			}
			idle, err := c.Idle()
			if err != nil {
				setupErr.Store(err)
				return
			}
			id.c, id.idle = c, idle
			idlers[i] = id
		}()
	}
	wg.Wait()
	if e := setupErr.Load(); e != nil {
		return fmt.Errorf("setting up IDLE sessions: %v", e)
	}
	fmt.Printf("%d sessions in IDLE on %s (%d messages); submitting with %d clients for %s\n", nSess, user, start, nSub, dur)

	var sent, failed atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	body := strings.Repeat("The quick brown fox jumps over the lazy dog, and back again.\r\n", 150) // ~9 KB
	t0 := time.Now()
	for s := range nSub {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				msg := fmt.Sprintf("From: load%d@load.test\r\nTo: %s\r\nSubject: load %d/%d\r\nMessage-ID: <load-%d-%d@load.test>\r\n\r\n%s\r\n",
					s, user, s, n, s, n, body)
				if err := send(smtpAddr, fmt.Sprintf("load%d@load.test", s), user, msg); err != nil {
					failed.Add(1)
					fmt.Fprintln(os.Stderr, "submit:", err)
					continue
				}
				sent.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	want := start + uint32(sent.Load())
	// Give the last notifications a moment.
	deadline := time.Now().Add(30 * time.Second)
	behind := 0
	for {
		behind = 0
		for _, id := range idlers {
			if id.seen.Load() < want {
				behind++
			}
		}
		if behind == 0 || time.Now().After(deadline) {
			fmt.Printf("IDLE sessions told of every message: %d/%d\n", nSess-behind, nSess)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, id := range idlers {
		id.idle.Close()
		id.idle.Wait()
		id.c.Logout().Wait()
	}

	// Exactly once, by Message-ID.
	c, err := dial(imapAddr, user, pass, nil)
	if err != nil {
		return err
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return err
	}
	var all imap.SeqSet
	all.AddRange(1, 0) // 1:*
	msgs, err := c.Fetch(all, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	c.Logout().Wait()
	count := map[string]int{}
	for _, m := range msgs {
		if m.Envelope != nil && strings.HasPrefix(m.Envelope.MessageID, "load-") {
			count[m.Envelope.MessageID]++
		}
	}
	dups := 0
	for _, n := range count {
		if n > 1 {
			dups++
		}
	}
	fmt.Printf("submitted %d (%.0f msg/s), failed %d; delivered %d distinct, %d duplicated, %d missing\n",
		sent.Load(), float64(sent.Load())/elapsed.Seconds(), failed.Load(), len(count), dups, int(sent.Load())-len(count))
	if pid > 0 {
		fmt.Printf("server peak RSS: %s\n", rss(pid))
	}
	if failed.Load() > 0 || dups > 0 || len(count) != int(sent.Load()) || behind > 0 {
		return fmt.Errorf("FAILED")
	}
	return nil
}

// send delivers one message over plain SMTP (the MX port), the way
// another mail server would.
func send(addr, from, to, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("load.test"); err != nil {
		return err
	}
	if err := c.SendMail(from, []string{to}, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

func rss(pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	out := ""
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmHWM") || strings.HasPrefix(sc.Text(), "VmRSS") {
			out += strings.Join(strings.Fields(sc.Text()), " ") + "  "
		}
	}
	return out
}
