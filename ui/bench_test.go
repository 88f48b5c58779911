package ui

// Benchmarks of the interface on a 100,000-message INBOX:
//
//	go test ./ui -run '^$' -bench . -benchtime 20x
//
// The store is built once (synthetic messages, NoSync) and cached under
// $TMPDIR/letterbox-bench/ui-store-v1-n100000; LETTERBOX_BENCH_UI_N
// changes the size, LETTERBOX_BENCH_STORE=DIR uses an existing store
// (for example bench/out/store100000) instead.
//
// Targets: launch to the first complete frame < 200 ms; a key press to
// the redrawn frame while scrolling < 16 ms; resident memory with the
// INBOX open < 150 MB.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/letterbox-mail/letterbox/accounts"
	"github.com/letterbox-mail/letterbox/store"
)

func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("LETTERBOX_BENCH_UI_N")); err == nil && n > 0 {
		return n
	}
	return 100000
}

var (
	fixtureOnce sync.Once
	fixtureBase string
	fixtureErr  error
)

// benchBase returns a data directory whose account "bench" has the
// big INBOX.
func benchBase(b *testing.B) string {
	fixtureOnce.Do(func() {
		if dir := os.Getenv("LETTERBOX_BENCH_STORE"); dir != "" {
			fixtureBase, fixtureErr = os.MkdirTemp("", "letterbox-ui-bench")
			if fixtureErr == nil {
				os.MkdirAll(filepath.Join(fixtureBase, "accounts"), 0o700)
				abs, _ := filepath.Abs(dir)
				fixtureErr = os.Symlink(abs, filepath.Join(fixtureBase, "accounts", "bench"))
			}
			return
		}
		n := benchN()
		fixtureBase = filepath.Join(os.TempDir(), "letterbox-bench", fmt.Sprintf("ui-store-v1-n%d", n))
		if _, err := os.Stat(filepath.Join(fixtureBase, ".complete")); err == nil {
			return
		}
		b.Logf("building a %d-message store in %s (cached for later runs)", n, fixtureBase)
		os.RemoveAll(fixtureBase)
		fixtureErr = buildBenchStore(filepath.Join(fixtureBase, "accounts", "bench"), n)
		if fixtureErr == nil {
			fixtureErr = os.WriteFile(filepath.Join(fixtureBase, ".complete"), nil, 0o600)
		}
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixtureBase
}

// buildBenchStore writes n small synthetic messages (threads, several
// senders, a few attachments marked) into INBOX.
func buildBenchStore(root string, n int) error {
	ctx := context.Background()
	st, err := store.Open(ctx, root, &store.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer st.Close()
	names := []string{"Ann Archer", "Bob Baker", "Carol Chen", "Dmitri Volkov", "Eve Evans", "Farid Haddad", "Grace Hopper", "Jörg Gößling", "鈴木 翔太"}
	words := []string{"budget", "meeting", "report", "schedule", "launch", "invoice", "review", "release", "draft", "lunch", "offsite", "roadmap"}
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 1000
	for i := 0; i < n; i += batch {
		var items []store.AppendItem
		for j := i; j < min(n, i+batch); j++ {
			who := names[j%len(names)]
			subj := fmt.Sprintf("%s %s #%d", words[j%len(words)], words[(j/7)%len(words)], j/3)
			refs := ""
			if j%3 != 0 {
				subj = "Re: " + fmt.Sprintf("%s %s #%d", words[(j/3*3)%len(words)], words[(j/3*3/7)%len(words)], j/3)
				refs = fmt.Sprintf("In-Reply-To: <b%d@bench.test>\r\nReferences: <b%d@bench.test>\r\n", j-1, j/3*3)
			}
			raw := fmt.Sprintf("From: %s <u%d@bench.test>\r\nTo: me@bench.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <b%d@bench.test>\r\n%sContent-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\nabout the %s: see you at the %s.\r\n",
				who, j%97, subj, start.Add(time.Duration(j)*7*time.Minute).Format(time.RFC1123Z), j, refs, words[j%5], words[j%11])
			data := []byte(raw)
			items = append(items, store.AppendItem{Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
				Flags: benchFlags(j)})
		}
		res, err := st.AppendMany(ctx, accounts.Inbox, items)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err != nil {
				return r.Err
			}
		}
	}
	return nil
}

func benchFlags(j int) []string {
	if j%4 == 0 {
		return nil
	}
	return []string{accounts.FlagSeen}
}

// openBench opens the bench account as letterbox does.
func openBench(b *testing.B, base string) *accounts.Account {
	acct := accounts.AccountConfig{Name: "bench", Email: "me@bench.test", Mode: accounts.ModePOP3,
		POP3: accounts.ServerConfig{Host: "127.0.0.1", Port: 1}, SMTP: accounts.ServerConfig{Host: "127.0.0.1", Port: 1}}
	a, err := accounts.OpenAccount(context.Background(), acct, base, nil)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// drive feeds msg to m and runs the Cmds it returns synchronously,
// feeding their results back, skipping those that wait (feeds, ticks).
func drive(m Model, msg tea.Msg) Model {
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		msg, queue = queue[0], queue[1:]
		next, cmd := m.Update(msg)
		m = next.(Model)
		queue = append(queue, runNow(cmd)...)
	}
	return m
}

// runNow runs cmd unless it is one that blocks (a tick or a feed).
func runNow(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		if batch, ok := msg.(tea.BatchMsg); ok {
			var out []tea.Msg
			for _, c := range batch {
				out = append(out, runNow(c)...)
			}
			return out
		}
		if msg == nil || ignored(msg) {
			return nil
		}
		return []tea.Msg{msg}
	case <-time.After(5 * time.Second):
		return nil // a tick, a blink or a feed: not part of a frame
	}
}

// launch opens the account and returns the model after its first
// complete frame (folders, count and the first page drawn).
func launch(b *testing.B, base string) (Model, *accounts.Account, string) {
	a := openBench(b, base)
	ctx := context.Background()
	m := New(ctx, testCommon(), Options{Accounts: []Backend{NewAccountBackend(a)}})
	m = drive(m, tea.WindowSizeMsg{Width: 160, Height: 50})
	m = drive(m, mailboxesCmd(ctx, m.accts[0].b)())
	m = drive(m, folderMsg{account: "bench", folder: accounts.Inbox})
	return m, a, m.View()
}

func BenchmarkLaunchFirstFrame(b *testing.B) {
	base := benchBase(b)
	n := benchN()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, a, view := launch(b, base)
		b.StopTimer()
		if m.list.total < n || !strings.Contains(view, "bench › INBOX") || len(m.list.win) == 0 {
			b.Fatalf("incomplete frame: %d rows of %d\n%s", len(m.list.win), m.list.total, view)
		}
		m.Close()
		a.Close()
		b.StartTimer()
	}
}

// BenchmarkScrollKey measures one key press while scrolling the 100k
// list: Update and View (the frame; ns/op and worst-frame-ms), and,
// reported apart as fetch-ms, the page fetch the key starts, which the
// program runs off the UI goroutine (rows show "…" until it lands).
func BenchmarkScrollKey(b *testing.B) {
	for _, k := range []string{"j", "pgdown", "G"} {
		b.Run(k, func(b *testing.B) {
			m, a, _ := launch(b, benchBase(b))
			defer a.Close()
			defer m.Close()
			key := keyMsg(k)
			var worst, fetch time.Duration
			fetches := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				next, cmd := m.Update(key)
				m = next.(Model)
				_ = m.View()
				if d := time.Since(t0); d > worst {
					worst = d
				}
				b.StopTimer()
				if cmd != nil {
					t1 := time.Now()
					for _, msg := range runNow(cmd) {
						m = drive(m, msg)
					}
					fetch += time.Since(t1)
					fetches++
				}
				if k == "G" {
					m = drive(m, keyMsg("g"))
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-frame-ms")
			if fetches > 0 {
				b.ReportMetric(float64(fetch.Microseconds())/1000/float64(fetches), "fetch-ms")
			}
		})
	}
}

// BenchmarkResidentMemory reports the process's resident set and Go
// heap with the 100k INBOX open and scrolled through.
func BenchmarkResidentMemory(b *testing.B) {
	base := benchBase(b)
	for i := 0; i < b.N; i++ {
		m, a, _ := launch(b, base)
		for j := 0; j < 200; j++ {
			m = drive(m, keyMsg("pgdown"))
			_ = m.View()
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(rssBytes())/(1<<20), "rss-MB")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		m.Close()
		a.Close()
	}
}

// rssBytes reads VmRSS from /proc/self/status (0 elsewhere).
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkThreadedPage measures a window of the threaded listing as
// the list fetches it: the first, and the one after row 50,000 by
// keyset (the key of the row before it, as the list has it at hand),
// and, for the record, the same by offset. Target: under 10 ms.
func BenchmarkThreadedPage(b *testing.B) {
	a := openBench(b, benchBase(b))
	defer a.Close()
	be := NewAccountBackend(a)
	ctx := context.Background()
	before, err := be.Page(ctx, PageRequest{Folder: accounts.Inbox, Threaded: true, Offset: 49999, Limit: 1})
	if err != nil || len(before) != 1 {
		b.Fatal(len(before), err)
	}
	for _, c := range []struct {
		name string
		req  PageRequest
	}{
		{"first", PageRequest{Folder: accounts.Inbox, Threaded: true, Limit: winSize}},
		{"keyset=50000", PageRequest{Folder: accounts.Inbox, Threaded: true, After: before[0].Key(), Limit: winSize}},
		{"offset=50000", PageRequest{Folder: accounts.Inbox, Threaded: true, Offset: 50000, Limit: winSize}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				msgs, err := be.Page(ctx, c.req)
				if err != nil || len(msgs) != winSize {
					b.Fatal(len(msgs), err)
				}
			}
		})
	}
	b.Run("position=50000", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if n, err := be.Position(ctx, PageRequest{Folder: accounts.Inbox, Threaded: true}, before[0].ID); err != nil || n != 49999 {
				b.Fatal(n, err)
			}
		}
	})
}
