package ui

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/letterbox-mail/letterbox/internal/testpeer"
)

// recorder is a notification service that records Notify calls.
type notifyRecorder struct {
	mu    sync.Mutex
	calls []Notification
}

func (r *notifyRecorder) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Notification{App: app, Icon: icon, Summary: summary, Body: body})
	return uint32(len(r.calls)), nil
}

// TestDesktopNotificationOverPrivateBus runs itself again under dbus-run-session (a
// private session bus), where a recorder takes the name
// org.freedesktop.Notifications and Send must reach it.
func TestDesktopNotificationOverPrivateBus(t *testing.T) {
	if os.Getenv("LETTERBOX_NOTIFY_CHILD") == "" {
		runner := testpeer.Require(t, "dbus-run-session", "dbus")
		testpeer.Require(t, "dbus-daemon", "dbus-daemon")
		cmd := exec.Command(runner, "--", os.Args[0], "-test.run", "^TestDesktopNotificationOverPrivateBus$", "-test.v")
		cmd.Env = append(os.Environ(), "LETTERBOX_NOTIFY_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestDesktopNotificationOverPrivateBus") {
			t.Fatalf("under dbus-run-session: %v\n%s", err, out)
		}
		return
	}
	addr, ok := sessionBusAddress(os.Getenv)
	if !ok {
		t.Fatal("dbus-run-session gave no bus address")
	}
	srv, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	rec := &notifyRecorder{}
	if err := srv.Export(rec, notifyObject, notifyService); err != nil {
		t.Fatal(err)
	}
	if reply, err := srv.RequestName(notifyService, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request name: %v %v", reply, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := sendNotification(ctx, addr, Notification{App: "letterbox", Icon: "mail-unread", Summary: "2 new messages", Body: "Ann <ann@example.test>: Q3 & more"})
	if err != nil || id != 1 {
		t.Fatalf("send: %d %v", id, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := Notification{App: "letterbox", Icon: "mail-unread", Summary: "2 new messages", Body: "Ann &lt;ann@example.test&gt;: Q3 &amp; more"}
	if len(rec.calls) != 1 || rec.calls[0] != want {
		t.Fatalf("recorded %+v", rec.calls)
	}
}

func TestSessionBusAddress(t *testing.T) {
	vars := map[string]string{}
	get := func(k string) string { return vars[k] }
	if _, ok := sessionBusAddress(get); ok {
		t.Fatal("an address without a bus")
	}
	vars["XDG_RUNTIME_DIR"] = t.TempDir() // no socket in it
	if _, ok := sessionBusAddress(get); ok {
		t.Fatal("an address without a socket")
	}
	vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/run/user/1/bus"
	if a, ok := sessionBusAddress(get); !ok || a != "unix:path=/run/user/1/bus" {
		t.Fatal(a)
	}
	if _, err := sendNotification(context.Background(), "", Notification{}); err != errNoBus {
		t.Fatal(err)
	}
}
