package desk_test

import (
	"strings"
	"testing"
	"time"

	"sessiondesk/app/internal/testbus"
	"sessiondesk/app/notify"
	"sessiondesk/backend/platformtest"
)

// notifyingEnv is a workstation whose desk notifies over a private D-Bus,
// with a recording notification service on it when serve (else none).
func notifyingEnv(t *testing.T, serve bool) (*env, *testbus.Notifications) {
	t.Helper()
	addr := testbus.Start(t)
	var rec *testbus.Notifications
	if serve {
		rec = testbus.Serve(t, addr)
	}
	n := notify.Connect(addr, nil)
	t.Cleanup(func() { n.Close() })
	e := newEnv(t)
	e.Config.Notifier = n
	return e, rec
}

// New-device detection end to end: the real platform, the real cache file,
// real D-Bus (a private bus with a recording notification service).
func TestNewDeviceNotifiedOnceAcrossRestarts(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e, rec := notifyingEnv(t, true)
	d, _ := e.Synced(t, p, "admin@acme.test")
	if got := rec.Notes(); len(got) != 0 {
		t.Fatalf("first sync notified %d devices: %v", len(got), got)
	}

	// A sign-in from a brand-new device on the platform.
	p.Login(t, "acme", "member@acme.test")
	syncNow(t, d)
	got := rec.Notes()
	if len(got) != 1 {
		t.Fatalf("notifications after a new device: %d %v", len(got), got)
	}
	if !strings.Contains(got[0].Body, "member@acme.test") || got[0].Summary != "New device signed in" {
		t.Fatalf("note = %+v", got[0])
	}

	syncNow(t, d)
	if len(rec.Notes()) != 1 {
		t.Fatalf("second sync notified again: %v", rec.Notes())
	}

	// A restart: new Desk, new cache handle, same profile.
	d.Close()
	d2 := e.Open(t)
	if !d2.State().SignedIn {
		t.Fatal("restart did not resume")
	}
	syncNow(t, d2)
	if len(rec.Notes()) != 1 {
		t.Fatalf("restart notified again: %v", rec.Notes())
	}

	// Another new device after the restart: exactly one more.
	p.Login(t, "acme", "auditor@acme.test")
	syncNow(t, d2)
	syncNow(t, d2)
	if notes := rec.Notes(); len(notes) != 2 || !strings.Contains(notes[1].Body, "auditor@acme.test") {
		t.Fatalf("after a second new device: %v", notes)
	}
}

// Without a notification service the sync still succeeds.
func TestMissingNotificationServiceIsNotFatal(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e, _ := notifyingEnv(t, false) // nobody owns org.freedesktop.Notifications
	d, _ := e.Synced(t, p, "admin@acme.test")
	p.Login(t, "acme", "member@acme.test")
	if st := syncNow(t, d); !st.Online || st.LastError != "" {
		t.Fatalf("status = %+v", st)
	}
	eventually(t, time.Second, "warning logged", func() bool { return strings.Contains(e.Logs.String(), "notification") })
}
