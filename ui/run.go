package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// RunOptions configure Run.
type RunOptions struct {
	// Accounts are the caller's: Run does not close them, and the caller
	// may close them as soon as Run returns.
	Accounts []Backend
	// Setup runs the wizard; the Backends it opens belong to the
	// interface, which closes those that are io.Closers (AccountBackend
	// is) before Run returns.
	Setup       Setup
	Settings    Settings
	SyncOnStart bool
	// Desktop shows a desktop notification of new mail (package main
	// wires it to D-Bus when there is a session bus); nil: none, and
	// Settings.Notify "auto" rings the bell instead.
	Desktop func(ctx context.Context, summary, body string) error
	Log     *slog.Logger
	// In and Out are the terminal; os.Stdin and os.Stdout when nil.
	In  io.Reader
	Out io.Writer
}

// Run shows the interface until the user quits or ctx ends. It takes the
// whole terminal (alternate screen, mouse); nothing else may write to it
// meanwhile (log to a file: see OpenLog).
//
// A hangup of the terminal (SIGHUP) ends it as quitting does; so does
// the end of ctx. Before it returns, Run cancels the context of the interface's work and
// waits for every call into the accounts that is still running (a sync,
// a search) to return; later calls fail at once. So when Run returns,
// nothing of the interface uses o.Accounts any more, and the accounts the
// wizard opened are closed.
func Run(ctx context.Context, o RunOptions) error {
	out := o.Out
	if out == nil {
		out = os.Stdout
	}
	in := o.In
	if in == nil {
		in = os.Stdin
	}
	r := lipgloss.NewRenderer(out)
	if o.Settings.Theme.NoColor {
		// NO_COLOR asks for no colours, not for no bold or reverse.
		r.SetColorProfile(termenv.ANSI)
	}
	interval, err := parseInterval(o.Settings.SyncInterval)
	if err != nil {
		return err
	}
	// A hangup (the terminal window closed, the SSH session dropped)
	// ends the interface as Q does, so that the caller's clean-up runs;
	// by default it would kill the process.
	ctx, stopHangup := signal.NotifyContext(ctx, syscall.SIGHUP)
	defer stopHangup()
	// The copies handed to the browser or an attachment's viewer live
	// in a private directory that goes when the interface does (a
	// viewer still reading one then loses it).
	tmp, err := os.MkdirTemp("", "letterbox-ui-")
	if err != nil {
		return fmt.Errorf("interface: %w", err)
	}
	defer os.RemoveAll(tmp)
	work, cancel := context.WithCancel(ctx)
	defer cancel()
	g := newGate()
	backends := make([]Backend, len(o.Accounts))
	for i, b := range o.Accounts {
		backends[i] = gatedBackend{b: b, g: g}
	}
	var setup *gatedSetup
	var wizard Setup
	if o.Setup != nil {
		setup = &gatedSetup{s: o.Setup, g: g}
		wizard = setup
	}
	c := NewCommon(r, o.Settings.Theme, o.Settings.Keys, o.Log)
	c.Wrap = o.Settings.Wrap
	// The bell is one byte, written between the renderer's writes.
	bell := func() { io.WriteString(out, "\a") }
	m := New(work, c, Options{Accounts: backends, Setup: wizard, SyncInterval: interval,
		SyncOnStart: o.SyncOnStart, Threads: o.Settings.Threads, TempDir: tmp, Watch: !o.Settings.NoWatch,
		Notify: o.Settings.Notify, Desktop: o.Desktop, Bell: bell})
	popts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)}
	if !o.Settings.NoMouse {
		// Clicks select, the wheel scrolls; without it the terminal
		// keeps the mouse for selecting text.
		popts = append(popts, tea.WithMouseCellMotion())
	}
	p := tea.NewProgram(m, popts...)
	final, err := p.Run()
	// The program has stopped: no Update runs any more, but the
	// goroutines of its Cmds may. Stop them and wait for them.
	cancel()
	g.close()
	if fm, ok := final.(Model); ok {
		fm.Close()
	} else {
		m.Close()
	}
	if setup != nil {
		if cerr := setup.closeOpened(); cerr != nil && o.Log != nil {
			o.Log.Error("closing an account added in the interface", "err", cerr)
		}
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

func parseInterval(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("ui.sync_interval %q: want a duration such as 5m, or 0", s)
	}
	if d < 30*time.Second {
		d = 30 * time.Second
	}
	return d, nil
}

// OpenLog opens $XDG_STATE_HOME/letterbox/NAME.log (or
// ~/.local/state/letterbox/NAME.log) for appending and returns a logger
// on it: the interface never writes diagnostics to the terminal.
func OpenLog(name string) (*slog.Logger, *os.File, string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil, "", fmt.Errorf("log: %w", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	dir = filepath.Join(dir, "letterbox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, "", fmt.Errorf("log: %w", err)
	}
	path := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, "", fmt.Errorf("log: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo})), f, path, nil
}
