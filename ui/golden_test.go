package ui

import (
	"bytes"
	"context"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
)

// Golden screens of the main views, rendered by the real Bubble Tea
// runtime (teatest) with the ASCII colour profile and a fixed clock.
// Refresh them with: go test ./ui -run Golden -update

func startTeatest(t *testing.T, w, h int, opts Options) *teatest.TestModel {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(ctx, testCommon(), opts)
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
}

func waitScreen(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

func typeKeys(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		tm.Send(keyMsg(k))
		time.Sleep(30 * time.Millisecond)
	}
}

// finalScreen quits and returns the last frame, checked for size.
func finalScreen(t *testing.T, tm *teatest.TestModel, w, h int) []byte {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	view := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model).View()
	checkFrame(t, view, w, h)
	return []byte(view)
}

func TestGoldenMain(t *testing.T) {
	_, _, opts := twoAccounts(40)
	tm := startTeatest(t, 100, 24, opts)
	waitScreen(t, tm, "Message number 20")
	typeKeys(tm, "j", "j", "t", "j")
	waitScreen(t, tm, "1 tagged")
	golden.RequireEqual(t, finalScreen(t, tm, 100, 24))
}

func TestGoldenReader(t *testing.T) {
	_, _, opts := twoAccounts(10)
	tm := startTeatest(t, 80, 24, opts)
	waitScreen(t, tm, "Message number 5")
	typeKeys(tm, "j", "j", "j", "j", "enter")
	waitScreen(t, tm, "report.pdf")
	golden.RequireEqual(t, finalScreen(t, tm, 80, 24))
}

func TestGoldenComposer(t *testing.T) {
	_, _, opts := twoAccounts(10)
	tm := startTeatest(t, 80, 20, opts)
	waitScreen(t, tm, "Message number 5")
	typeKeys(tm, "r")
	waitScreen(t, tm, "save draft")
	tm.Type("See you then.")
	waitScreen(t, tm, "then.")
	golden.RequireEqual(t, finalScreen(t, tm, 80, 20))
}

func TestGoldenSmallest(t *testing.T) {
	_, _, opts := twoAccounts(30)
	tm := startTeatest(t, 60, 15, opts)
	waitScreen(t, tm, "Message number 5")
	typeKeys(tm, "/")
	tm.Type("number 1")
	waitScreen(t, tm, `search "number 1"`)
	golden.RequireEqual(t, finalScreen(t, tm, 60, 15))
}

func TestGoldenHelp(t *testing.T) {
	_, _, opts := twoAccounts(3)
	tm := startTeatest(t, 110, 30, opts)
	waitScreen(t, tm, "Message number 3")
	typeKeys(tm, "?")
	waitScreen(t, tm, "Keys")
	golden.RequireEqual(t, finalScreen(t, tm, 110, 30))
}

func TestGoldenWizard(t *testing.T) {
	tm := startTeatest(t, 90, 20, Options{Setup: &fakeSetup{}})
	waitScreen(t, tm, "E-mail address")
	tm.Type("ann@example.test")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitScreen(t, tm, "Password")
	golden.RequireEqual(t, finalScreen(t, tm, 90, 20))
}
