package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/letterbox-mail/letterbox/server"
	"github.com/letterbox-mail/letterbox/server/queue"
	"github.com/letterbox-mail/letterbox/server/users"
)

// letterbox serve user|queue|dkim: administration of the server's data
// directory (--data, else DATA/server), with or without a running server.

func serveUserCmd(e *env) *cobra.Command {
	open := func() (*users.DB, string, error) {
		dir, err := e.serverData()
		if err != nil {
			return nil, "", err
		}
		db, err := users.Open(dir)
		return db, dir, err
	}
	setPassword := func(use, short string, add bool) *cobra.Command {
		var stdin bool
		c := &cobra.Command{
			Use:   use + " ADDRESS",
			Short: short,
			Args:  wantArgs(1, "one ADDRESS"),
			RunE: func(cmd *cobra.Command, args []string) error {
				db, _, err := open()
				if err != nil {
					return err
				}
				pw, err := readPassword(e, stdin, "password for "+args[0])
				if err != nil {
					return err
				}
				if add {
					err = db.Add(args[0], pw)
				} else {
					err = db.SetPassword(args[0], pw)
				}
				if errors.Is(err, users.ErrInvalid) {
					return usageError{err}
				}
				return err
			},
		}
		c.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from the first line of stdin")
		return c
	}
	del := &cobra.Command{
		Use:   "del ADDRESS",
		Short: "Delete a user (their mail stays)",
		Args:  wantArgs(1, "one ADDRESS"),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, dir, err := open()
			if err != nil {
				return err
			}
			if err := db.Delete(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "deleted %s (their mail stays in %s)\n", args[0], filepath.Join(dir, "mail", args[0]))
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the users",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, _, err := open()
			if err != nil {
				return err
			}
			all, err := db.List()
			if err != nil {
				return err
			}
			for _, u := range all {
				fmt.Fprintln(e.stdout, u)
			}
			return nil
		},
	}
	c := groupCmd("user", "Add, change, delete or list the server's users (argon2id hashes in DATA/passwd)",
		setPassword("add", "Add a user", true), setPassword("passwd", "Change a user's password", false), del, list)
	c.Example = "  letterbox serve user add --data DIR alice@example.org --password-stdin"
	return c
}

func serveQueueCmd(e *env) *cobra.Command {
	open := func() (*queue.Dir, error) {
		dir, err := e.serverData()
		if err != nil {
			return nil, err
		}
		return queue.OpenDir(filepath.Join(dir, "queue"))
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the outgoing queue",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := open()
			if err != nil {
				return err
			}
			items, err := q.List()
			if err != nil {
				return err
			}
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
		},
	}
	act := func(name, short string, do func(q *queue.Dir, id string) error) *cobra.Command {
		var all bool
		c := &cobra.Command{
			Use:   name + " ID...|--all",
			Short: short,
			RunE: func(cmd *cobra.Command, ids []string) error {
				if all == (len(ids) > 0) {
					return usagef("serve queue %s: want ID... or --all", name)
				}
				q, err := open()
				if err != nil {
					return err
				}
				if all {
					items, err := q.List()
					if err != nil {
						return err
					}
					for _, it := range items {
						ids = append(ids, it.ID)
					}
				}
				for _, id := range ids {
					if err := do(q, id); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "%s %s\n", name, id)
				}
				return nil
			},
		}
		c.Flags().BoolVar(&all, "all", false, "every queued message")
		return c
	}
	return groupCmd("queue", "List the outgoing queue, retry or drop messages in it", list,
		act("retry", "Try queued messages again now", (*queue.Dir).Retry),
		act("drop", "Drop queued messages (no bounce)", (*queue.Dir).Drop))
}

func serveDKIMCmd(e *env) *cobra.Command {
	var selector, out string
	keygen := &cobra.Command{
		Use:   "keygen DOMAIN",
		Short: "Make a DKIM key and print its DNS record and server.toml lines",
		Args:  wantArgs(1, "one DOMAIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			domain := strings.ToLower(strings.TrimSuffix(args[0], "."))
			if err := dnsName("serve dkim keygen: domain", domain); err != nil {
				return err
			}
			// The selector is a sub-domain too (RFC 6376 section 3.1).
			if err := dnsName("serve dkim keygen: --selector", selector); err != nil {
				return err
			}
			keyFile := out
			if keyFile == "" {
				dir, err := e.serverData()
				if err != nil {
					return err
				}
				keyFile = filepath.Join(dir, "dkim", domain+"."+selector+".pem")
				if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
					return err
				}
			}
			rec, err := server.DKIMKeygen(keyFile)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "key written to %s\n\nPublish this DNS TXT record:\n\n%s._domainkey.%s. IN TXT ( %s )\n\nand add to server.toml:\n\n[dkim]\ndomain = %q\nselector = %q\nkey_file = %q\n",
				keyFile, selector, domain, txtStrings(rec), domain, selector, keyFile)
			return nil
		},
	}
	keygen.Flags().StringVar(&selector, "selector", "letterbox", "DKIM `SELECTOR`")
	keygen.Flags().StringVar(&out, "out", "", "key `FILE` (default DATA/dkim/DOMAIN.SELECTOR.pem)")
	return groupCmd("dkim", "DKIM keys for outgoing mail", keygen)
}

// txtStrings writes a TXT record value as quoted strings of at most 250
// octets (a TXT string holds at most 255, RFC 1035 section 3.3.14).
func txtStrings(rec string) string {
	var chunks []string
	for len(rec) > 250 {
		chunks, rec = append(chunks, rec[:250]), rec[250:]
	}
	return `"` + strings.Join(append(chunks, rec), "\"\n\t\"") + `"`
}
