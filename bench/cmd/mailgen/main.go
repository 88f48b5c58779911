// Command mailgen writes a deterministic mailgen corpus into a Maildir, for
// bench/run.sh: the same -n and -seed give byte-identical files on every run.
//
// Usage:
//
//	go run ./bench/cmd/mailgen -n 10000 [-seed 1] -o DIR
//
// DIR becomes a Maildir (DIR/cur, DIR/new, DIR/tmp). It refuses a DIR that
// already holds messages, so a corpus is never mixed with another. It imports
// only store/mailgen and is not part of the letterbox binary.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/letterbox-mail/letterbox/store/mailgen"
)

func main() {
	n := flag.Int("n", 10000, "number of messages")
	seed := flag.Int64("seed", 1, "corpus seed")
	out := flag.String("o", "", "output Maildir `DIR` (required)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if ents, err := os.ReadDir(filepath.Join(*out, "cur")); err == nil && len(ents) > 0 {
		fmt.Fprintf(os.Stderr, "mailgen: %s/cur is not empty\n", *out)
		os.Exit(1)
	}
	start := time.Now()
	got, err := mailgen.WriteMaildir(*out, mailgen.Options{Seed: *seed, Count: *n})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "mailgen: %d messages in %s (%.1fs)\n", got, *out, time.Since(start).Seconds())
}
