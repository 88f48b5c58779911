package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestTimeoutError(t *testing.T) {
	err := E("imap connect mail.example.com:993", Other, Timeout("no greeting within", 30*time.Second))
	if got, want := err.Error(), "imap connect mail.example.com:993 timed out: no greeting within 30s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if KindOf(err) != Temporary || !IsTimeout(err) || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, ErrTemporary) {
		t.Errorf("kind %v, timeout %v", KindOf(err), IsTimeout(err))
	}
	wrapped := fmt.Errorf("pop3 x: %w", Timeout("server silent for", time.Minute))
	if KindOf(wrapped) != Temporary || wrapped.Error() != "pop3 x: server silent for 1m" {
		t.Errorf("%v: %v", wrapped, KindOf(wrapped))
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 2 * time.Minute: "2m", 90 * time.Second: "90s", 1500 * time.Millisecond: "1.5s",
		250 * time.Millisecond: "250ms", 0: "0s",
	} {
		if got := Seconds(d); got != want {
			t.Errorf("Seconds(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTimeoutsAndResume(t *testing.T) {
	if c, m := (Timeouts{}).ConnectOr(), (Timeouts{}).CommandOr(); c != DefaultConnectTimeout || m != DefaultCommandTimeout {
		t.Errorf("defaults %v %v", c, m)
	}
	if c := (Timeouts{Connect: -1}).ConnectOr(); c != 0 {
		t.Errorf("negative: %v, want none", c)
	}
	if n := (Resume{}).Tries(); n != 3 {
		t.Errorf("default tries %d", n)
	}
	if n := (Resume{Attempts: -1}).Tries(); n != 0 {
		t.Errorf("no resume: %d", n)
	}
	var got []time.Duration
	for n := range 7 {
		got = append(got, Resume{}.DelayOf(n))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delays %v, want %v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep went on after its context ended")
	}
}
