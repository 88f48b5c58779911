package imapsync

import (
	"errors"
	"slices"
	"sync"
	"testing"
)

// TestLane: the work of mailboxes runs one at a time in the order given,
// at most depth of them pending beside the caller, and their outcomes
// reach done in that order on the caller's goroutine.
func TestLane(t *testing.T) {
	var mu sync.Mutex
	var ran, reported []string
	running := 0
	l := newLane(func(rb remoteBox, err error) {
		s := rb.Local
		if err != nil {
			s += ": " + err.Error()
		}
		reported = append(reported, s)
	})
	if l.depth < 2 {
		t.Fatalf("lane depth %d: the network would wait for the mailbox before last", l.depth)
	}
	release := make(chan struct{})
	work := func(name string, block bool, err error) func() error {
		return func() error {
			mu.Lock()
			running++
			if running > 1 {
				t.Errorf("%s runs beside another mailbox's work", name)
			}
			ran = append(ran, name)
			mu.Unlock()
			if block {
				<-release
			}
			mu.Lock()
			running--
			mu.Unlock()
			return err
		}
	}
	// The first blocks: the next depth-1 queue behind it without waiting.
	l.run(remoteBox{Local: "A"}, work("A", true, nil))
	for i := 1; i < l.depth; i++ {
		name := string(rune('A' + i))
		l.run(remoteBox{Local: name}, work(name, false, nil))
	}
	if len(reported) != 0 {
		t.Fatalf("reported %q before any work ended", reported)
	}
	close(release)
	l.run(remoteBox{Local: "Y"}, nil)
	l.run(remoteBox{Local: "Z"}, work("Z", false, errors.New("failed")))
	l.wait()
	want := []string{"A"}
	for i := 1; i < l.depth; i++ {
		want = append(want, string(rune('A'+i)))
	}
	if !slices.Equal(ran, append(slices.Clone(want), "Z")) {
		t.Errorf("ran %q", ran)
	}
	if want = append(want, "Y", "Z: failed"); !slices.Equal(reported, want) {
		t.Errorf("reported %q, want %q", reported, want)
	}
}
