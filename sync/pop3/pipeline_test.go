package pop3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	lbsync "github.com/letterbox-mail/letterbox/sync"
)

// corpusOf makes n small distinct messages, some with dot lines.
func corpusOf(n int) []string {
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = fmt.Sprintf("Message-ID: <m%d@test>\r\nSubject: %d\r\n\r\n.line %d\r\n%s\r\n", i, i, i, strings.Repeat("x", i*37))
	}
	return msgs
}

func TestRetrEach(t *testing.T) {
	noPipelining := []string{"TOP", "UIDL", "USER", "SASL PLAIN"}
	tests := []struct {
		name      string
		capa      []string
		window    int
		pipelined bool
	}{
		{"pipelined", defaultCapa, 0, true},
		{"pipelined, window 3", defaultCapa, 3, true},
		{"window 1", defaultCapa, 1, false},
		{"server without PIPELINING", noPipelining, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{capa: tc.capa, msgs: corpusOf(60), retrErr: map[int]string{7: "-ERR [SYS/TEMP] try later"}}
			c, err := dialFake(t, f, Config{Window: tc.window})
			if err != nil {
				t.Fatal(err)
			}
			nums := make([]int, len(f.msgs))
			for i := range nums {
				nums[i] = i + 1
			}
			var got []int
			err = c.RetrEach(context.Background(), nums, func(n int, body io.Reader, err error) error {
				got = append(got, n)
				if n == 7 {
					if !lbsync.IsTemporary(err) || body != nil {
						t.Errorf("RETR 7: %v", err)
					}
					return nil
				}
				b, err := io.ReadAll(body)
				if err != nil || string(b) != f.msgs[n-1] {
					t.Errorf("RETR %d: %q, %v", n, clip(string(b)), err)
				}
				return nil
			})
			if err != nil || !slices.Equal(got, nums) {
				t.Fatalf("RetrEach: %v, order %v", err, got)
			}
			if err := c.Quit(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.wait(t)
			f.mu.Lock()
			pipelined := f.pipelined
			f.mu.Unlock()
			if (pipelined > 0) != tc.pipelined {
				t.Errorf("%d commands arrived pipelined", pipelined)
			}
		})
	}
}

// Stopping early discards the replies already on their way and leaves
// the session usable.
func TestRetrEachStop(t *testing.T) {
	f := &fake{capa: defaultCapa, msgs: corpusOf(40)}
	c, err := dialFake(t, f, Config{Window: 8})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	nums := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	var seen int
	err = c.RetrEach(context.Background(), nums, func(n int, body io.Reader, err error) error {
		seen++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || seen != 3 {
		t.Fatalf("RetrEach: %v after %d", err, seen)
	}
	if n, _, err := c.Stat(context.Background()); err != nil || n != 40 {
		t.Fatalf("STAT after stopping: %d %v", n, err)
	}
	retrs := 0
	for _, cmd := range f.commands() {
		if strings.HasPrefix(cmd, "RETR") {
			retrs++
		}
	}
	if retrs > 8 {
		t.Errorf("%d RETR sent for a stop at the third", retrs)
	}
}

func TestDeleQuit(t *testing.T) {
	tests := []struct {
		name string
		rset bool
		quit bool
		want []int
	}{
		{"QUIT applies deletions", false, true, []int{1, 3}},
		{"RSET unmarks", true, true, []int{2}},
		{"a dropped session deletes nothing", false, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{capa: defaultCapa, msgs: corpusOf(3)}
			c, err := dialFake(t, f, Config{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			done, err := c.DeleMany(ctx, []int{1, 3})
			if err != nil || !slices.Equal(done, []int{1, 3}) {
				t.Fatalf("DeleMany: %v %v", done, err)
			}
			if tc.rset {
				if err := c.Rset(ctx); err != nil {
					t.Fatal(err)
				}
				if err := c.Dele(ctx, 2); err != nil {
					t.Fatal(err)
				}
			}
			if tc.quit {
				err = c.Quit(ctx)
			} else {
				err = c.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Noop(ctx); !errors.Is(err, ErrClosed) {
				t.Errorf("command after the end: %v", err)
			}
			f.wait(t)
			f.mu.Lock()
			defer f.mu.Unlock()
			if !slices.Equal(f.deleted, tc.want) {
				t.Errorf("deleted %v, want %v", f.deleted, tc.want)
			}
		})
	}
}
