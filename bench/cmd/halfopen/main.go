// Command halfopen is the connection-flood benchmark of docs/BENCHMARKS.md:
// it opens ever more half-open connections to an IMAPS port (TCP connected,
// no TLS handshake ever sent), spread over many loopback source addresses
// as a distributed attacker would, and after each step times a normal IMAP
// login (TLS handshake, LOGIN, SELECT INBOX, LOGOUT) from 127.0.0.1. It
// reports, per step, how many of the half-open connections the server
// still holds open and how long the login took; the figure of merit is
// the most half-open connections held while a login still takes under
// one second.
//
// It talks to a server on loopback only; it is a benchmark tool, not part
// of the tests. Run it through bench/halfopen.sh.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:2993", "IMAPS address")
	user := flag.String("user", "alice@example.test", "login")
	pass := flag.String("pass", "alice", "password")
	steps := flag.String("steps", "1000,2000,3000,4000,6000,10000,15000", "half-open connection counts to reach, comma-separated")
	perSource := flag.Int("per-source", 40, "half-open connections per source address (below the server's per-IP cap)")
	logins := flag.Int("logins", 3, "logins timed per step (the slowest is reported)")
	flag.Parse()
	var counts []int
	for _, s := range strings.Split(*steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "halfopen: bad step %q\n", s)
			os.Exit(2)
		}
		counts = append(counts, n)
	}
	if err := run(*addr, *user, *pass, counts, *perSource, *logins); err != nil {
		fmt.Fprintln(os.Stderr, "halfopen:", err)
		os.Exit(1)
	}
}

// source is the loopback address of the i-th group of half-open
// connections: 127.1.0.1, 127.1.0.2, ...
func source(i int) net.IP {
	return net.IPv4(127, 1, byte(i/250), byte(i%250+1))
}

func run(addr, user, pass string, counts []int, perSource, logins int) error {
	var half []net.Conn
	defer func() {
		for _, c := range half {
			c.Close()
		}
	}()
	fmt.Printf("%10s %10s %10s %12s %s\n", "offered", "held", "evicted", "login_max", "login_all")
	best := -1
	for _, want := range counts {
		var dialErr error
		for len(half) < want {
			i := len(half)
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: source(i / perSource)}, Timeout: 5 * time.Second}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				dialErr = err
				break
			}
			half = append(half, c)
		}
		// Connections in the listen backlog look open until the server
		// accepts them: count until two counts agree.
		held := countOpen(half)
		for range 10 {
			time.Sleep(100 * time.Millisecond)
			again := countOpen(half)
			if again == held {
				break
			}
			held = again
		}
		var times []time.Duration
		var loginErr error
		for range logins {
			d, err := login(addr, user, pass)
			if err != nil {
				loginErr = err
				break
			}
			times = append(times, d)
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		worst := "-"
		if len(times) > 0 {
			worst = times[len(times)-1].Round(time.Millisecond).String()
		}
		var all []string
		for _, d := range times {
			all = append(all, d.Round(time.Millisecond).String())
		}
		line := fmt.Sprintf("%10d %10d %10d %12s %s", len(half), held, len(half)-held, worst, strings.Join(all, " "))
		if loginErr != nil {
			line += "  LOGIN FAILED: " + loginErr.Error()
		}
		if dialErr != nil {
			line += "  (dial: " + dialErr.Error() + ")"
		}
		fmt.Println(line)
		if loginErr == nil && len(times) == logins && times[len(times)-1] < time.Second {
			best = max(best, held)
		}
		if dialErr != nil {
			break
		}
	}
	fmt.Printf("most half-open connections held with every login under 1 s: %d\n", best)
	return nil
}

// countOpen counts the connections the server has not closed: a read that
// times out means open, EOF or a reset means closed.
func countOpen(cs []net.Conn) int {
	var mu sync.Mutex
	open := 0
	work := make(chan net.Conn)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1)
			for c := range work {
				c.SetReadDeadline(time.Now().Add(2 * time.Millisecond))
				_, err := c.Read(buf)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					mu.Lock()
					open++
					mu.Unlock()
				}
			}
		}()
	}
	for _, c := range cs {
		work <- c
	}
	close(work)
	wg.Wait()
	return open
}

// login times one normal IMAPS session from 127.0.0.1.
func login(addr, user, pass string) (time.Duration, error) {
	start := time.Now()
	d := net.Dialer{Timeout: 10 * time.Second}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(30 * time.Second))
	c := imapclient.New(tls.Client(raw, &tls.Config{InsecureSkipVerify: true}), nil)
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		return 0, err
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		return 0, err
	}
	if err := c.Logout().Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
