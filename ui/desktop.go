package ui

// Desktop notifications over the D-Bus session bus
// (org.freedesktop.Notifications, the Desktop Notifications
// Specification 1.2, method Notify), for the new-mail notice
// (notify.go). No bus is ever started (no autolaunch): without a session
// bus address ($DBUS_SESSION_BUS_ADDRESS, or $XDG_RUNTIME_DIR/bus)
// DesktopNotifier returns nil and the notice rings the bell. The bus is
// a local socket, not the network.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

// The notification service, its object and method (spec section
// "D-BUS Protocol").
const (
	notifyService = "org.freedesktop.Notifications"
	notifyObject  = "/org/freedesktop/Notifications"
	notifyMethod  = notifyService + ".Notify"
)

// errNoBus is returned when no session bus is there.
var errNoBus = errors.New("no D-Bus session bus")

// Notification is what a desktop notification shows.
type Notification struct {
	App     string // the application's name ("letterbox")
	Icon    string // an icon name of the theme ("mail-unread"), may be empty
	Summary string // one line
	Body    string // a few lines; the spec allows simple markup, so it is escaped
}

// sessionBusAddress returns the session bus address: $DBUS_SESSION_BUS_ADDRESS,
// else the socket $XDG_RUNTIME_DIR/bus when it exists.
func sessionBusAddress(getenv func(string) string) (string, bool) {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return a, true
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
		p := filepath.Join(dir, "bus")
		if st, err := os.Stat(p); err == nil && st.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + p, true
		}
	}
	return "", false
}

// sendNotification shows n through the notification service on the bus
// at address and returns the id the server gave it. It connects for this one call:
// new mail is rare, and no connection outlives the call.
func sendNotification(ctx context.Context, address string, n Notification) (uint32, error) {
	if address == "" {
		return 0, errNoBus
	}
	conn, err := dbus.Connect(address, dbus.WithContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("notify: connect to the session bus: %w", err)
	}
	defer conn.Close()
	var id uint32
	err = conn.Object(notifyService, notifyObject).CallWithContext(ctx, notifyMethod, 0,
		n.App, uint32(0), n.Icon, n.Summary, escapeMarkup(n.Body), []string{}, map[string]dbus.Variant{}, int32(-1)).Store(&id)
	if err != nil {
		return 0, fmt.Errorf("notify: %s: %w", notifyMethod, err)
	}
	return id, nil
}

// escapeMarkup makes text safe for the body's markup (spec: "Markup"): &, <
// and > as entities.
func escapeMarkup(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			out = append(out, "&amp;"...)
		case '<':
			out = append(out, "&lt;"...)
		case '>':
			out = append(out, "&gt;"...)
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}

// DesktopNotifier returns RunOptions.Desktop for the session bus that
// getenv points at, or nil when there is none. Each notification
// connects for its one call: new mail is rare, and no connection
// outlives the call.
func DesktopNotifier(getenv func(string) string) func(ctx context.Context, summary, body string) error {
	addr, ok := sessionBusAddress(getenv)
	if !ok {
		return nil
	}
	return func(ctx context.Context, summary, body string) error {
		_, err := sendNotification(ctx, addr, Notification{App: "letterbox", Icon: "mail-unread", Summary: summary, Body: body})
		return err
	}
}
