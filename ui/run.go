package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// RunOptions configure Run.
type RunOptions struct {
	Accounts    []Backend
	Setup       Setup
	Settings    Settings
	SyncOnStart bool
	Log         *slog.Logger
	// In and Out are the terminal; os.Stdin and os.Stdout when nil.
	In  io.Reader
	Out io.Writer
}

// Run shows the interface until the user quits or ctx ends. It takes the
// whole terminal (alternate screen, mouse); nothing else may write to it
// meanwhile (log to a file: see OpenLog).
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
	c := NewCommon(r, o.Settings.Theme, o.Settings.Keys, o.Log)
	m := New(ctx, c, Options{Accounts: o.Accounts, Setup: o.Setup, SyncInterval: interval,
		SyncOnStart: o.SyncOnStart, Threads: o.Settings.Threads})
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx),
		tea.WithInput(in), tea.WithOutput(out))
	final, err := p.Run()
	if fm, ok := final.(Model); ok {
		fm.Close()
	} else {
		m.Close()
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
